"""Knobs of chapter 2.3 (layer-wise rank of pretrained language models, claims L1-L5)."""

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


KNOBS = ChapterKnobs("llm_rank", (
    Knob("models", "list[str]", "model names: packaged, Hugging Face ids or local folders", ci=["SmolLM2-135M-Instruct"],
         full=["gpt2", "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"]),
    Knob("corpus", "str", "text the models read", choices=(*CORPORA, "wikitext-103"), ci="wiki-offline", full="wikitext-103"),
    Knob("seq_len", "int", "tokens per sequence", unit="tokens", low=8, high=8192, ci=256, full=512),
    Knob("n_seqs", "int", "sequences (the bootstrap is over these)", unit="sequences", low=2, high=100000, ci=12, full=256),
    Knob("temperatures", "list[float]", "attention temperatures T (increasing, log grid)", low=1e-3, high=1e3,
         ci=_TEMPERATURES_CI, full=_TEMPERATURES_FULL),
    Knob("offline", "bool", "use only files on this machine", ci=True, full=False),
), check=_check)
