"""A chapter's heavy runs as data, handed to any ``concurrent.futures``-style executor, one shared cache.

A chapter's expensive loop (the TGN chapter's models x seeds x learning rates x lambdas, the spin-glass
chapter's solvers x sizes x schedule lengths) is a list of :class:`RunSpec`: a module-level function,
its (picklable) arguments, and the cache file whose existence marks the run finished. The list is made
without running anything (:func:`tgnlib.tgn.plan.prepare`, :func:`tgnlib.spinglass.plan.prepare`), so
it can be printed, costed, and handed out:

* :func:`execute` submits the runs not yet finished to an executor (anything with ``submit`` that
  returns futures: :class:`concurrent.futures.ProcessPoolExecutor`, a Dask ``Client`` or its
  ``get_executor()``, submitit's ``AutoExecutor`` for Slurm job arrays), waits with a progress bar,
  reports every failed run with its key and traceback while the rest go on, and resubmits a run whose
  worker died (the run resumes from the checkpoint it left). With no executor the runs train in this
  process one after another, which is what a notebook did before and gives the same numbers.
* The notebook then reads every result from the cache exactly as before. It never assembles from a
  partial cache: :func:`execute` raises :class:`RunsFailed` naming every run that did not finish, and
  :func:`require_complete` makes the same check for a cache filled elsewhere (Slurm array jobs running
  ``python -m tgnlib.runs do``).

The cache is a folder every worker can reach (a shared filesystem at a cluster). Runs write their
``done`` file atomically (:func:`tgnlib.training.save_atomic`), hold a per-run lock while training
(:func:`tgnlib.tgn.experiment.hold_run`), and a run found finished is never run again.

Command line::

    python -m tgnlib.runs list --chapter tgn --scale laptop [--output-dir DIR]
    python -m tgnlib.runs do --chapter tgn --scale laptop --key tgn-3fa2c1d0 [--output-dir DIR]
    python -m tgnlib.runs do --chapter tgn --scale laptop --all --executor dask-local:2
    python -m tgnlib.runs list --chapter tgn --scale ci --set steps=400 --set "learning_rates=[1e-3, 3e-3]"
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

EXECUTOR_FORMS = ("local", "processes:N", "dask-local:N", "dask:ADDRESS", "submitit:FOLDER")


@dataclass(frozen=True)
class RunSpec:
    """One independent run of a chapter, described before it runs.

    Attributes
    ----------
    key : str
        Its cache folder's name (configuration, data and code fingerprinted), unique in the chapter.
    stage : str
        Runs of a later stage depend on results of an earlier one (the TGN chapter's seeds need the
        learning rate its search chose): ``"search"``, ``"main"``...
    call : callable
        A module-level function (workers import it by name), called as ``call(**kwargs)``.
    kwargs : dict
        Its arguments; picklable and small (data is named, not shipped: workers load it themselves).
    done : pathlib.Path
        The file whose presence marks the run finished.
    cost : float or None, default None
        Estimated cost where known, in the unit its plan module names (``COST_UNIT``: training tokens, spin updates...).
    """

    key: str
    stage: str
    call: Callable
    kwargs: dict = field(hash=False, compare=False)
    done: Path = field(hash=False, compare=False)
    cost: float | None = field(default=None, hash=False, compare=False)

    @property
    def finished(self) -> bool:
        """Whether the run's ``done`` file exists."""
        return Path(self.done).is_file()


class RunsFailed(RuntimeError):
    """Some runs raised; ``failures`` maps each key to its traceback (the other runs finished)."""

    def __init__(self, failures: dict[str, str]):
        self.failures = failures
        lines = "\n".join(f"--- {key} ---\n{tb}" for key, tb in failures.items())
        super().__init__(f"{len(failures)} run(s) failed: {sorted(failures)}\n{lines}")


class RunsMissing(RuntimeError):
    """Runs a chapter needs are not in the cache; the message names them."""


def chapters_with_runs() -> tuple[str, ...]:
    """The chapters whose heavy runs are listed (those with a ``tgnlib.<chapter>.plan`` module).

    Returns
    -------
    tuple of str
    """
    # found, not registered: a chapter gains fan-out by adding its plan module, without editing this file
    # (which every fanned-out chapter's record depends on)
    package = Path(__file__).parent
    return tuple(sorted(p.parent.name for p in package.glob("*/plan.py")))


def cost_unit(chapter: str) -> str:
    """The unit of a chapter's run costs (its plan module's ``COST_UNIT``).

    Parameters
    ----------
    chapter : str
        One of :func:`chapters_with_runs`.

    Returns
    -------
    str
    """
    return _plan_module(chapter).COST_UNIT


def _plan_module(chapter: str):
    if chapter not in chapters_with_runs():
        raise ValueError(f"chapter={chapter!r} has no run list; chapters with one: {chapters_with_runs()}")
    return importlib.import_module(f"tgnlib.{chapter}.plan")


