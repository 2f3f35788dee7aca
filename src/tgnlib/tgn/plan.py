"""Everything chapter 2.5 trains, listed before anything is trained, so the runs can fan out.

:func:`prepare` builds what the notebook's first cells used to build (the token splits, the models at
matched parameter count, the training schedule) and :class:`Training` enumerates every run from it in
one place (:meth:`Training._runs`). The same enumeration gives both the run list handed to
:func:`tgnlib.runs.execute` (:meth:`Training.specs`) and the finished runs the notebook reads back
(:meth:`Training.search`, :meth:`Training.main`, :meth:`Training.probe`), so the cache keys a
worker trains under are, by construction, the ones the notebook looks for.

Stages: ``"search"`` (every model at every learning rate, and the recall and MQAR probes, which do not
depend on the search) and ``"main"`` (every model's seeds at the learning rate its search chose, the
lambda sweep in both gate-gradient readings, lambda 0 at every seed, the baselines at the sweep's budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..runs import RunSpec
from .config import TGNConfig
from .evaluate import count_parameters, matched_config
from .experiment import Run, best_learning_rate, run, run_dir, with_steps
from .mqar import MQARTask
from .recall import RecallTask
from .train import TrainConfig

COST_UNIT = "training tokens"  # what RunSpec.cost counts (tgnlib.runs.cost_unit)
MODEL_SLUGS = {  # the models of the comparison and their run-folder names
    "TGN (GRU)": "tgn",
    "Transformer (= gate fixed at 1)": "transformer",
    "GRU alone (gate fixed at 0)": "gru",
    "Mamba-like alone": "mamba",
    "TGN (GRU), hard gate trained": "tgn-hard",
    "TGN (GRU), capacity router (10%)": "tgn-capacity",
}
TGN_NAME, GRU_NAME, T_NAME = "TGN (GRU)", "GRU alone (gate fixed at 0)", "Transformer (= gate fixed at 1)"
PROBE_MODELS = {"TGN": dict(mode="tgn"), "TGN, lambda = 0": dict(mode="tgn", lam=0.0), "Transformer": dict(mode="transformer"),
                "GRU alone": dict(mode="inertial")}
PROBE_SLUGS = dict(zip(PROBE_MODELS, ("tgn", "tgn-lambda0", "transformer", "inertial")))
RECALL_DISTANCES = (1, 2, 4, 8, 16, 32, 56)
PROBE_LEN = 64  # tokens per recall and MQAR sequence
STAGES = ("search", "main")


@lru_cache(maxsize=4)
def _token_splits(corpus: str, tokenizer: str, seed: int):
    from ..tokens import load_token_splits
    return load_token_splits(corpus, tokenizer, seed=seed)


def _data(ref: tuple):
    # data is named in a run's arguments, not shipped: every worker rebuilds it (deterministic for its seed)
    kind, *args = ref
    if kind == "text":
        return _token_splits(*args).train
    if kind == "recall":
        return RecallTask(PROBE_LEN, RECALL_DISTANCES, p_local=0.9, seed=args[0])
    if kind == "mqar":
        n_pairs, seed = args
        return MQARTask(seq_len=PROBE_LEN, n_pairs=n_pairs, vocab_size=64, seed=seed)
    raise ValueError(f"unknown data reference {ref!r}")


def train_run(name: str, model_cfg: TGNConfig, train_cfg: TrainConfig, data: tuple, root: str, eval_every: int = 0,
              eval_windows: int | None = None, device: str = "cpu") -> str:
    """Train one run of the chapter into the cache, then evaluate a text run on its validation and test
    splits as the notebook will read it (what a worker executes); return its folder.

    Parameters
    ----------
    name, model_cfg, train_cfg, eval_every, eval_windows :
        As for :func:`tgnlib.tgn.experiment.run`.
    data : tuple
        ``("text", corpus, tokenizer, seed)``, ``("recall", seed)`` or ``("mqar", n_pairs, seed)``.
    root : str
        The run cache folder.
    device : str, default "cpu"

    Returns
    -------
    str
        The run folder.
    """
    tokens = _data(data)
    evals = None
    if data[0] == "text":  # evaluated here, in parallel, and kept (experiment.evaluate_cached): the notebook only reads it
        splits = _token_splits(*data[1:])
        evals = {"validation": splits.validation, "test": splits.test}
    r = run(name, model_cfg, train_cfg, tokens, root, evals, eval_windows=eval_windows, device=device, progress=False,
            eval_every=eval_every)
    return str(r.out_dir)


@dataclass
class _Planned:
    group: str  # which result it belongs to ("search", "seed", "sweep"...)
    label: str  # the model's name in the chapter
    name: str
    model_cfg: TGNConfig
    train_cfg: TrainConfig
    data: tuple
    eval_every: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class Training:
    """The chapter's data, models and schedule; every run it trains, listed and read back.

    Built by :func:`prepare`. Attributes as the notebook uses them: ``splits``, ``evals``
    (validation and test tokens), ``runs_root``, ``base`` (the TGN's configuration before the mode),
    ``train_cfg`` (the full budget), ``search_steps``, ``sweep_steps``, ``target`` (the TGN's parameter
    count), ``configs`` (model name -> configuration at matched parameters), ``common``
    (the keyword arguments of every text run), ``recall_train`` and ``mqar_train``.
    """

    P: SimpleNamespace
    seed: int
    device: object
    splits: object
    runs_root: Path
    base: TGNConfig
    train_cfg: TrainConfig
    configs: dict
    target: int

    @property
    def evals(self) -> dict:
        return {"validation": self.splits.validation, "test": self.splits.test}

    @property
    def search_steps(self) -> int:
        return min(self.P.search_steps, self.P.steps)

    @property
    def sweep_steps(self) -> int:
        return min(self.P.sweep_steps, self.P.steps)

    @property
    def eval_every(self) -> int:
        return max(self.P.steps // 20, 1)

    @property
    def common(self) -> dict:
        return dict(root=self.runs_root, eval_splits=self.evals, eval_windows=self.P.eval_windows, device=self.device,
                    eval_every=self.eval_every)

    @property
    def recall_train(self) -> TrainConfig:
        return replace(with_steps(self.train_cfg, self.P.recall_steps), batch_size=32, seq_len=PROBE_LEN, lr=3e-3)

    @property
    def mqar_train(self) -> TrainConfig:
        return with_steps(self.recall_train, self.P.mqar_steps)

    @property
    def _text(self) -> tuple:
        return ("text", self.P.corpus, self.P.tokenizer, self.seed)

    # ---- the one enumeration -------------------------------------------------------------------------

    def _runs(self, stage: str, best_lr: dict | None = None) -> list[_Planned]:
        P, seeds = self.P, range(self.seed, self.seed + self.P.n_seeds)
        text, every = self._text, self.eval_every
        out = []
        if stage == "search":
            search_cfg = with_steps(self.train_cfg, self.search_steps)
            for label, cfg in self.configs.items():
                out += [_Planned("search", label, MODEL_SLUGS[label], cfg, replace(search_cfg, lr=float(lr)), text, every,
                                 {"lr": float(lr)}) for lr in P.learning_rates]
            for task, train_cfg, data in (("recall", self.recall_train, lambda s: ("recall", s)),
                                          ("mqar", self.mqar_train, lambda s: ("mqar", P.mqar_pairs, s))):
                vocab = RecallTask(PROBE_LEN, RECALL_DISTANCES, p_local=0.9).vocab_size if task == "recall" else 64
                for label, changes in PROBE_MODELS.items():
                    out.append(_Planned(task, label, f"{task}-{PROBE_SLUGS[label]}",
                                        replace(self.base, vocab_size=vocab, context=PROBE_LEN, **changes), train_cfg, data(self.seed)))
                out += [_Planned(f"{task}-seeds", "TGN", f"{task}-tgn-seed{s}", replace(self.base, vocab_size=vocab, context=PROBE_LEN),
                                 replace(train_cfg, seed=s), data(s)) for s in seeds if s != self.seed]
            return out
        if stage != "main":
            raise ValueError(f"stage={stage!r} is not one of {STAGES}")
        if best_lr is None:
            raise ValueError("the main stage needs best_lr (model name -> learning rate) from the search")
        for label, cfg in self.configs.items():  # a search run at the full budget is the same run as the first seed
            out += [_Planned("seed", label, MODEL_SLUGS[label] if s == self.seed else f"{MODEL_SLUGS[label]}-seed{s}", cfg,
                             replace(self.train_cfg, lr=best_lr[label], seed=s), text, every, {"seed": s}) for s in seeds]
        sweep_cfg = replace(with_steps(self.train_cfg, self.sweep_steps), lr=best_lr[TGN_NAME])
        tgn = self.configs[TGN_NAME]
        for v in [0.0] + list(P.lambdas):
            out.append(_Planned("sweep", "inertial", "tgn" if np.isclose(v, P.lam) else f"tgn-lambda{v:g}", replace(tgn, lam=float(v)),
                                sweep_cfg, text, every, {"lam": float(v)}))
            out.append(_Planned("sweep", "detached", f"tgn-detached-lambda{v:g}", replace(tgn, lam=float(v), gate_input="detached"),
                                sweep_cfg, text, every, {"lam": float(v)}))
        for variant, tag in (("inertial", ""), ("detached", "detached-")):
            cfg = replace(tgn, lam=0.0, gate_input="detached") if variant == "detached" else replace(tgn, lam=0.0)
            out += [_Planned("zero-seed", variant, f"tgn-{tag}lambda0-seed{s}", cfg, replace(sweep_cfg, seed=s), text, every)
                    for s in seeds if s != self.seed]
        for label in (GRU_NAME, T_NAME):
            out.append(_Planned("sweep-budget", label, MODEL_SLUGS[label], self.configs[label],
                                replace(with_steps(self.train_cfg, self.sweep_steps), lr=best_lr[label]), text, every))
        return out

    def _read(self, p: _Planned) -> Run:
        if p.data[0] == "text":
            return run(p.name, p.model_cfg, p.train_cfg, self.splits.train, **self.common)
        return run(p.name, p.model_cfg, p.train_cfg, _data(p.data), self.runs_root, device=self.device)

    # ---- listing -------------------------------------------------------------------------------------

    def specs(self, stage: str | None = None) -> list[RunSpec]:
        """The runs of ``stage`` as :class:`tgnlib.runs.RunSpec` (one per cache folder).

        Parameters
        ----------
        stage : {"search", "main"} or None, default None
            None: the search, and the main stage too once the search has finished.

        Returns
        -------
        list of RunSpec
        """
        stages = STAGES if stage is None else (stage,)
        out, seen = [], set()
        for st in stages:
            if st == "main":
                if any(not s.finished for s in self.specs("search")):
                    if stage is None:
                        break  # listed once the search has chosen every learning rate
                    raise ValueError("the main stage needs the learning-rate search finished first")
                planned = self._runs("main", self.best_learning_rates())
            else:
                planned = self._runs(st)
            for p in planned:
                data = self.splits.train if p.data[0] == "text" else _data(p.data)
                folder = run_dir(self.runs_root, p.name, p.model_cfg, p.train_cfg, data, eval_every=p.eval_every)
                if folder.name in seen:
                    continue  # the same run reached by two paths (e.g. a search at the full budget is seed 0)
                seen.add(folder.name)
                out.append(RunSpec(folder.name, st, train_run,
                                   dict(name=p.name, model_cfg=p.model_cfg, train_cfg=p.train_cfg, data=p.data, root=str(self.runs_root),
                                        eval_every=p.eval_every, eval_windows=self.P.eval_windows, device=str(self.device)),
                                   folder / "model.pt", cost=float(p.train_cfg.steps * p.train_cfg.batch_size * p.train_cfg.seq_len)))
        return out

    # ---- reading back (every call finds its run in the cache, or trains it here) ----------------------

    def search(self) -> tuple[dict, dict]:
        """The learning-rate search: (model name -> best :class:`Run`, model name -> {lr: validation PPL})."""
        best, searched = {}, {}
        for label, cfg in self.configs.items():
            best[label], searched[label] = best_learning_rate(MODEL_SLUGS[label], cfg, with_steps(self.train_cfg, self.search_steps),
                                                              self.P.learning_rates, self.splits.train, **self.common)
        return best, searched

    def best_learning_rates(self) -> dict:
        """Model name -> the learning rate its search chose (on validation)."""
        return {label: r.train_cfg.lr for label, r in self.search()[0].items()}

    def main(self, best_lr: dict) -> SimpleNamespace:
        """The main stage's runs: ``seeds`` (name -> runs per seed), ``sweep`` and ``sweep_detached``
        (lambda -> run), ``zero_seeds`` (variant -> lambda-0 runs per seed, the sweep's own first) and
        ``at_sweep_budget`` (GRU and Transformer at the sweep's steps)."""
        planned = self._runs("main", best_lr)
        seeds = {label: [self._read(p) for p in planned if p.group == "seed" and p.label == label] for label in self.configs}
        sweep = {p.extra["lam"]: self._read(p) for p in planned if p.group == "sweep" and p.label == "inertial"}
        detached = {p.extra["lam"]: self._read(p) for p in planned if p.group == "sweep" and p.label == "detached"}
        zero = {variant: [sw[0.0]] + [self._read(p) for p in planned if p.group == "zero-seed" and p.label == variant]
                for variant, sw in (("inertial", sweep), ("detached", detached))}
        budget = {p.label: self._read(p) for p in planned if p.group == "sweep-budget"}
        return SimpleNamespace(seeds=seeds, sweep=sweep, sweep_detached=detached, zero_seeds=zero, at_sweep_budget=budget)

    def probe(self, task: str) -> tuple[dict, list]:
        """A probe's runs: (probe model label -> run at the chapter's seed, the TGN's runs at every seed)."""
        if task not in ("recall", "mqar"):
            raise ValueError(f"task={task!r} is not 'recall' or 'mqar'")
        planned = self._runs("search")
        first = {p.label: self._read(p) for p in planned if p.group == task}
        return first, [first["TGN"]] + [self._read(p) for p in planned if p.group == f"{task}-seeds"]


def prepare(P: SimpleNamespace, seed: int = 0, output_dir="tgn-output", device="cpu") -> Training:
    """The chapter's data, models at matched parameter count and schedule, before any training.

    Parameters
    ----------
    P : types.SimpleNamespace
        The chapter's resolved knobs (:func:`tgnlib.chapter.open_chapter`).
    seed : int, default 0
        The chapter's seed: data split, first training seed.
    output_dir : path, default "tgn-output"
        Runs go to ``<output_dir>/runs/tgn``.
    device : str or torch.device, default "cpu"

    Returns
    -------
    Training
    """
    splits = _token_splits(P.corpus, P.tokenizer, seed)
    base = TGNConfig(vocab_size=splits.vocab_size, context=P.context, d_model=P.d_model, n_layers=P.n_layers,
                     n_heads=max(4, P.d_model // 64), inertial="gru", lam=P.lam)
    train_cfg = with_steps(TrainConfig(steps=P.steps, batch_size=P.batch_size, seq_len=P.context, lr=P.learning_rates[0], seed=seed),
                           P.steps)
    target = count_parameters(replace(base, mode="tgn"))
    configs = {
        TGN_NAME: replace(base, mode="tgn"),
        T_NAME: matched_config(replace(base, mode="transformer"), target),
        GRU_NAME: matched_config(replace(base, mode="inertial"), target),
        "Mamba-like alone": matched_config(replace(base, mode="inertial", inertial="mamba"), target),
        "TGN (GRU), hard gate trained": replace(base, mode="tgn", gate="hard", gate_bias=0.1),
        "TGN (GRU), capacity router (10%)": replace(base, mode="tgn", gate="capacity", capacity=0.1, lam=0.0),
    }
    return Training(P, seed, device, splits, Path(output_dir) / "runs" / "tgn", base, train_cfg, configs, target)

