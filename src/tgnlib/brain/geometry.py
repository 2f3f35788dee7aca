"""Geometric rank of parcellated BOLD, whole and split into long- and short-range connections.

The paper never defines "geometric rank" for fMRI. Our readings, applied to equal-length windows
so that a state with more volumes is not favoured:

* **time-series rank**: the effective rank (``tgnlib.rank``) of the window's standardised
  parcel time series, a cloud of T points in P dimensions: how many independent directions the
  brain's state visits;
* **connectivity rank**: the effective rank of the window's functional-connectivity (Pearson
  correlation) matrix;
* **long-range / short-range rank**: the same for the connectivity matrix with only the
  connections longer (shorter) than a distance threshold kept, the others set to zero. The
  threshold is a quantile of the distances between parcel centroids, so no change of units
  moves it; at the median (the default) both parts hold the same number of connections. At
  other quantiles they do not, and the rank of a part grows with the connections it keeps:
  compare one part across states, not the two parts with each other. Its value in mm is
  reported beside it.
"""

from __future__ import annotations

import numpy as np
import torch

from ..rank import effective_rank

RANK_KINDS = ("time series", "connectivity", "long-range", "short-range")


def distance_matrix(centroids) -> np.ndarray:
    """Euclidean distances between parcel centroids.

    Parameters
    ----------
    centroids : array, shape (P, 3)
        Centroid coordinates, in mm (or any unit: the result is in the same unit).

    Returns
    -------
    numpy.ndarray, shape (P, P)
    """
    c = np.asarray(centroids, dtype=float)
    if c.ndim != 2 or c.shape[1] != 3:
        raise ValueError(f"centroids must have shape (P, 3); got {c.shape}")
    return np.linalg.norm(c[:, None, :] - c[None, :, :], axis=-1)


def distance_threshold(distances, quantile: float = 0.5) -> float:
    """The distance at a quantile of all distinct pairs' distances.

    Parameters
    ----------
    distances : array, shape (P, P)
        Symmetric distance matrix.
    quantile : float in (0, 1), default 0.5
        0.5 splits the connections into two halves of equal size.

    Returns
    -------
    float
        In the unit of ``distances``.
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile={quantile!r} must lie strictly between 0 and 1")
    d = np.asarray(distances, dtype=float)
    return float(np.quantile(d[np.triu_indices(len(d), 1)], quantile))


def split_by_distance(distances, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the long-range (distance > threshold) and short-range (<= threshold) connections.

    Parameters
    ----------
    distances : array, shape (P, P)
        Symmetric distance matrix.
    threshold : float
        In the unit of ``distances``.

    Returns
    -------
    (long, short) : two boolean arrays, shape (P, P)
        Symmetric, ``False`` on the diagonal (a region's connection to itself is neither).

    Raises
    ------
    ValueError
        If the threshold leaves either part empty.
    """
    d = np.asarray(distances, dtype=float)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be a square matrix; got shape {d.shape}")
    off = ~np.eye(len(d), dtype=bool)
    long = (d > threshold) & off
    short = (d <= threshold) & off
    if not long.any() or not short.any():
        raise ValueError(f"threshold={threshold!r} leaves no {'long' if not long.any() else 'short'}-range connection "
                         f"(distances range from {d[off].min():.3g} to {d[off].max():.3g})")
    return long, short


def sliding_windows(timeseries, length: int, step: int | None = None) -> np.ndarray:
    """Equal-length windows of a (T, P) time series.

    Parameters
    ----------
    timeseries : array, shape (T, P)
        Time points in rows, parcels in columns.
    length : int
        Window length, in volumes.
    step : int, optional
        Shift between windows, in volumes; default ``length`` (non-overlapping windows).

    Returns
    -------
    numpy.ndarray, shape (n_windows, length, P)
        The last incomplete window is dropped, so every window has the same length.
    """
    x = np.asarray(timeseries, dtype=float)
    step = length if step is None else step
    if x.ndim != 2:
        raise ValueError(f"timeseries must have shape (T, P); got {x.shape}")
    if length < 2 or step < 1:
        raise ValueError(f"need length >= 2 and step >= 1; got length={length}, step={step}")
    if length > len(x):
        raise ValueError(f"window length {length} exceeds the {len(x)} volumes of the time series")
    starts = np.arange(0, len(x) - length + 1, step)
    return np.stack([x[s:s + length] for s in starts])


