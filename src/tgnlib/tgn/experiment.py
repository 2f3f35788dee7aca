"""Training runs of the chapter's comparison, cached on disk, and what the chapter reads off their logs.

Every run lives in its own folder named after its configurations (``<name>-<fingerprint>``), so a
re-executed notebook reuses finished runs, resumes killed ones from their checkpoint, and never mixes
runs of different settings. Every model of a comparison gets the same :class:`~tgnlib.tgn.train.TrainConfig`
and the same learning-rate search (:func:`best_learning_rate`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..cache import code_fingerprint, run_key
from .config import TGNConfig
from .evaluate import evaluate, load_run
from .train import TrainConfig, train

# the modules a training run executes (model, its streams, the loop, the task samplers): a run's cache key
# fingerprints these, so an edit to the evaluation or to this module keeps trained runs (the loop's periodic
# validation loss is computed by evaluate.py, left out on purpose: it is logged, it does not steer training)
_HERE = Path(__file__).parent
TRAINING_CODE = (*(_HERE / f for f in ("config.py", "model.py", "attention.py", "inertial.py", "gru_kernel.py", "train.py", "recall.py",
                                        "mqar.py")),
                 _HERE.parent / "training.py")


@dataclass
class Run:
    """A finished training run and its evaluation."""

    name: str
    model_cfg: TGNConfig
    train_cfg: TrainConfig
    out_dir: Path
    history: list[dict]
    n_params: int
    scores: dict  # split name -> the dict of :func:`~tgnlib.tgn.evaluate.evaluate`

    @property
    def wall_seconds(self) -> float:
        """Training wall time (seconds, summed over resumed calls)."""
        return float(self.history[-1]["seconds"])

    @property
    def tokens(self) -> int:
        """Training tokens seen."""
        return int(self.history[-1]["tokens"])

    def series(self, key: str) -> np.ndarray:
        """One logged quantity per step (e.g. ``"ce"``, ``"gate_rate"``, ``"tokens"``, ``"seconds"``)."""
        return np.array([r[key] for r in self.history], dtype=float)

    def validation_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """Steps and validation losses (nats/token) of the periodic evaluations (empty without them)."""
        picked = [(r["step"], r["val_ce"]) for r in self.history if "val_ce" in r]
        return tuple(np.array(v, dtype=float) for v in zip(*picked)) if picked else (np.array([]), np.array([]))


def with_steps(train_cfg: TrainConfig, steps: int) -> TrainConfig:
    """``train_cfg`` for a run of ``steps`` steps, with the chapter's schedule: warm-up over the first
    fifteenth, a checkpoint every quarter.

    Parameters
    ----------
    train_cfg : TrainConfig
    steps : int
        At least 1.

    Returns
    -------
    TrainConfig
        So that ``with_steps(cfg, cfg.steps) == cfg`` for a configuration built this way: a run at the
        full budget is then the same run (the same cache folder) whichever code path asks for it.
    """
    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    return replace(train_cfg, steps=steps, warmup=max(steps // 15, 1), checkpoint_every=max(steps // 4, 1))


def run_dir(root, name: str, model_cfg: TGNConfig, train_cfg: TrainConfig, data=None, eval_every: int = 0) -> Path:
    """``root/<name>-<8 hex digits>``: the digits fingerprint both configurations, the training data and
    the code a training run executes (``TRAINING_CODE``; :func:`tgnlib.cache.run_key`), so a run never
    resumes on another corpus, task or model code.

    Parameters
    ----------
    root : path
    name : str
    model_cfg : TGNConfig
    train_cfg : TrainConfig
    data : array-like, task sampler or None, default None
        The training tokens, or a task (e.g. :class:`~tgnlib.tgn.recall.RecallTask`) whose
        ``settings()`` define its sequences.
    eval_every : int, default 0
        Steps between the periodic validation losses the run logs (0: none); part of the key, so a run
        without them is not taken for one with them.

    Returns
    -------
    pathlib.Path
    """
    config = {"model": model_cfg.to_dict(), "train": asdict(train_cfg)}
    if eval_every:
        config["eval_every"] = int(eval_every)
    if hasattr(data, "settings"):  # a sampler is keyed by what defines its sequences, not by the object
        config, data = {**config, "task": data.settings()}, None
    key = run_key(config, data=data, code=code_fingerprint(*TRAINING_CODE))
    return Path(root) / f"{name}-{key}"


LOCK_HEARTBEAT_S = 60.0  # how often a held lock's modification time is refreshed
LOCK_EXPIRES_S = 600.0  # a lock of another machine not refreshed for this long is taken as its owner's death


def _alive(owner: str, lock: Path | None = None, expires_s: float = LOCK_EXPIRES_S) -> bool:
    # on this machine: alive while its process is. Another machine's process cannot be asked, so its
    # lock is alive while its heartbeat is fresh (a Slurm node that died leaves a lock nobody refreshes)
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        try:
            return lock is None or time.time() - lock.stat().st_mtime < expires_s
        except FileNotFoundError:
            return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def _heartbeat(lock: Path, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            os.utime(lock)
        except FileNotFoundError:
            return


@contextlib.contextmanager
def hold_run(out: Path, poll_s: float = 5.0, heartbeat_s: float = LOCK_HEARTBEAT_S, expires_s: float = LOCK_EXPIRES_S):
    """Hold the lock of run folder ``out`` (``<out>.lock``) while training into it.

    Two processes sharing one run cache (a second notebook, a helper filling the cache ahead, workers
    of a cluster on a shared filesystem) must not train the same folder at once: both would resume from
    one checkpoint and overwrite each other. The lock is created atomically (``O_EXCL``) and names its
    owner ``host:pid``; while held, a thread refreshes its modification time every ``heartbeat_s``. A
    process that finds the lock held waits until it is released, and takes it over when its owner has
    died (its checkpoint then resumes the run): on this host, when the owner's process is gone; from
    another host, when the heartbeat is older than ``expires_s``.

    Parameters
    ----------
    out : pathlib.Path
        The run folder.
    poll_s : float, default 5.0
        Seconds between looks at a held lock.
    heartbeat_s : float, default 60
        Seconds between refreshes of the held lock.
    expires_s : float, default 600
        Age (seconds) past which another host's lock is taken as left by a dead worker; keep it well
        above ``heartbeat_s`` and the filesystem's attribute caching.
    """
    lock = Path(f"{out}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    me, told = f"{socket.gethostname()}:{os.getpid()}", False
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                owner = lock.read_text()
            except FileNotFoundError:
                continue  # released between the two looks
            if owner and not _alive(owner, lock, expires_s):
                lock.unlink(missing_ok=True)  # its owner died: resume from the checkpoint it left
                continue
            if not told:
                print(f"{out.name}: being trained by {owner or 'another process'}; waiting", flush=True)
                told = True
            time.sleep(poll_s)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(me)
        break
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(lock, stop, heartbeat_s), daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        lock.unlink(missing_ok=True)


def run_is_free(name: str, model_cfg: TGNConfig, train_cfg: TrainConfig, data, root, eval_every: int = 0) -> bool:
    """Whether the run :func:`run` would train is neither finished nor held by another process.

    Parameters
    ----------
    name, model_cfg, train_cfg, data, root, eval_every :
        As for :func:`run`.

    Returns
    -------
    bool
    """
    out = run_dir(root, name, model_cfg, train_cfg, data, eval_every=eval_every)
    return not (out / "model.pt").is_file() and not Path(f"{out}.lock").exists()


def run(name: str, model_cfg: TGNConfig, train_cfg: TrainConfig, data, root, eval_splits: dict | None = None,
        eval_windows: int | None = None, device="cpu", progress: bool = True, eval_every: int = 0) -> Run:
    """Train (or reuse, or resume) one model, then evaluate it on each split of ``eval_splits``.

    Parameters
    ----------
    name : str
        Label of the run (tables, legends, folder name).
    model_cfg : TGNConfig
    train_cfg : TrainConfig
    data : 1-d array of token ids, or a sampler
        Training data, as :func:`~tgnlib.tgn.train.train` takes it.
    root : path
        Folder holding all runs.
    eval_splits : dict of str to 1-d token arrays, or None, default None
        E.g. ``{"validation": ..., "test": ...}``; evaluated at ``train_cfg.seq_len``.
    eval_windows : int or None, default None
        Windows per evaluated split (None: all).
    device : str or torch.device, default "cpu"
    progress : bool, default True
    eval_every : int, default 0
        Log the validation loss (16 windows of ``eval_splits["validation"]``) every this many steps
        (0: never); see :func:`~tgnlib.tgn.train.train`.

    Returns
    -------
    Run
    """
    out = run_dir(root, name, model_cfg, train_cfg, data, eval_every=eval_every)
    validation = (eval_splits or {}).get("validation") if eval_every else None
    if eval_every and validation is None:
        raise ValueError("eval_every needs a 'validation' split in eval_splits")
    if not (out / "model.pt").is_file():
        with hold_run(out):
            if not (out / "model.pt").is_file():  # another process may have finished it while we waited
                train(model_cfg, train_cfg, data, out, device=device, progress=progress, validation=validation,
                      eval_every=eval_every)
    model, history = load_run(out, device=device)
    scores = {split: evaluate_cached(model, out, split, tokens, train_cfg.seq_len, eval_windows)
              for split, tokens in (eval_splits or {}).items()}
    return Run(name, model_cfg, train_cfg, out, history, model.n_params(), scores)


EVALUATION_CODE = _HERE / "evaluate.py"


def evaluate_cached(model, out_dir, split: str, tokens, seq_len: int, max_windows: int | None = None) -> dict:
    """:func:`~tgnlib.tgn.evaluate.evaluate` of a finished run on one split, kept in the run's folder.

    A chapter reads every run back several times (the learning-rate search is read to choose the rate,
    then again for its table), and a worker that trained the run can evaluate it where it stands: the
    first evaluation is written to ``<out_dir>/scores-<split>-<key>.json`` (atomically) and every later
    one reads it. The key fingerprints the split's tokens, ``seq_len``, ``max_windows`` and the
    evaluation code, so a different split, window count or an edited ``evaluate.py`` evaluates afresh.

    Parameters
    ----------
    model : TGNLanguageModel
        The run's trained model (:func:`~tgnlib.tgn.evaluate.load_run`).
    out_dir : path
        The run's folder.
    split : str
        The split's name (part of the file name, for a reader of the folder).
    tokens : 1-d array of token ids
    seq_len : int
        Window length in tokens.
    max_windows : int or None, default None
        Windows evaluated (None: the whole split).

    Returns
    -------
    dict
        As :func:`~tgnlib.tgn.evaluate.evaluate` returns it.
    """
    key = run_key({"seq_len": int(seq_len), "max_windows": max_windows}, data=tokens, code=code_fingerprint(EVALUATION_CODE))
    path = Path(out_dir) / f"scores-{split}-{key}.json"
    if path.is_file():
        return json.loads(path.read_text())
    scores = evaluate(model, tokens, seq_len, max_windows=max_windows)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # per process: two readers of one run may both evaluate it
    tmp.write_text(json.dumps(scores))
    os.replace(tmp, path)
    return scores


def best_learning_rate(name: str, model_cfg: TGNConfig, train_cfg: TrainConfig, learning_rates, data, root,
                       eval_splits: dict, **kwargs) -> tuple[Run, dict[float, float]]:
    """Train one model at each learning rate and keep the run with the lowest validation cross-entropy.

    Parameters
    ----------
    name, model_cfg, train_cfg, data, root :
        As for :func:`run`; ``train_cfg.lr`` is replaced by each learning rate.
    learning_rates : sequence of float
        The search budget (give every model the same one).
    eval_splits : dict
        Must contain ``"validation"``.
    **kwargs
        Passed to :func:`run`.

    Returns
    -------
    (best, searched)
        The best :class:`Run` and the validation perplexity at every learning rate.
    """
    if "validation" not in eval_splits:
        raise ValueError(f"eval_splits needs a 'validation' split to choose the learning rate; got {sorted(eval_splits)}")
    if len(learning_rates) == 0:
        raise ValueError("learning_rates is empty")
    runs = {float(lr): run(name, model_cfg, replace(train_cfg, lr=float(lr)), data, root, eval_splits, **kwargs)
            for lr in learning_rates}
    best = min(runs.values(), key=lambda r: r.scores["validation"]["ce"])
    return best, {lr: r.scores["validation"]["perplexity"] for lr, r in runs.items()}


def rates_at_grid_edge(chosen: dict, learning_rates) -> dict[str, str]:
    """The models whose chosen learning rate is the smallest or largest of the grid searched.

    Such a choice does not bracket the optimum: a rate outside the grid may have done better, so a
    comparison between models is then also a comparison of how well the grid suited each.

    Parameters
    ----------
    chosen : dict
        Model name -> the learning rate its search chose.
    learning_rates : sequence of float
        The grid searched (at least two values; with one there is no edge to speak of).

    Returns
    -------
    dict
        Model name -> ``"top"`` or ``"bottom"``, for those at an edge only.
    """
    grid = sorted(float(lr) for lr in learning_rates)
    if len(grid) < 2:
        return {}
    edges = {grid[0]: "bottom", grid[-1]: "top"}
    return {name: edges[float(lr)] for name, lr in chosen.items() if float(lr) in edges}


def summarise_seeds(scores, split: str) -> dict:
    """One model's evaluation on a split, over its training seeds: means, and the loss's spread.

    Parameters
    ----------
    scores : sequence of dict
        Per seed, the ``{split: evaluate(...)}`` dict of a run (``Run.scores``), or of an evaluation with
        another gate (e.g. hardened at inference).
    split : str
        E.g. ``"test"``.

    Returns
    -------
    dict
        ``ce`` (mean over seeds, nats/token), ``ce_sd`` (sample standard deviation over seeds; nan for
        one seed), ``perplexity`` (exp of the mean loss), ``gate_rate``, ``open_fraction`` (mean over
        seeds and layers), ``attention_flops_per_token``, ``forward_flops_per_token`` (means) and ``n``
        (seeds).
    """
    picked = [s[split] for s in scores]
    if not picked:
        raise ValueError("summarise_seeds needs at least one seed's scores")
    ce = np.array([p["ce"] for p in picked])
    return {"ce": float(ce.mean()), "ce_sd": float(ce.std(ddof=1)) if len(ce) > 1 else float("nan"),
            "perplexity": float(np.exp(ce.mean())), "gate_rate": float(np.mean([p["gate_rate"] for p in picked])),
            "open_fraction": float(np.mean([np.mean(p["open_fraction"]) for p in picked])),
            "attention_flops_per_token": float(np.mean([p["attention_flops_per_token"] for p in picked])),
            "forward_flops_per_token": float(np.mean([p["forward_flops_per_token"] for p in picked])), "n": len(picked)}


def smooth(values, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` steps (shorter at the start), same length as ``values``."""
    values = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError(f"window={window} must be >= 1")
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def describe_gate_trajectory(gate_rate, window: int = 10) -> dict:
    """Minimum, rebound and final level of a gate-rate trajectory (smoothed; claims G2-G4).

    Parameters
    ----------
    gate_rate : sequence of float
        Gate rate per training step.
    window : int, default 10
        Moving-average window in steps.

    Returns
    -------
    dict
        ``start``, ``minimum``, ``min_step`` (1-based), ``final`` (the mean of the last ``window`` steps),
        ``rebound`` (final minus minimum) and ``rebound_ratio`` (final / minimum).
    """
    s = smooth(gate_rate, window)
    i = int(np.argmin(s))
    final = float(s[-1])
    return {"start": float(gate_rate[0]), "minimum": float(s[i]), "min_step": i + 1, "final": final,
            "rebound": final - float(s[i]), "rebound_ratio": final / float(s[i]) if s[i] > 0 else float("inf")}


