"""Preprocessing of raw BIDS BOLD in subject space, with nilearn (and dipy for realignment).

ds003171 ships raw images in each subject's scanner space and no MNI-space derivatives, so no
atlas can be applied without a registration we do not perform. Instead each subject gets a
**data-driven parcellation** (Ward clustering, ``nilearn.regions.Parcellations``) fitted on all of
that subject's runs together, so the same parcels are compared across sedation states; parcel
centroids are in the subject's scanner mm, which is what the long-/short-range split needs.

Head motion, two ways (``motion``):

* ``"realign"`` (raw data, the default): every volume of a run is rigidly registered to the run's
  middle volume with ``dipy.align.register_series`` (one rigid stage; mutual information,
  a three-level pyramid), the six parameters give the framewise displacement (FD) of Power et al.
  (2012; rotations as arc length on a 50-mm sphere), the parameters are regressed out, and frames
  with FD above a threshold (0.5 mm, Power et al.'s; Huang, Mashour and Hudetz 2023 scrub by FD on
  these data, and we could not check their threshold offline) are censored with the frame before
  and the two after.
* ``"fmriprep"``: when a user has fMRIPrep derivatives, the preprocessed run and its confounds are
  read with the field's loader, ``nilearn.interfaces.fmriprep.load_confounds`` (motion, white
  matter and CSF, FD/DVARS scrubbing), the standard in the field.

Cleaning (``nilearn.maskers.NiftiLabelsMasker`` / ``nilearn.signal.clean``): linear detrend,
Butterworth band-pass 0.01-0.1 Hz, the motion confounds above, the top high-variance
(CompCor-like) confounds of ``nilearn.image.high_variance_confounds``, optionally the global
signal, then z-scoring; censored frames are left out (nilearn interpolates them for the filter).
DVARS (Power et al. 2012: RMS over brain voxels of the volume-to-volume change, run median scaled
to 1000) and mean FD are kept per state as covariates for the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .sedation import BoldRun, repetition_time

BAND_HZ = (0.01, 0.1)
MOTION = ("realign", "fmriprep")
FD_THRESHOLD_MM = 0.5  # Power et al. (2012)
HEAD_RADIUS_MM = 50.0  # rotations to arc length, as in Power et al. (2012)


@dataclass
class SubjectSignals:
    """A subject's cleaned parcel time series per state (one array per run), with centroids and motion."""

    subject: str
    timeseries: dict[str, list[np.ndarray]]  # state -> [(T_kept, P) per run]
    centroids_mm: np.ndarray
    dvars: dict[str, float]  # state -> mean DVARS over its runs
    mean_fd_mm: dict[str, float]  # state -> mean framewise displacement over its runs
    kept: dict[str, float]  # state -> fraction of frames left after scrubbing
    t_r: float
    global_signal_regressed: bool
    n_parcels: int = field(init=False)

    def __post_init__(self):
        self.n_parcels = len(self.centroids_mm)


# --- motion -------------------------------------------------------------------------------------


def motion_parameters(affines) -> np.ndarray:
    """The six rigid parameters of each volume's registration affine.

    Parameters
    ----------
    affines : array, shape (4, 4, T)
        As returned by ``dipy.align.register_series``.

    Returns
    -------
    numpy.ndarray, shape (T, 6)
        Translations along x, y, z (mm) and rotations about x, y, z (radians, extrinsic xyz).
    """
    from scipy.spatial.transform import Rotation

    a = np.asarray(affines, dtype=float)
    if a.ndim != 3 or a.shape[:2] != (4, 4):
        raise ValueError(f"affines must have shape (4, 4, T); got {a.shape}")
    rotations = Rotation.from_matrix(np.moveaxis(a[:3, :3], -1, 0)).as_euler("xyz")
    return np.column_stack([a[:3, 3].T, rotations])


def framewise_displacement(parameters, radius_mm: float = HEAD_RADIUS_MM) -> np.ndarray:
    """Framewise displacement (Power et al. 2012): summed absolute change of the six parameters.

    Parameters
    ----------
    parameters : array, shape (T, 6)
        Translations (mm) then rotations (radians), as from :func:`motion_parameters`.
    radius_mm : float, default 50
        Rotations become arc lengths on a sphere of this radius.

    Returns
    -------
    numpy.ndarray, shape (T,)
        In mm; 0 for the first frame.
    """
    x = np.asarray(parameters, dtype=float)
    if x.ndim != 2 or x.shape[1] != 6:
        raise ValueError(f"parameters must have shape (T, 6); got {x.shape}")
    d = np.abs(np.diff(x, axis=0))
    return np.concatenate([[0.0], d[:, :3].sum(1) + radius_mm * d[:, 3:].sum(1)])


