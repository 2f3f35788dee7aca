"""Knobs of chapter 2.3 (layer-wise rank of pretrained language models, claims L1-L5).

``laptop`` runs SmolLM2 (the only causal LM that ships offline) on 64 sequences of 256 tokens over the
17-point temperature grid refined twice near the transitions, and trains the book's Llama-type pair
(8 blocks, width 256, about 6.8M parameters each) for 1500 steps of 16 x 256 tokens after a
learning-rate search of 150-step runs; about 1.5 hours on a 2-core CPU. ``full`` is the paper's models
and data (GPT-2, TinyLlama-1.1B, WikiText-103; a GPU and the hub) with a larger pair.
"""

from ..llm.causal import available_offline
from ..text import CORPORA
from . import ChapterKnobs, Knob, KnobError

# Log grids from 1/4 to 4 with T = 1 on the grid: 9 points (ci) and 17 points (full).
_TEMPERATURES_CI = [0.25 * 2 ** (k / 2) for k in range(9)]
_TEMPERATURES_FULL = [0.25 * 2 ** (k / 4) for k in range(17)]


def _check(p) -> None:
    if p.offline:
        missing = [m for m in p.models if not available_offline(m)]
        if missing:
            raise KnobError(f"knob models={p.models!r}: {missing} not available offline (packaged, a local folder, or in the "
                            "Hugging Face cache); set offline=False where the hub is reachable, or use 'SmolLM2-135M-Instruct'")
    if p.corpus == "wikitext-103" and p.offline:
        raise KnobError("knob corpus='wikitext-103' needs the Hugging Face hub: set offline=False, or use an offline corpus "
                        f"{sorted(CORPORA)}")
    if len(p.temperatures) < 3 or p.temperatures != sorted(p.temperatures):
        raise KnobError(f"knob temperatures={p.temperatures!r}: need at least 3, increasing (a transition needs a grid)")


_GPT_LRS = [5e-4, 1e-3, 2e-3]

KNOBS = ChapterKnobs("llm_rank", (
    Knob("models", "list[str]", "pretrained model names: packaged, Hugging Face ids or local folders", ci=["SmolLM2-135M-Instruct"],
         laptop=["SmolLM2-135M-Instruct"], full=["gpt2", "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"]),
    Knob("corpus", "str", "text the models read (and the book's pair is trained on)", choices=(*CORPORA, "wikitext-103"),
         ci="wiki-offline", laptop="wiki-offline", full="wikitext-103"),
    Knob("seq_len", "int", "tokens per sequence", unit="tokens", low=8, high=8192, ci=256, laptop=256, full=512),
    Knob("n_seqs", "int", "sequences (the bootstrap is over these)", unit="sequences", low=2, high=100000, ci=12, laptop=64,
         full=256),
    Knob("temperatures", "list[float]", "attention temperatures T (increasing, log grid)", low=1e-3, high=1e3,
         ci=_TEMPERATURES_CI, laptop=_TEMPERATURES_FULL, full=_TEMPERATURES_FULL),
    Knob("refine_rounds", "int", "L5: rounds of halving the temperature step around each curve's transition", low=0, high=6,
         ci=1, laptop=2, full=2),
    Knob("gpt_width", "int", "book-trained pair: width of the residual stream", unit="features", low=16, high=4096, ci=64,
         laptop=256, full=512),
    Knob("gpt_layers", "int", "book-trained pair: decoder blocks", unit="blocks", low=2, high=64, ci=6, laptop=8, full=12),
    Knob("gpt_steps", "int", "book-trained pair: optimiser steps of each full run (batch 16 x seq_len tokens)", unit="steps",
         low=10, high=10**6, ci=150, laptop=1500, full=20000),
    Knob("gpt_learning_rates", "list[float]", "book-trained pair: learning rates tried by runs of a tenth of gpt_steps",
         low=1e-6, high=1.0, ci=[1e-3, 3e-3], laptop=_GPT_LRS, full=_GPT_LRS),
    Knob("offline", "bool", "use only files on this machine", ci=True, laptop=True, full=False),
), check=_check)
