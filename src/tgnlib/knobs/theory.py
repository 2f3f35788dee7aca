"""Knobs of chapter 2.1 (theory, claims T1-T5)."""

from . import ChapterKnobs, Knob

KNOBS = ChapterKnobs("theory", (
    Knob("n_values", "list[int]", "T2/T3: numbers of points N", unit="points", low=8, high=32768,
         ci=[64, 128, 256, 512, 1024, 2048], laptop=[64, 128, 256, 512, 1024, 2048, 4096, 8192],
         full=[64, 128, 256, 512, 1024, 2048, 4096, 8192]),
    Knob("mixing_n_max", "int", "T3: largest N for the exact mixing time (dense eigendecomposition)", unit="points", low=8,
         high=32768, ci=1024, laptop=4096, full=4096),
    Knob("point_dim", "int", "T2/T3: dimension d of the points", low=2, high=4096, ci=64, laptop=64, full=64),
    Knob("head_dims", "list[int]", "T4: head dimensions d of the random queries and keys", low=1, high=4096,
         ci=[16, 64, 256], laptop=[16, 32, 64, 128, 256], full=[16, 32, 64, 128, 256]),
    Knob("key_counts", "list[int]", "T4: numbers of keys n", low=2, high=65536, ci=[32, 128, 512],
         laptop=[32, 128, 512, 2048], full=[32, 128, 512, 2048]),
    Knob("text_sequences", "int", "T1/T4: sequences of real text fed to MiniLM", unit="sequences", low=1, high=4096,
         ci=16, laptop=64, full=64),
    Knob("net_depth", "int", "T5: blocks of the random networks", unit="blocks", low=2, high=1024, ci=24, laptop=48, full=48),
))
