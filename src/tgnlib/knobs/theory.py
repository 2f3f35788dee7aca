"""Knobs of chapter 2.1 (theory, claims T1-T5).

The paper gives no sizes for its theory, so ``full`` is ours. On this project's 2-core CPU the old
``full`` preset (N up to 8192, mixing up to 4096, n up to 2048) ran in 8 minutes, so ``laptop`` goes
further (N up to 16384, exact mixing up to 8192, n up to 4096, twice the text) and ``full`` equals it:
there is nothing a GPU would add that these claims need.
"""

from . import ChapterKnobs, Knob

_N_LAPTOP = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
_HEAD_DIMS = [16, 32, 64, 128, 256]
_KEYS_LAPTOP = [8, 32, 128, 512, 2048, 4096]

KNOBS = ChapterKnobs("theory", (
    Knob("n_values", "list[int]", "T2/T3: numbers of points N", unit="points", low=8, high=32768,
         ci=[64, 128, 256, 512, 1024, 2048], laptop=_N_LAPTOP, full=_N_LAPTOP),
    Knob("mixing_n_max", "int", "T3: largest N for the exact mixing time (dense eigendecomposition)", unit="points", low=8,
         high=32768, ci=1024, laptop=8192, full=8192),
    Knob("point_dim", "int", "T2/T3: dimension d of the points", low=2, high=4096, ci=64, laptop=64, full=64),
    Knob("head_dims", "list[int]", "T4: head dimensions d of the random queries and keys", low=1, high=4096,
         ci=[16, 64, 256], laptop=_HEAD_DIMS, full=_HEAD_DIMS),
    Knob("key_counts", "list[int]", "T4: numbers of keys n", low=2, high=65536, ci=[32, 128, 512], laptop=_KEYS_LAPTOP,
         full=_KEYS_LAPTOP),
    Knob("text_sequences", "int", "T1/T4: sequences of real text fed to MiniLM", unit="sequences", low=1, high=4096,
         ci=16, laptop=128, full=128),
    Knob("net_depth", "int", "T5: blocks of the random networks", unit="blocks", low=2, high=1024, ci=24, laptop=96, full=96),
))
