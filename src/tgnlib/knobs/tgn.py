"""Knobs of chapter 2.5 (the Thermodynamic Gated Network, claims G1-G8).

``laptop`` (about 2 hours on 2 CPU cores, its runs on two single-threaded worker processes, executor
``processes:2``; see the records' provenance for the measured time): Shakespeare's plays (long documents),
width 64, 2 blocks, context 256, 3,000 steps of 8 x 256 tokens (6.1M tokens) for 3 seeds of every model; the
learning-rate search (4 rates per model, doubling from 2e-3: with 3 rates from 1e-3 every model chose the
largest, and with 4 (1e-3 to 8e-3, the record of bc8c274) 4 of the 6 models still did) and the 7-point lambda
sweep (lambda 0 and the issue's six values, both gate gradients, lambda 0 at every seed) at 500 steps, a proxy
budget the same for every model; recall and MQAR (12 pairs in 64 tokens, more than a recurrent state of this
width holds, with 8 of the 20 query slots left free so that the position-matched control has tokens to read)
at 2,000 steps. ``ci`` trains on two processes too (the README gives its time against this one process).
"""

from ..text import CORPORA
from ..runs import check_executor_form
from ..tokens import TOKENIZERS
from . import ChapterKnobs, Knob, KnobError

_LAMBDAS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0]
_LAPTOP_LAMBDAS = _LAMBDAS[1:]  # the grid issue 18 asks for


def _check(p) -> None:
    if p.lambdas != sorted(set(p.lambdas)):
        raise KnobError(f"knob lambdas={p.lambdas!r}: list each lambda once, increasing")
    try:
        check_executor_form(p.executor)
    except ValueError as err:
        raise KnobError(f"knob {err}") from None
    for name in ("steps", "search_steps", "sweep_steps"):
        if getattr(p, name) < 40:
            raise KnobError(f"knob {name}={getattr(p, name)!r} is not allowed: at least 40 (the trajectories are smoothed over 10 steps)")


KNOBS = ChapterKnobs("tgn", (
    Knob("corpus", "str", "training text", choices=(*CORPORA, "wikitext-103"), ci="wiki-offline", laptop="shakespeare",
         full="wikitext-103"),
    Knob("tokenizer", "str", "'bpe' (trained on the training split), 'bytes' or 'gpt2'", choices=TOKENIZERS, ci="bpe",
         laptop="bpe", full="gpt2"),
    Knob("d_model", "int", "width of the TGN; every baseline's width is chosen to match its parameter count", low=8,
         high=8192, ci=64, laptop=64, full=512),
    Knob("n_layers", "int", "blocks", low=1, high=128, ci=2, laptop=2, full=8),
    Knob("context", "int", "tokens per training sequence and per evaluation window", unit="tokens", low=8, high=16384,
         ci=128, laptop=256, full=512),
    Knob("steps", "int", "optimiser steps per run (the token budget is steps x batch_size x context)", unit="steps", low=1,
         high=10**7, ci=100, laptop=3000, full=20000),
    Knob("search_steps", "int", "optimiser steps of each learning-rate search run (capped at steps; the chosen rate is "
         "then trained at steps for every seed)", unit="steps", low=1, high=10**7, ci=100, laptop=500, full=20000),
    Knob("sweep_steps", "int", "optimiser steps of each run of the lambda sweep (capped at steps; the fixed-gate "
         "baselines are trained at the same budget for comparison)", unit="steps", low=1, high=10**7, ci=100, laptop=500,
         full=20000),
    Knob("batch_size", "int", "sequences per step", low=1, high=4096, ci=16, laptop=8, full=32),
    Knob("learning_rates", "list[float]", "learning-rate search, the same for every model; the best on validation is kept",
         low=1e-7, high=1.0, ci=[3e-3], laptop=[2e-3, 4e-3, 8e-3, 1.6e-2], full=[3e-4, 6e-4, 1e-3]),
    Knob("lam", "float", "gate penalty weight lambda of the main TGN runs", low=0, high=1e3, ci=0.01, laptop=0.01, full=0.01),
    Knob("n_seeds", "int", "training seeds of every model at its chosen learning rate (intervals, gate trajectories)",
         low=1, high=100, ci=3, laptop=3, full=3),
    Knob("lambdas", "list[float]", "lambda sweep (increasing log grid; lambda 0 is always added)", low=1e-9, high=1e3,
         ci=[1e-3, 1e-2, 1e-1, 1.0], laptop=_LAPTOP_LAMBDAS, full=_LAMBDAS),
    Knob("eval_windows", "int", "evaluation windows per split; None: the whole split", low=1, high=10**7, nullable=True,
         ci=256, laptop=None, full=None),
    Knob("recall_steps", "int", "training steps on the synthetic recall task", unit="steps", low=1, high=10**6, ci=200,
         laptop=2000, full=3000),
    Knob("mqar_steps", "int", "training steps on multi-query associative recall (MQAR)", unit="steps", low=1, high=10**6,
         ci=200, laptop=2000, full=20000),
    Knob("mqar_pairs", "int", "key-value pairs per MQAR sequence of 64 tokens (enough that a recurrent state cannot hold "
         "them all, else the probe needs no attention; at most 15, so that the query region keeps free slots: at 16 "
         "every slot holds a query in every sequence and G8's position-matched control has no token to read)", low=1,
         high=15, ci=4, laptop=12, full=12),
    Knob("executor", "str", "where the independent runs train (tgnlib.runs.make_executor): 'local' (this process), "
         "'processes:N', 'dask-local:N', 'dask:ADDRESS' or 'submitit:FOLDER'", ci="processes:2", laptop="processes:2", full="local"),
), check=_check)