def do(spec: RunSpec) -> str:
    """Run one spec (what a worker executes) and return its key.

    Parameters
    ----------
    spec : RunSpec

    Returns
    -------
    str
        ``spec.key``, once ``spec.done`` exists.
    """
    spec.call(**spec.kwargs)
    if not spec.finished:
        raise RuntimeError(f"run {spec.key} returned without writing {spec.done}")
    return spec.key


def pending(specs) -> list[RunSpec]:
    """The specs whose runs are not finished, in order.

    Parameters
    ----------
    specs : iterable of RunSpec

    Returns
    -------
    list of RunSpec
    """
    specs = list(specs)
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"run keys repeat: {sorted({k for k in keys if keys.count(k) > 1})}")
    return [s for s in specs if not s.finished]


def _worker_died(err: BaseException) -> bool:
    # a worker process that was killed mid-run: Dask gives up with KilledWorker after its own retries; a
    # process pool breaks; submitit reports an UncompletedJobError. The run's checkpoint is left; resubmit.
    names = {type(err).__name__ for err in (err, err.__cause__) if err is not None}
    return bool(names & {"KilledWorker", "BrokenProcessPool", "UncompletedJobError", "CancelledError"})


def execute(specs, executor=None, progress: bool = True, resubmit: int = 2) -> dict:
    """Run every spec not yet finished, locally or on ``executor``, and wait for all of them.

    Parameters
    ----------
    specs : iterable of RunSpec
    executor : object or None, default None
        ``None``: in this process, one after another, in order (the same numbers as a notebook
        calling each run itself). Otherwise anything with ``submit(fn, *args) -> future`` whose
        futures have ``result()``: :class:`concurrent.futures.Executor`, ``distributed.Client``,
        ``submitit.AutoExecutor`` (see :func:`make_executor`).
    progress : bool, default True
        A tqdm bar over the runs.
    resubmit : int, default 2
        Times a run is submitted again when its worker died (it resumes from its checkpoint). A run
        that raises is not retried: it is reported.

    Returns
    -------
    dict
        ``{"ran": [keys run now], "cached": [keys found finished]}``.

    Raises
    ------
    RunsFailed
        After every other run has finished, naming each failed run's key with its traceback.
    """
    specs = list(specs)
    todo = pending(specs)
    cached = [s.key for s in specs if s not in todo]
    failures: dict[str, str] = {}
    bar = tqdm(total=len(todo), desc="runs", disable=not progress or not todo)
    if executor is None:
        for spec in todo:
            bar.set_postfix_str(spec.key)
            try:
                do(spec)
            except Exception:  # noqa: BLE001 - every failure is reported with its traceback, the rest go on
                failures[spec.key] = traceback.format_exc()
            bar.update()
    else:
        tries = {s.key: 0 for s in todo}
        futures = {executor.submit(do, s): s for s in todo}
        while futures:
            future = next(iter(_as_completed(futures)))
            spec = futures.pop(future)
            try:
                future.result()
                bar.update()
            except BaseException as err:  # noqa: BLE001
                if _worker_died(err) and tries[spec.key] < resubmit:
                    tries[spec.key] += 1
                    futures[executor.submit(do, spec)] = spec
                    continue
                failures[spec.key] = "".join(traceback.format_exception(err))
                bar.update()
    bar.close()
    if failures:
        raise RunsFailed(failures)
    return {"ran": [s.key for s in todo], "cached": cached}


def _as_completed(futures):
    # concurrent.futures' as_completed takes only its own futures; Dask's and submitit's have done()
    if all(isinstance(f, cf.Future) for f in futures):
        return cf.as_completed(futures)
    try:
        from distributed import Future as DaskFuture, as_completed as dask_as_completed
        if all(isinstance(f, DaskFuture) for f in futures):
            return dask_as_completed(list(futures))
    except ImportError:
        pass
    return _poll(futures)


def _poll(futures, poll_s: float = 1.0):
    import time
    while True:
        for f in futures:
            if f.done():
                yield f
                return
        time.sleep(poll_s)


def require_complete(specs) -> None:
    """Refuse to go on while any run is unfinished.

    Parameters
    ----------
    specs : iterable of RunSpec

    Raises
    ------
    RunsMissing
        Naming every missing run and how to run it.
    """
    missing = pending(specs)
    if missing:
        raise RunsMissing(f"{len(missing)} run(s) are not in the cache: {[s.key for s in missing]}; run them "
                          "(tgnlib.runs.execute, or python -m tgnlib.runs do ...) before assembling the chapter")