def scrub_mask(fd, threshold_mm: float = FD_THRESHOLD_MM, before: int = 1, after: int = 2) -> np.ndarray:
    """Frames to keep: those not within ``before``/``after`` frames of an FD above the threshold.

    Parameters
    ----------
    fd : array, shape (T,)
        Framewise displacement, mm.
    threshold_mm : float, default 0.5
    before, after : int, default 1 and 2
        Neighbours censored with each flagged frame (Power et al. 2012).

    Returns
    -------
    numpy.ndarray of bool, shape (T,)
    """
    fd = np.asarray(fd, dtype=float)
    keep = np.ones(len(fd), dtype=bool)
    for t in np.flatnonzero(fd > threshold_mm):
        keep[max(0, t - before):t + after + 1] = False
    return keep


def realign_run(run_path, cache_dir=None):
    """Rigid realignment of every volume of a run to its middle volume (``dipy.align.register_series``).

    Parameters
    ----------
    run_path : path
        A 4D BOLD image.
    cache_dir : path or None
        Where the realigned image and its parameters are kept (``<run>_desc-realigned_bold.nii.gz``
        and ``<run>_motion.tsv``), so a second call (another GSR choice, a resumed run) reads them.

    Returns
    -------
    (image, parameters)
        The realigned ``Nifti1Image`` and the (T, 6) parameters of :func:`motion_parameters`.
    """
    import nibabel

    run_path = Path(run_path)
    if cache_dir is not None:
        image_file, motion_file = realigned_paths(run_path, cache_dir)
        if image_file.exists() and motion_file.exists():
            return nibabel.load(image_file), pd.read_csv(motion_file, sep="\t").to_numpy()
    import logging

    from dipy.align import register_series

    img = nibabel.load(run_path)
    log = logging.getLogger("dipy")
    level = log.level
    log.setLevel(logging.WARNING)  # dipy logs three lines per volume
    try:
        # three pyramid levels: two left rotations visibly under-converged (FD noise 0.27 vs 0.14 mm on the fixture).
        # One rigid (6-parameter) stage from the identity, as SPM's and FSL's realignment do: a translation-only
        # stage first took a third of the time and changed nothing that matters on the fixture's 200-volume runs
        # (the planted 2-mm jumps read 2.5-2.7 mm either way, quiet-frame FD 0.18 mm in both)
        data, affines = register_series(img, img.shape[-1] // 2, pipeline=["rigid"], level_iters=[100, 100, 50])
    finally:
        log.setLevel(level)
    realigned = nibabel.Nifti1Image(np.asarray(data, dtype=np.float32), img.affine, img.header)
    parameters = motion_parameters(affines)
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp = image_file.with_name(".tmp-" + image_file.name)
        nibabel.save(realigned, tmp)
        tmp.replace(image_file)  # written whole or not at all
        columns = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]  # fMRIPrep's names
        tmp = motion_file.with_name(".tmp-" + motion_file.name)
        pd.DataFrame(parameters, columns=columns).to_csv(tmp, sep="\t", index=False)
        tmp.replace(motion_file)  # written last and whole: its presence marks the run realigned
    return realigned, parameters


def realigned_paths(run_path, cache_dir) -> tuple[Path, Path]:
    """Where :func:`realign_run` keeps a run's realigned image and its motion parameters.

    Parameters
    ----------
    run_path : path
        The raw 4D BOLD image.
    cache_dir : path

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        ``<cache_dir>/<run>_desc-realigned_bold.nii.gz`` and ``<cache_dir>/<run>_motion.tsv`` (written
        second, so its presence marks the run finished).
    """
    stem = Path(run_path).name.split(".nii")[0].removesuffix("_bold")
    return Path(cache_dir) / f"{stem}_desc-realigned_bold.nii.gz", Path(cache_dir) / f"{stem}_motion.tsv"