def functional_connectivity(windows) -> np.ndarray:
    """Pearson correlation between parcels, for one window or a batch.

    Parameters
    ----------
    windows : array, shape (..., T, P)

    Returns
    -------
    numpy.ndarray, shape (..., P, P)
        A parcel with a constant signal gets zero correlation with every other.
    """
    x = np.asarray(windows, dtype=float)
    x = x - x.mean(axis=-2, keepdims=True)
    norm = np.sqrt((x**2).sum(axis=-2, keepdims=True))
    x = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return np.einsum("...tp,...tq->...pq", x, x)


def connectivity_rank(fc, mask=None, estimator: str = "entropy") -> np.ndarray:
    """Effective rank of a connectivity matrix, or of the connections a mask keeps.

    Parameters
    ----------
    fc : array, shape (..., P, P)
    mask : boolean array, shape (P, P), optional
        Connections to keep; the others (and the diagonal) are set to zero.
    estimator : {"entropy", "participation", "stable"}, default "entropy"

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    m = np.asarray(fc, dtype=float)
    if mask is not None:
        m = m * np.asarray(mask, dtype=float)
    return effective_rank(torch.as_tensor(m), estimator=estimator).numpy()


def timeseries_rank(windows, estimator: str = "entropy") -> np.ndarray:
    """Effective rank of standardised time-series windows (the cloud of visited brain states).

    Parameters
    ----------
    windows : array, shape (..., T, P)
    estimator : {"entropy", "participation", "stable"}, default "entropy"

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    x = np.asarray(windows, dtype=float)
    x = x - x.mean(axis=-2, keepdims=True)
    sd = x.std(axis=-2, keepdims=True)
    x = np.divide(x, sd, out=np.zeros_like(x), where=sd > 0)
    return effective_rank(torch.as_tensor(x), estimator=estimator).numpy()


def geometric_ranks(timeseries, distances, window: int, quantile: float = 0.5, step: int | None = None,
                    estimator: str = "entropy") -> dict[str, float]:
    """Every rank reading of one run, averaged over its equal-length windows.

    Parameters
    ----------
    timeseries : array, shape (T, P)
        Cleaned parcel time series.
    distances : array, shape (P, P)
        Distances between parcel centroids.
    window : int
        Window length in volumes; use the same for every state compared.
    quantile : float, default 0.5
        Distance quantile that separates long- from short-range connections.
    step : int, optional
        Window shift in volumes; default ``window`` (non-overlapping).
    estimator : {"entropy", "participation", "stable"}, default "entropy"

    Returns
    -------
    dict
        ``{kind: mean rank}`` for each of :data:`RANK_KINDS`, plus ``"windows"`` (how many) and
        ``"threshold"`` (the distance threshold, in the unit of ``distances``).
    """
    w = sliding_windows(timeseries, window, step)
    fc = functional_connectivity(w)
    threshold = distance_threshold(distances, quantile)
    long, short = split_by_distance(distances, threshold)
    ranks = {
        "time series": timeseries_rank(w, estimator),
        "connectivity": connectivity_rank(fc, None, estimator),
        "long-range": connectivity_rank(fc, long, estimator),
        "short-range": connectivity_rank(fc, short, estimator),
    }
    out = {kind: float(np.mean(v)) for kind, v in ranks.items()}
    out.update(windows=len(w), threshold=threshold)
    return out


def phase_randomise(timeseries, seed: int = 0) -> np.ndarray:
    """Per-region phase-randomised surrogate: each region's Fourier amplitudes kept, its phases drawn anew.

    Each region's power spectrum (and so its autocorrelation) survives; the phase relations between
    regions, and with them any functional connectivity, do not.

    Parameters
    ----------
    timeseries : array, shape (T, P)
    seed : int, default 0

    Returns
    -------
    numpy.ndarray, shape (T, P)
    """
    x = np.asarray(timeseries, dtype=float)
    spec = np.fft.rfft(x - x.mean(0), axis=0)
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, spec.shape)
    phases[0] = 0.0
    if x.shape[0] % 2 == 0:
        phases[-1] = 0.0  # the Nyquist term stays real
    return np.fft.irfft(np.abs(spec) * np.exp(1j * phases), n=x.shape[0], axis=0) + x.mean(0)


