"""Knobs of chapter 2.4 (brain, claims B1-B4)."""

from ..brain.insilico import INDUCTIONS
from ..runs import check_executor_form
from . import ChapterKnobs, Knob, KnobError


def _check(p) -> None:
    if any(not 0 < q < 1 for q in p.quantiles):
        raise KnobError(f"knob quantiles={p.quantiles!r} is not allowed: each must lie strictly between 0 and 1")
    if p.motion == "fmriprep" and p.derivatives_dir is None:
        raise KnobError("knob motion='fmriprep' needs derivatives_dir (the fMRIPrep output folder); use motion='realign' for raw data")
    if len(set(p.inductions)) != len(p.inductions):
        raise KnobError(f"knob inductions={p.inductions!r} names an induction twice")
    try:
        check_executor_form(p.executor)
    except ValueError as err:
        raise KnobError(f"knob {err}") from None


KNOBS = ChapterKnobs("brain", (
    Knob("data_dir", "path", "where ds003171 is (or goes, at full); None: <output_dir>/data/ds003171", nullable=True,
         ci=None, laptop=None, full=None),
    Knob("sedation_data", "bool", "whether the scale reads ds003171 (False: the synthetic fixture)", tunable=False,
         ci=False, laptop=False, full=True),
    Knob("subjects", "list[str]", "ds003171 subject labels (like '02CB'); None: all with a rest run in each of the four states "
         "(ci reads three of the fixture's five: the realignment is most of its time)",
         nullable=True, ci=["01CB", "02CB", "03CB"], laptop=None, full=None),
    Knob("fixture_volumes", "int", "volumes per run of the synthetic fixture read where sedation_data is False (200 keep a "
         "2-source state low-rank after the confounds; ci takes fewer, since realigning them is most of its time)",
         unit="volumes", low=30, high=2000, ci=100, laptop=200, full=200),
    Knob("motion", "str", "head motion: 'realign' (raw data: rigid realignment with dipy, 6 regressors, FD scrubbing) or "
         "'fmriprep' (fMRIPrep derivatives read with nilearn's load_confounds)", choices=("realign", "fmriprep"),
         ci="realign", laptop="realign", full="realign"),
    Knob("derivatives_dir", "path", "fMRIPrep output folder, for motion='fmriprep'", nullable=True, ci=None, laptop=None, full=None),
    Knob("fd_threshold_mm", "float", "framewise displacement above which a frame is censored (with 1 before, 2 after)", unit="mm",
         low=0.01, high=10, ci=0.5, laptop=0.5, full=0.5),
    Knob("n_parcels", "int", "data-driven parcels per subject", unit="parcels", low=4, high=1000, ci=30, laptop=30, full=100),
    Knob("quantiles", "list[float]", "distance quantiles separating long- from short-range connections", low=0, high=1,
         ci=[0.33, 0.5, 0.67], laptop=[0.33, 0.5, 0.67], full=[0.33, 0.5, 0.67]),
    Knob("n_seeds", "int", "simulated runs per induction and of the sham (the lag CI is over these)", unit="runs", low=2, high=10000,
         ci=6, laptop=40, full=50),
    Knob("inductions", "list[str]", "ramps: 'long-range' (the paper's mechanism); controls 'global', 'global-up', "
         "'bifurcation' (the sham, no ramp, always runs)",
         choices=INDUCTIONS, ci=list(INDUCTIONS), laptop=list(INDUCTIONS), full=list(INDUCTIONS)),
    Knob("couplings", "list[float]", "global couplings tried when calibrating the model to the HCP connectivity", low=1e-6,
         high=100, ci=[0.25, 0.5, 1.0], laptop=[0.25, 0.5, 1.0], full=[0.25, 0.5, 1.0]),
    Knob("ramp_s", "float", "induction ramp duration", unit="simulated s", low=10, high=36000, ci=240.0, laptop=240.0, full=480.0),
    Knob("executor", "str", "where the realignments and simulations run (tgnlib.runs.make_executor): 'local' (this process), "
         "'processes:N', 'dask-local:N', 'dask:ADDRESS' or 'submitit:FOLDER'", ci="processes:2", laptop="processes:2",
         full="processes:8"),
    Knob("n_surrogates", "int", "noise and phase-randomised surrogates per run for each reading's ceilings", unit="surrogates", low=1,
         high=1000, ci=5, laptop=10, full=20),
), check=_check)
