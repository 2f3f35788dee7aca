"""Knobs of chapter 2.2 (3D Edwards-Anderson spin glass, claims S1-S4 and A1)."""

from . import ChapterKnobs, Knob, KnobError


def _check(p) -> None:
    odd = [L for L in p.sizes if L % 2]
    if odd:
        raise KnobError(f"knob sizes={p.sizes!r} is not allowed: L={odd} is odd (the checkerboard update needs even L)")
    if p.sizes != sorted(set(p.sizes)):
        raise KnobError(f"knob sizes={p.sizes!r} is not allowed: list each L once, increasing")
    missing = [L for L in p.sizes if L not in p.reference_sweeps]
    if missing:
        raise KnobError(f"knob reference_sweeps={p.reference_sweeps!r} has no entry for L={missing}; give one per size in sizes")


KNOBS = ChapterKnobs("spinglass", (
    Knob("sizes", "list[int]", "linear sizes L (even, increasing)", low=2, high=64, ci=[4, 6, 8], full=[4, 6, 8, 10, 12]),
    Knob("instances", "int", "disorder instances per L", unit="instances", low=1, high=10000, ci=4, full=16),
    Knob("budget", "int", "sweeps per instance, all replicas together, for every compared method", unit="sweeps", low=16,
         high=2**30, ci=2**16, full=2**20),
    Knob("replicas", "int", "population of SA restarts, Langevin and attention replicas (PT uses its own ladder)", low=2,
         high=4096, ci=16, full=64),
    Knob("reference_sweeps", "dict[int,int]", "reference PT: ladder sweeps per chain, per L", unit="sweeps", low=1,
         ci={4: 4000, 6: 15000, 8: 40000}, full={4: 10**4, 6: 10**5, 8: 3 * 10**5, 10: 10**6, 12: 10**6}),
    Knob("target_residual", "float", "A1: residual energy per spin that counts as 'reached'", unit="energy per spin",
         low=1e-9, high=1.0, ci=0.02, full=0.02),
), check=_check)