def reading_bounds(timeseries, distances, window: int, quantile: float = 0.5, n_surrogates: int = 10,
                   estimator: str = "entropy", seed: int = 0) -> dict[str, dict[str, float]]:
    """What each rank reading of one run can be for reasons that have nothing to do with the brain.

    Every reading of :func:`geometric_ranks` is placed between a *floor* and two *ceilings*, all
    computed by the same windows, split and estimator as the reading itself:

    - ``floor``: the reading of a signal with one shared source and nothing else. For a masked FC
      reading this is the rank of the binary mask itself (every kept correlation equal), which is
      well above 1 for a long- or short-range mask; for the whole FC and the time series it is 1.
    - ``noise``: the reading of i.i.d. Gaussian signals of the same shape (no connectivity, white).
    - ``phase``: the reading of per-region phase-randomised surrogates of ``timeseries`` (each
      region's spectrum kept, the relations between regions lost), the sharper ceiling for slow,
      autocorrelated BOLD.

    Parameters
    ----------
    timeseries : array, shape (T, P)
        The cleaned run whose readings are bounded.
    distances : array, shape (P, P)
        What splits long from short connections (centroid distances, or fibre lengths).
    window : int
        Window length in volumes, as for :func:`geometric_ranks`.
    quantile : float, default 0.5
    n_surrogates : int, default 10
        Noise and phase-randomised surrogates each; the ceilings are their means.
    estimator : {"entropy", "participation", "stable"}, default "entropy"
    seed : int, default 0

    Returns
    -------
    dict
        ``{kind: {"floor": float, "noise": float, "phase": float}}`` for each of :data:`RANK_KINDS`.
    """
    ts = np.asarray(timeseries, dtype=float)
    rng = np.random.default_rng(seed)
    long, short = split_by_distance(distances, distance_threshold(distances, quantile))
    # One source shared by every region: standardised, every window is the same rank-one cloud and
    # every correlation is 1, so each reading's floor comes out of the reading's own code.
    one_source = np.repeat(rng.standard_normal((len(ts), 1)), ts.shape[1], axis=1)
    fc_one = functional_connectivity(one_source[None])[0]
    floor = {"time series": float(timeseries_rank(sliding_windows(one_source, window), estimator).mean()),
             "connectivity": float(connectivity_rank(fc_one, None, estimator)),
             "long-range": float(connectivity_rank(fc_one, long, estimator)),
             "short-range": float(connectivity_rank(fc_one, short, estimator))}
    noise = [geometric_ranks(rng.standard_normal(ts.shape), distances, window, quantile, estimator=estimator) for _ in range(n_surrogates)]
    phase = [geometric_ranks(phase_randomise(ts, seed=seed + 1 + k), distances, window, quantile, estimator=estimator)
             for k in range(n_surrogates)]
    return {kind: {"floor": floor[kind], "noise": float(np.mean([r[kind] for r in noise])),
                   "phase": float(np.mean([r[kind] for r in phase]))} for kind in RANK_KINDS}


def place_between(value, floor, ceiling):
    """Where a reading lies between its floor (0) and ceiling (1): ``(value - floor) / (ceiling - floor)``.

    Parameters
    ----------
    value, floor, ceiling : float or array
        In the same unit (an effective rank).

    Returns
    -------
    float or numpy.ndarray
        0 at the floor, 1 at the ceiling; below 0 or above 1 when the reading lies outside. NaN
        where the ceiling is not above the floor (with few parcels or short windows a mask's own
        rank can exceed what noise gives): there the reading cannot be placed.
    """
    value, floor, ceiling = (np.asarray(x, dtype=float) for x in (value, floor, ceiling))
    span = ceiling - floor
    out = np.divide(value - floor, span, out=np.full(np.broadcast(value, span).shape, np.nan), where=span > 0)
    return float(out) if out.ndim == 0 else out