def realign_runs(runs: list[BoldRun], cache_dir, n_jobs: int = 1, progress: bool = True) -> None:
    """Realign many runs into ``cache_dir`` (:func:`realign_run`), in ``n_jobs`` worker processes.

    Runs already in the cache are skipped, so a killed call resumes; afterwards every
    :func:`realign_run` of these runs with this ``cache_dir`` is a read.

    Parameters
    ----------
    runs : list of BoldRun
    cache_dir : path
    n_jobs : int, default 1
    progress : bool, default True
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    paths = [r.path for r in runs]
    if n_jobs <= 1:
        for path in tqdm(paths, desc="realigning runs", disable=not progress):
            realign_run(path, cache_dir)
        return
    with ProcessPoolExecutor(n_jobs) as pool:
        list(tqdm(pool.map(realign_run, paths, [cache_dir] * len(paths)), total=len(paths), desc="realigning runs", disable=not progress))


def fmriprep_run(run: BoldRun, derivatives, space: str = "T1w") -> Path:
    """The fMRIPrep-preprocessed image of a raw run, in a given space.

    Parameters
    ----------
    run : BoldRun
    derivatives : path
        The fMRIPrep output folder (holds ``sub-<label>/func/``).
    space : str, default "T1w"
        Subject space, which keeps centroids in the subject's millimetres.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        Naming the file looked for and what the folder holds.
    """
    stem = run.path.name.split(".nii")[0].removesuffix("_bold")
    folder = Path(derivatives) / f"sub-{run.subject}" / "func"
    want = folder / f"{stem}_space-{space}_desc-preproc_bold.nii.gz"
    if not want.exists():
        found = sorted(f.name for f in folder.glob(f"{stem}_*desc-preproc_bold.nii*")) if folder.is_dir() else []
        raise FileNotFoundError(f"no fMRIPrep image {want.name} in {folder}; found {found or 'nothing'} (space={space!r})")
    return want


def motion_confounds(run: BoldRun, motion: str = "realign", derivatives=None, fd_threshold_mm: float = FD_THRESHOLD_MM,
                     cache_dir=None):
    """The image to clean, its motion confounds and the frames to keep, for one run.

    Parameters
    ----------
    run : BoldRun
    motion : {"realign", "fmriprep"}, default "realign"
    derivatives : path or None
        fMRIPrep output folder; needed for ``motion="fmriprep"``.
    fd_threshold_mm : float, default 0.5
    cache_dir : path or None
        For :func:`realign_run`.

    Returns
    -------
    (image, confounds, keep, fd)
        Image (path or ``Nifti1Image``); confounds (T, k) array; boolean (T,) frames kept; FD (T,), mm.
    """
    if motion == "realign":
        image, parameters = realign_run(run.path, cache_dir)
        fd = framewise_displacement(parameters)
        return image, parameters, scrub_mask(fd, fd_threshold_mm), fd
    if motion == "fmriprep":
        if derivatives is None:
            raise ValueError("motion='fmriprep' needs the fMRIPrep derivatives folder (derivatives=...)")
        from nilearn.interfaces.fmriprep import load_confounds

        image = fmriprep_run(run, derivatives)
        confounds, sample_mask = load_confounds(str(image), strategy=("motion", "wm_csf", "scrub"), motion="basic",
                                                fd_threshold=fd_threshold_mm, std_dvars_threshold=1.5)
        n = len(confounds)
        keep = np.ones(n, dtype=bool) if sample_mask is None else np.isin(np.arange(n), sample_mask)
        fd_file = Path(str(image).split("_space-")[0] + "_desc-confounds_timeseries.tsv")
        fd = pd.read_csv(fd_file, sep="\t")["framewise_displacement"].fillna(0.0).to_numpy()
        return image, confounds.to_numpy(), keep, fd
    raise ValueError(f"motion={motion!r} is not one of {MOTION}")


# --- masks, parcels and signals -----------------------------------------------------------------


def subject_mask(images):
    """Brain mask common to a subject's runs (``nilearn.masking.compute_multi_epi_mask``)."""
    from nilearn.masking import compute_multi_epi_mask

    return compute_multi_epi_mask([_nilearn_input(i) for i in images])


def _nilearn_input(image):
    return str(image) if isinstance(image, (str, Path)) else image


def parcellate(images, mask, n_parcels: int = 100, seed: int = 0):
    """Ward parcellation of a subject's brain, fitted on all of its runs.

    Parameters
    ----------
    images : list of path or Nifti1Image
        4D BOLD images of one subject (every state, so parcels are shared across states).
    mask : Nifti1Image
        From :func:`subject_mask`.
    n_parcels : int, default 100
    seed : int, default 0

    Returns
    -------
    Nifti1Image
        Integer labels 1..n_parcels, 0 outside the brain.
    """
    from nilearn.regions import Parcellations

    parcellation = Parcellations(method="ward", n_parcels=n_parcels, mask=mask, smoothing_fwhm=None, standardize="zscore_sample",
                                 detrend=True, random_state=seed)
    parcellation.fit([_nilearn_input(i) for i in images])
    return parcellation.labels_img_


def parcel_centroids(labels_img) -> np.ndarray:
    """Centre of mass of each parcel, in the image's world coordinates (mm).

    Returns
    -------
    numpy.ndarray, shape (P, 3)
        Rows in increasing label order (label 0, the background, excluded).
    """
    from nibabel.affines import apply_affine

    labels = np.asarray(labels_img.dataobj).astype(int)
    ids = np.unique(labels[labels > 0])
    voxel_centres = np.array([np.argwhere(labels == i).mean(axis=0) for i in ids])
    return apply_affine(labels_img.affine, voxel_centres)


