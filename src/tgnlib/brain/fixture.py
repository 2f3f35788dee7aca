"""A small synthetic BIDS dataset laid out like ds003171, to exercise the real-data path offline.

Each subject has one rest run per sedation state. Inside an ellipsoidal "brain", the BOLD signal
is a mixture of ``sources[state]`` spatially smooth blobs (unit variance in every voxel) with independent slow (0.01-0.1 Hz) time
courses, plus white noise, on a baseline intensity: fewer sources means a lower-dimensional
signal, so the planted rank ordering is known. A few scattered "vessel" voxels carry strong
independent noise, which is what nilearn's high-variance confounds are meant to find. Nothing here is meant to look like a brain; it
only has the files, names, headers and sidecars the pipeline reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEFAULT_SOURCES = {"awake": 20, "light": 10, "deep": 2, "recovery": 15}


def _slow_timecourses(rng, n: int, n_volumes: int, t_r: float) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, [0.01, 0.1], btype="band", fs=1.0 / t_r, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal((n, n_volumes + 60)), axis=1)[:, 30:-30]
    return x / x.std(axis=1, keepdims=True)


def make_bids_fixture(root, subjects=("01", "02", "03"), n_volumes: int = 100, shape=(16, 16, 12), voxel_mm: float = 4.0,
                      t_r: float = 2.0, sources: dict | None = None, noise: float = 0.1, seed: int = 0) -> Path:
    """Write a ds003171-like BIDS folder of synthetic rest runs.

    Parameters
    ----------
    root : path
        Folder to create (``dataset_description.json``, ``task-rest<state>_bold.json``,
        ``sub-<label>/func/sub-<label>_task-rest<state>_bold.nii.gz``).
    subjects : sequence of str, default ("01", "02", "03")
    n_volumes : int, default 100
    shape : 3 ints, default (16, 16, 12)
        Voxels per axis.
    voxel_mm : float, default 4.0
    t_r : float, default 2.0
        Seconds; written to the sidecars and the NIfTI header.
    sources : dict, optional
        Number of independent sources per state; default :data:`DEFAULT_SOURCES`.
    noise : float, default 0.3
        White-noise standard deviation relative to one source's amplitude.
    seed : int, default 0

    Returns
    -------
    pathlib.Path
        ``root``.
    """
    import nibabel

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
    for subject in subjects:
        func = root / f"sub-{subject}" / "func"
        func.mkdir(parents=True, exist_ok=True)
        for state, k in sources.items():
            centres = grid[brain][rng.choice(brain.sum(), size=k, replace=False)]
            maps = np.exp(-((grid[..., None, :] - centres) ** 2).sum(-1) / (2 * 0.5**2))
            maps = maps / np.sqrt((maps**2).sum(-1, keepdims=True))  # unit signal variance in every voxel
            signal = maps @ _slow_timecourses(rng, k, n_volumes, t_r)
            vessels = rng.random(brain.shape) < 0.02
            signal = signal + 10 * noise * vessels[..., None] * rng.standard_normal(signal.shape)
            data = 1000.0 * brain[..., None] * (1 + 0.02 * (signal + noise * rng.standard_normal(signal.shape)))
            img = nibabel.Nifti1Image(data.astype(np.float32), affine)
            img.header.set_xyzt_units("mm", "sec")
            img.header["pixdim"][4] = t_r
            nibabel.save(img, func / f"sub-{subject}_task-rest{state}_bold.nii.gz")
    return root