def sweep_finals(runs_by_lambda: dict, lambdas, window: int = 10) -> dict[str, np.ndarray]:
    """What a lambda sweep ends at, per lambda: the final gate rate, open fraction and validation perplexity (claim G7).

    Parameters
    ----------
    runs_by_lambda : dict of float -> Run
        One finished run per lambda, evaluated on a ``"validation"`` split.
    lambdas : sequence of float
        The lambdas to read, in the order wanted.
    window : int, default 10
        Moving-average window of the final gate rate (steps).

    Returns
    -------
    dict of str -> numpy.ndarray, shape (len(lambdas),)
        ``gate_rate`` (final mean g, :func:`describe_gate_trajectory`), ``open_fraction`` (gates above
        the threshold at the last step) and ``perplexity`` (validation).
    """
    picked = [runs_by_lambda[float(v)] for v in lambdas]
    return {"gate_rate": np.array([describe_gate_trajectory(r.series("gate_rate"), window)["final"] for r in picked]),
            "open_fraction": np.array([float(np.mean(r.history[-1]["gate_open"])) for r in picked]),
            "perplexity": np.array([r.scores["validation"]["perplexity"] for r in picked])}


def loss_drop_last_quarter(ce, window: int = 10) -> float:
    """How much the smoothed training loss falls over the last quarter of training (nats).

    Parameters
    ----------
    ce : sequence of float
        Training cross-entropy per step.
    window : int, default 10
        Moving-average window (steps).

    Returns
    -------
    float
        Smoothed loss at 75% of training minus its final value; near 0 on a plateau.
    """
    if len(ce) < 4 * window:
        raise ValueError(f"{len(ce)} steps are too few for a window of {window}")
    s = smooth(ce, window)
    return float(s[int(0.75 * (len(s) - 1))] - s[-1])


