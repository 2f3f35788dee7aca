"""Knobs of chapter 2.4 (brain, claims B1-B4)."""

from ..brain.insilico import INDUCTIONS
from . import ChapterKnobs, Knob, KnobError


def _check(p) -> None:
    if any(not 0 < q < 1 for q in p.quantiles):
        raise KnobError(f"knob quantiles={p.quantiles!r} is not allowed: each must lie strictly between 0 and 1")
    if len(set(p.inductions)) != len(p.inductions):
        raise KnobError(f"knob inductions={p.inductions!r} names an induction twice")


KNOBS = ChapterKnobs("brain", (
    Knob("data_dir", "path", "where ds003171 is (or goes, at full); None: <output_dir>/data/ds003171", nullable=True,
         ci=None, full=None),
    Knob("sedation_data", "bool", "whether the scale reads ds003171 (False: the synthetic fixture)", tunable=False,
         ci=False, full=True),
    Knob("subjects", "list[str]", "ds003171 subject labels; None: all with four rest runs", nullable=True, ci=None, full=None),
    Knob("n_parcels", "int", "data-driven parcels per subject", unit="parcels", low=4, high=1000, ci=30, full=100),
    Knob("quantiles", "list[float]", "distance quantiles separating long- from short-range connections", low=0, high=1,
         ci=[0.33, 0.5, 0.67], full=[0.33, 0.5, 0.67]),
    Knob("n_seeds", "int", "simulated runs per induction and of the sham (the lag CI is over these)", unit="runs", low=2, high=10000,
         ci=12, full=50),
    Knob("inductions", "list[str]", "ramps: 'long-range' (the paper's mechanism); controls 'global', 'global-up', "
         "'bifurcation' (the sham, no ramp, always runs)",
         choices=INDUCTIONS, ci=list(INDUCTIONS), full=list(INDUCTIONS)),
    Knob("couplings", "list[float]", "global couplings tried when calibrating the model to the HCP connectivity", low=1e-6,
         high=100, ci=[0.25, 0.5, 1.0], full=[0.25, 0.5, 1.0]),
    Knob("ramp_s", "float", "induction ramp duration", unit="simulated s", low=10, high=36000, ci=240.0, full=480.0),
    Knob("n_jobs", "int", "worker processes for the simulations", low=1, high=1024, ci=2, full=8),
), check=_check)
