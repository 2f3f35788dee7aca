"""Preprocessing of raw BIDS BOLD in subject space, with nilearn only.

ds003171 ships raw images in each subject's scanner space and no MNI-space derivatives, so no
atlas can be applied without a registration we do not perform. Instead each subject gets a
**data-driven parcellation** (Ward clustering, ``nilearn.regions.Parcellations``) fitted on all of
that subject's runs together, so the same parcels are compared across sedation states; parcel
centroids are in the subject's scanner mm, which is what the long-/short-range split needs.

Cleaning (``nilearn.maskers.NiftiLabelsMasker`` / ``nilearn.signal.clean``): linear detrend,
Butterworth band-pass 0.01-0.1 Hz, the top high-variance (CompCor-like) confounds of
``nilearn.image.high_variance_confounds``, optionally the global signal, then z-scoring.
Raw data have no realignment parameters, so head motion is measured by DVARS (Power et al. 2012,
the RMS over brain voxels of the volume-to-volume intensity change, after scaling the
run to a median of 1000), used as a covariate in the statistics, not regressed voxel-wise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .sedation import BoldRun, repetition_time

BAND_HZ = (0.01, 0.1)


@dataclass
class SubjectSignals:
    """A subject's cleaned parcel time series per state, with parcel centroids and motion."""

    subject: str
    timeseries: dict[str, np.ndarray]
    centroids_mm: np.ndarray
    dvars: dict[str, float]
    t_r: float
    global_signal_regressed: bool
    n_parcels: int = field(init=False)

    def __post_init__(self):
        self.n_parcels = len(self.centroids_mm)


def subject_mask(run_paths):
    """Brain mask common to a subject's runs (``nilearn.masking.compute_multi_epi_mask``)."""
    from nilearn.masking import compute_multi_epi_mask

    return compute_multi_epi_mask([str(p) for p in run_paths])


def parcellate(run_paths, mask, n_parcels: int = 100, seed: int = 0):
    """Ward parcellation of a subject's brain, fitted on all of its runs.

    Parameters
    ----------
    run_paths : list of path
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
    parcellation.fit([str(p) for p in run_paths])
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


def dvars(run_path, mask) -> float:
    """Mean DVARS of a run (intensity units after scaling the run's median to 1000).

    A head-motion proxy for data without realignment parameters (Power et al. 2012).
    """
    from nilearn.masking import apply_mask

    x = apply_mask(str(run_path), mask).astype(float)
    x = x * (1000.0 / np.median(x[x > 0]))
    return float(np.sqrt((np.diff(x, axis=0) ** 2).mean(axis=1)).mean())


def clean_parcel_signals(run_path, labels_img, mask, t_r: float, global_signal: bool = False, n_confounds: int = 5) -> np.ndarray:
    """Cleaned parcel-mean time series of one run.

    Parameters
    ----------
    run_path : path
        4D BOLD image.
    labels_img, mask : Nifti1Image
        From :func:`parcellate` and :func:`subject_mask`.
    t_r : float
        Repetition time in seconds.
    global_signal : bool, default False
        Also regress out the mean signal over the brain mask (global signal regression).
    n_confounds : int, default 5
        High-variance confounds regressed out.

    Returns
    -------
    numpy.ndarray, shape (T, P)
    """
    from nilearn.image import high_variance_confounds
    from nilearn.maskers import NiftiLabelsMasker
    from nilearn.masking import apply_mask

    confounds = high_variance_confounds(str(run_path), n_confounds=n_confounds, mask_img=mask)
    if global_signal:
        confounds = np.column_stack([confounds, apply_mask(str(run_path), mask).mean(axis=1)])
    masker = NiftiLabelsMasker(labels_img=labels_img, mask_img=mask, detrend=True, standardize="zscore_sample",
                               low_pass=BAND_HZ[1], high_pass=BAND_HZ[0], t_r=t_r)
    return masker.fit_transform(str(run_path), confounds=confounds)


def preprocess_subject(runs: list[BoldRun], n_parcels: int = 100, global_signal: bool = False, seed: int = 0) -> SubjectSignals:
    """Mask, parcellate and clean every run of one subject.

    Parameters
    ----------
    runs : list of BoldRun
        One subject's runs (from :func:`tgnlib.brain.sedation.find_runs`), one per state.
    n_parcels : int, default 100
    global_signal : bool, default False
        Global signal regression (propofol changes the global signal, so the chapter runs both).
    seed : int, default 0

    Returns
    -------
    SubjectSignals
    """
    subjects = {r.subject for r in runs}
    if len(subjects) != 1:
        raise ValueError(f"preprocess_subject takes one subject's runs; got subjects {sorted(subjects)}")
    states = [r.state for r in runs]
    if len(set(states)) != len(states):
        raise ValueError(f"one run per state expected; got states {states}")
    t_rs = {repetition_time(r) for r in runs}
    if len(t_rs) != 1:
        raise ValueError(f"runs of subject {runs[0].subject} have different TRs: {sorted(t_rs)}")
    t_r = t_rs.pop()
    mask = subject_mask([r.path for r in runs])
    labels = parcellate([r.path for r in runs], mask, n_parcels, seed)
    return SubjectSignals(
        subject=runs[0].subject,
        timeseries={r.state: clean_parcel_signals(r.path, labels, mask, t_r, global_signal) for r in runs},
        centroids_mm=parcel_centroids(labels),
        dvars={r.state: dvars(r.path, mask) for r in runs},
        t_r=t_r,
        global_signal_regressed=global_signal,
    )
