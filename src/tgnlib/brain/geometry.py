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


def masked_rank_bounds(mask, n_time: int, n_surrogates: int = 20, timeseries=None, estimator: str = "entropy",
                       seed: int = 0) -> dict[str, float]:
    """What a masked-FC rank reading can be for reasons that have nothing to do with the brain.

    The *floor* is the rank of the binary mask itself: what any set of equal correlations on the kept
    connections gives. The *ceiling* is the rank of the same masked reading of FC computed from signals
    with no connectivity: i.i.d. Gaussian noise of the same length (``noise``), and per-region
    phase-randomised surrogates of ``timeseries`` when given (``phase``). A state's reading means
    something only placed between them.

    Parameters
    ----------
    mask : boolean array, shape (P, P)
    n_time : int
        Samples per window of the reading.
    n_surrogates : int, default 20
    timeseries : array, shape (T, P) or None
        Real signals for the phase-randomised ceiling.
    estimator : {"entropy", "participation", "stable"}, default "entropy"
    seed : int, default 0

    Returns
    -------
    dict
        ``floor``; ``noise`` (mean over surrogates); ``phase`` (mean, when ``timeseries`` is given).
    """
    m = np.asarray(mask, dtype=bool)
    rng = np.random.default_rng(seed)
    p = m.shape[0]
    out = {"floor": float(connectivity_rank(m.astype(float), estimator=estimator))}
    noise_fc = [functional_connectivity(rng.standard_normal((1, n_time, p)))[0] for _ in range(n_surrogates)]
    out["noise"] = float(np.mean([connectivity_rank(fc, m, estimator) for fc in noise_fc]))
    if timeseries is not None:
        ts = np.asarray(timeseries, dtype=float)
        ranks = []
        for k in range(n_surrogates):
            surrogate = phase_randomise(ts, seed=seed + k)[:n_time]
            ranks.append(connectivity_rank(functional_connectivity(surrogate[None])[0], m, estimator))
        out["phase"] = float(np.mean(ranks))
    return out