def transition_lambda(lambdas, rates) -> dict:
    """Where the final gate rate falls with the penalty weight lambda, and how sharply (claim G7).

    Parameters
    ----------
    lambdas : sequence of float > 0
        Increasing.
    rates : sequence of float
        Final gate rate at each lambda.

    Returns
    -------
    dict
        ``lambda_half``: lambda where the rate crosses half of its largest value (log interpolation; nan if
        it never does); ``max_slope``: the largest fall of the rate per decade of lambda between neighbours;
        ``decades_10_90``: decades of lambda between the rate's 90% and 10% levels of its range.
    """
    lam, r = np.log10(np.asarray(lambdas, dtype=float)), np.asarray(rates, dtype=float)
    if np.any(np.diff(lam) <= 0):
        raise ValueError(f"lambdas must be positive and increasing; got {list(lambdas)}")

    def crossing(level):
        for i in range(len(r) - 1):
            if (r[i] - level) * (r[i + 1] - level) <= 0 and r[i] != r[i + 1]:
                return lam[i] + (level - r[i]) / (r[i + 1] - r[i]) * (lam[i + 1] - lam[i])
        return np.nan

    lo, hi = r.min(), r.max()
    return {"lambda_half": float(10 ** crossing(hi / 2)), "max_slope": float(np.max(-np.diff(r) / np.diff(lam))),
            "decades_10_90": float(crossing(lo + 0.1 * (hi - lo)) - crossing(lo + 0.9 * (hi - lo)))}
