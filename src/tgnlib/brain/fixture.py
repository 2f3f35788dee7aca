"""A small synthetic BIDS dataset laid out like ds003171, to exercise the real-data path offline.

Subject labels are like the dataset's (``02CB``). Each subject has one rest run per sedation state,
or two (``run-1``, ``run-2``) where asked. Optionally the head moves (the whole image shifts for a
few frames: the realignment and scrubbing must find it), and optionally fMRIPrep-like derivatives
are written beside (the unmoved images and a confounds table with the planted motion), so both
motion paths of :mod:`tgnlib.brain.preprocess` run offline. Inside an ellipsoidal "brain", the BOLD signal
is a mixture of ``sources[state]`` spatially smooth blobs (unit variance in every voxel) with independent slow (0.01-0.1 Hz) time
courses, plus white noise, on a baseline intensity: fewer sources means a lower-dimensional
signal, so the planted rank ordering is known. A few scattered "vessel" voxels carry strong
independent noise, which is what nilearn's high-variance confounds are meant to find. Nothing here is meant to look like a brain; it
only has the files, names, headers and sidecars the pipeline reads.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
from scipy import ndimage

DEFAULT_SOURCES = {"awake": 20, "light": 10, "deep": 2, "recovery": 15}


def _slow_timecourses(rng, n: int, n_volumes: int, t_r: float) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, [0.01, 0.1], btype="band", fs=1.0 / t_r, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal((n, n_volumes + 60)), axis=1)[:, 30:-30]
    return x / x.std(axis=1, keepdims=True)


def make_bids_fixture(root, subjects=("01CB", "02CB", "03CB"), n_volumes: int = 100, shape=(16, 16, 12), voxel_mm: float = 4.0,
                      t_r: float = 2.0, sources: dict | None = None, noise: float = 0.1, two_runs: dict | None = None,
                      motion_mm: float = 0.0, derivatives: bool = False, seed: int = 0) -> Path:
    """Write a ds003171-like BIDS folder of synthetic rest runs.

    Parameters
    ----------
    root : path
        Folder to create (``dataset_description.json``, ``task-rest<state>_bold.json``,
        ``sub-<label>/func/sub-<label>_task-rest<state>_bold.nii.gz``).
    subjects : sequence of str, default ("01CB", "02CB", "03CB")
    n_volumes : int, default 100
    shape : 3 ints, default (16, 16, 12)
        Voxels per axis.
    voxel_mm : float, default 4.0
    t_r : float, default 2.0
        Seconds; written to the sidecars and the NIfTI header.
    sources : dict, optional
        Number of independent sources per state; default :data:`DEFAULT_SOURCES`.
    noise : float, default 0.1
        White-noise standard deviation relative to one source's amplitude.
    two_runs : dict, optional
        ``{subject: state}``: that subject's state gets two runs (``run-1``, ``run-2``).
    motion_mm : float, default 0
        Planted head motion: in every run the image shifts by this much along x for 4 frames
        starting at a random frame (framewise displacement ``motion_mm`` at each jump).
    derivatives : bool, default False
        Also write ``derivatives/fmriprep/sub-<label>/func/<run>_space-T1w_desc-preproc_bold.nii.gz``
        (the image before the planted motion) and ``<run>_desc-confounds_timeseries.tsv`` (the
        planted translations, their FD, the global signal, and white-matter and CSF signals that,
        like real tissue signals, carry none of the grey-matter sources).
    seed : int, default 0

    Returns
    -------
    pathlib.Path
        ``root``.
    """
    sources = dict(DEFAULT_SOURCES if sources is None else sources)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(json.dumps({"Name": "ds003171-like fixture", "BIDSVersion": "1.8.0"}))
    for state in sources:
        (root / f"task-rest{state}_bold.json").write_text(json.dumps({"RepetitionTime": t_r, "TaskName": f"rest{state}"}))
    grid = np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij"), axis=-1)
    brain = (grid**2).sum(-1) < 0.9
    affine = np.diag([voxel_mm, voxel_mm, voxel_mm, 1.0])
    affine[:3, 3] = -voxel_mm * (np.array(shape) - 1) / 2
    rng = np.random.default_rng(seed)
    # A smooth, lopsided anatomy under the signals (its own random stream), so rigid registration has
    # something to lock on to: a uniform ellipsoid would leave its rotations undetermined.
    anatomy = ndimage.gaussian_filter(np.random.default_rng(seed + 1).standard_normal(shape), 1.0)
    anatomy = 1.0 + 0.4 * anatomy / anatomy.std() + 0.1 * grid[..., 0]
    for subject in subjects:
        func = root / f"sub-{subject}" / "func"
        func.mkdir(parents=True, exist_ok=True)
        for state, k in sources.items():
            n_runs = 2 if (two_runs or {}).get(subject) == state else 1
            for run in range(1, n_runs + 1):
                stem = f"sub-{subject}_task-rest{state}" + (f"_run-{run}" if n_runs > 1 else "")
                centres = grid[brain][rng.choice(brain.sum(), size=k, replace=False)]
                maps = np.exp(-((grid[..., None, :] - centres) ** 2).sum(-1) / (2 * 0.5**2))
                maps = maps / np.sqrt((maps**2).sum(-1, keepdims=True))  # unit signal variance in every voxel
                signal = maps @ _slow_timecourses(rng, k, n_volumes, t_r)
                vessels = rng.random(brain.shape) < 0.02
                signal = signal + 30 * noise * vessels[..., None] * rng.standard_normal(signal.shape)
                signal = signal + noise * rng.standard_normal(signal.shape)
                data = (1000.0 * (brain * anatomy)[..., None] * (1 + 0.02 * signal)).astype(np.float32)
                shift_mm = np.zeros(n_volumes)
                if motion_mm:
                    start = rng.integers(10, n_volumes - 14)
                    shift_mm[start:start + 4] = motion_mm
                moved = data.copy()
                for t in np.flatnonzero(shift_mm):
                    moved[..., t] = ndimage.shift(data[..., t], (shift_mm[t] / voxel_mm, 0, 0), order=1)
                _save(moved, affine, t_r, func / f"{stem}_bold.nii.gz")
                if derivatives:
                    _write_fmriprep(root / "derivatives" / "fmriprep" / f"sub-{subject}" / "func", stem, data, affine, t_r, brain, shift_mm,
                                    np.random.default_rng([seed, zlib.crc32(stem.encode())]))
    return root


def _save(data, affine, t_r: float, path: Path) -> None:
    import nibabel

    img = nibabel.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = t_r
    nibabel.save(img, path)


def _write_fmriprep(folder: Path, stem: str, data, affine, t_r: float, brain, shift_mm, rng) -> None:
    """fMRIPrep-like outputs of one run: its image (motion already undone) and confounds table.

    The white-matter and CSF columns are the baseline plus independent noise (from ``rng``, a stream of
    their own, so the images do not change): the fixture has no tissue outside its grey-matter sources. Means
    over halves of the brain, as they once were, carry the sources themselves, and regressing two of them
    out of a 2-source state left mostly noise: the fMRIPrep path then read the deep state as the
    highest-rank one in every subject (26 vs 17 awake), the planted order inverted.
    """
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    _save(data, affine, t_r, folder / f"{stem}_space-T1w_desc-preproc_bold.nii.gz")
    voxels = data[brain]  # (V, T)
    fd = np.concatenate([[np.nan], np.abs(np.diff(shift_mm))])
    zeros = np.zeros(len(shift_mm))
    dvars = np.concatenate([[np.nan], np.sqrt((np.diff(voxels, axis=1) ** 2).mean(0))])
    tissue = 1000.0 * (1 + 0.02 * rng.standard_normal((2, len(shift_mm))))  # CSF, white matter: no sources
    table = pd.DataFrame({"global_signal": voxels.mean(0), "csf": tissue[0], "white_matter": tissue[1],
                          "std_dvars": dvars / np.nanmedian(dvars),
                          "framewise_displacement": fd, "trans_x": shift_mm, "trans_y": zeros, "trans_z": zeros,
                          "rot_x": zeros, "rot_y": zeros, "rot_z": zeros})
    table.to_csv(folder / f"{stem}_desc-confounds_timeseries.tsv", sep="\t", index=False, na_rep="n/a")
    (folder / f"{stem}_desc-confounds_timeseries.json").write_text(json.dumps({}))