def dvars(image, mask) -> float:
    """Mean DVARS of a run (intensity units after scaling the run's median to 1000).

    A head-motion proxy that needs no realignment parameters (Power et al. 2012).
    """
    from nilearn.masking import apply_mask

    x = apply_mask(_nilearn_input(image), mask).astype(float)
    x = x * (1000.0 / np.median(x[x > 0]))
    return float(np.sqrt((np.diff(x, axis=0) ** 2).mean(axis=1)).mean())


def clean_parcel_signals(image, labels_img, mask, t_r: float, global_signal: bool = False, n_confounds: int = 5,
                         confounds=None, keep=None) -> np.ndarray:
    """Cleaned parcel-mean time series of one run.

    Parameters
    ----------
    image : path or Nifti1Image
        4D BOLD image (realigned, or fMRIPrep's).
    labels_img, mask : Nifti1Image
        From :func:`parcellate` and :func:`subject_mask`.
    t_r : float
        Repetition time in seconds.
    global_signal : bool, default False
        Also regress out the mean signal over the brain mask (global signal regression).
    n_confounds : int, default 5
        High-variance confounds regressed out.
    confounds : array, shape (T, k), or None
        Further confounds (the motion parameters).
    keep : boolean array, shape (T,), or None
        Frames kept after scrubbing; default all.

    Returns
    -------
    numpy.ndarray, shape (T_kept, P)
    """
    from nilearn.image import high_variance_confounds
    from nilearn.maskers import NiftiLabelsMasker
    from nilearn.masking import apply_mask

    img = _nilearn_input(image)
    columns = [high_variance_confounds(img, n_confounds=n_confounds, mask_img=mask)]
    if confounds is not None:
        columns.append(np.asarray(confounds, dtype=float))
    if global_signal:
        columns.append(apply_mask(img, mask).mean(axis=1)[:, None])
    masker = NiftiLabelsMasker(labels_img=labels_img, mask_img=mask, detrend=True, standardize="zscore_sample",
                               low_pass=BAND_HZ[1], high_pass=BAND_HZ[0], t_r=t_r)
    sample_mask = None if keep is None or np.all(keep) else np.flatnonzero(keep)
    return masker.fit_transform(img, confounds=np.column_stack(columns), sample_mask=sample_mask)


def preprocess_subject(runs: list[BoldRun], n_parcels: int = 100, global_signal: bool = False, seed: int = 0,
                       motion: str = "realign", derivatives=None, fd_threshold_mm: float = FD_THRESHOLD_MM,
                       cache_dir=None) -> SubjectSignals:
    """Realign (or read fMRIPrep's), mask, parcellate and clean every run of one subject.

    Parameters
    ----------
    runs : list of BoldRun
        One subject's runs (from :func:`tgnlib.brain.sedation.find_runs`); a state may have several
        runs, and every one is used (each cleaned on its own, never spliced into another).
    n_parcels : int, default 100
    global_signal : bool, default False
        Global signal regression (propofol changes the global signal, so the chapter runs both).
    seed : int, default 0
    motion : {"realign", "fmriprep"}, default "realign"
    derivatives : path or None
        fMRIPrep output folder, for ``motion="fmriprep"``.
    fd_threshold_mm : float, default 0.5
    cache_dir : path or None
        Where realigned runs are kept (:func:`realign_run`).

    Returns
    -------
    SubjectSignals
    """
    subjects = {r.subject for r in runs}
    if len(subjects) != 1:
        raise ValueError(f"preprocess_subject takes one subject's runs; got subjects {sorted(subjects)}")
    t_rs = {repetition_time(r) for r in runs}
    if len(t_rs) != 1:
        raise ValueError(f"runs of subject {runs[0].subject} have different TRs: {sorted(t_rs)}")
    t_r = t_rs.pop()
    prepared = [(r, *motion_confounds(r, motion, derivatives, fd_threshold_mm, cache_dir)) for r in runs]
    images = [image for _, image, *_ in prepared]
    mask = subject_mask(images)
    labels = parcellate(images, mask, n_parcels, seed)
    timeseries, dv, fd, kept = {}, {}, {}, {}
    for r, image, confounds, keep, run_fd in prepared:
        timeseries.setdefault(r.state, []).append(clean_parcel_signals(image, labels, mask, t_r, global_signal, confounds=confounds,
                                                                       keep=keep))
        dv.setdefault(r.state, []).append(dvars(image, mask))
        fd.setdefault(r.state, []).append(float(run_fd.mean()))
        kept.setdefault(r.state, []).append(float(keep.mean()))
    return SubjectSignals(subject=runs[0].subject, timeseries=timeseries, centroids_mm=parcel_centroids(labels),
                          dvars={k: float(np.mean(v)) for k, v in dv.items()}, mean_fd_mm={k: float(np.mean(v)) for k, v in fd.items()},
                          kept={k: float(np.mean(v)) for k, v in kept.items()}, t_r=t_r, global_signal_regressed=global_signal)