def make_executor(form: str):
    """An executor from its written form (what the notebooks' ``executor`` knob holds).

    Parameters
    ----------
    form : str
        ``"local"`` (None: this process); ``"processes:N"`` (a pool of N local processes, spawned);
        ``"dask-local:N"`` (a Dask ``LocalCluster`` of N single-threaded worker processes);
        ``"dask:ADDRESS"`` (a running Dask scheduler, e.g. one ``dask-jobqueue`` started on Slurm);
        ``"submitit:FOLDER"`` (submitit's ``AutoExecutor`` logging to FOLDER: Slurm where there is
        one, else local processes). Anything else: build the executor in Python and pass the object.

    Returns
    -------
    object or None
    """
    kind, _, arg = str(form).partition(":")
    check_executor_form(form)
    if kind == "local":
        return None
    if kind == "processes":
        import multiprocessing
        threads = max(1, (os.cpu_count() or 1) // int(arg))  # N workers share the cores instead of each taking all
        return cf.ProcessPoolExecutor(int(arg), mp_context=multiprocessing.get_context("spawn"), initializer=_use_threads,
                                      initargs=(threads,))
    if kind == "dask-local":
        from distributed import Client, LocalCluster
        return Client(LocalCluster(n_workers=int(arg), threads_per_worker=1, processes=True))
    if kind == "dask":
        from distributed import Client
        return Client(arg)
    import submitit
    return submitit.AutoExecutor(folder=arg)


def _use_threads(n: int) -> None:
    import torch
    torch.set_num_threads(n)


def check_executor_form(form) -> None:
    """Refuse an executor form :func:`make_executor` does not know, naming the allowed ones.

    Parameters
    ----------
    form : str

    Raises
    ------
    ValueError
    """
    kind, sep, arg = str(form).partition(":")
    ok = (kind == "local" and not sep) or (kind in ("processes", "dask-local") and arg.isdigit() and int(arg) >= 1) \
        or (kind in ("dask", "submitit") and bool(arg))
    if not isinstance(form, str) or not ok:
        raise ValueError(f"executor={form!r} is not allowed; write one of {EXECUTOR_FORMS} (N >= 1 workers)")


def plan(chapter: str, scale: str, output_dir="tgn-output", seed: int = 0, device: str = "auto", stage: str | None = None,
         **knobs) -> list[RunSpec]:
    """The runs a chapter will need at a scale, listed without running any.

    Parameters
    ----------
    chapter : str
        One of :func:`chapters_with_runs`.
    scale : str
    output_dir : path, default "tgn-output"
        As the notebook's ``output_dir``: the cache lives under it.
    seed : int, default 0
    device : str, default "auto"
    stage : str or None, default None
        Only this stage; None: every stage whose inputs exist (a later stage is listed once the
        earlier one has finished).
    **knobs
        The chapter's knobs, as the notebook takes them.

    Returns
    -------
    list of RunSpec
    """
    return prepare(chapter, scale, output_dir, seed, device, **knobs).specs(stage)


def prepare(chapter: str, scale: str = "ci", output_dir="tgn-output", seed: int = 0, device: str = "auto", **knobs):
    """A chapter's run plan from a scale and knob overrides, as the notebook's parameters cell gives them.

    Parameters
    ----------
    chapter : str
        One of :func:`chapters_with_runs`.
    scale : str, default "ci"
    output_dir : path, default "tgn-output"
    seed : int, default 0
    device : str, default "auto"
    **knobs
        Any of the chapter's knobs, validated as the notebook validates them (text is parsed).

    Returns
    -------
    tgnlib.tgn.plan.Training, tgnlib.spinglass.plan.Measurement, ...
        Its ``specs(stage)`` lists the runs; its other methods read them back.
    """
    from .chapter import resolve_device
    from .knobs import knobs_of

    module = _plan_module(chapter)
    return module.prepare(knobs_of(chapter).resolve(scale, knobs), seed=seed, output_dir=output_dir, device=resolve_device(device))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tgnlib.runs", description="List or run a chapter's independent runs.")
    parser.add_argument("command", choices=("list", "do"))
    parser.add_argument("--chapter", required=True, choices=chapters_with_runs())
    parser.add_argument("--scale", required=True)
    parser.add_argument("--output-dir", default="tgn-output")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--stage", default=None)
    parser.add_argument("--key", action="append", default=[], help="a run to do (repeatable)")
    parser.add_argument("--all", action="store_true", help="do every listed run not yet finished")
    parser.add_argument("--executor", default="local", help=f"one of {EXECUTOR_FORMS}")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="a knob, as the notebook's papermill -p takes it (repeatable)")
    args = parser.parse_args(argv)
    knobs = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: write KNOB=VALUE")
        knobs[name] = value
    specs = plan(args.chapter, args.scale, args.output_dir, args.seed, args.device, args.stage, **knobs)
    if args.command == "list":
        for s in specs:
            cost = "" if s.cost is None else f"{s.cost:.3g}"
            print(f"{s.key}\t{s.stage}\t{'finished' if s.finished else 'to do'}\t{cost}")
        waiting = sum(not s.finished for s in specs)
        print(f"{len(specs)} runs listed, {waiting} to do (cost: {cost_unit(args.chapter)})", file=sys.stderr)
        return 0
    if not args.all and not args.key:
        parser.error("do needs --key KEY (repeatable) or --all")
    chosen = specs if args.all else [s for s in specs if s.key in args.key]
    unknown = set(args.key) - {s.key for s in specs}
    if unknown:
        parser.error(f"no listed run has key {sorted(unknown)}; see `list`")
    result = execute(chosen, make_executor(args.executor))
    print(f"ran {len(result['ran'])}, found finished {len(result['cached'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
