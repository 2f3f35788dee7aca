"""One cache key for every run the chapters keep on disk: configuration, data identity and code version.

A finished run is reused, and a killed one resumed, only when all three match: the same settings,
the same data (a run never resumes on another corpus or instance set) and the same source code of the
package that produced it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np


def data_fingerprint(data) -> str:
    """Short hash of an array's values, dtype and shape (NumPy arrays, torch tensors or nested lists).

    Parameters
    ----------
    data : array-like

    Returns
    -------
    str
        16 hex digits.
    """
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    arr = np.ascontiguousarray(np.asarray(data))
    digest = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    digest.update(arr.tobytes())
    return digest.hexdigest()[:16]


def code_fingerprint(*sources) -> str:
    """Short hash of the Python source a run executes: whole package folders, or single modules.

    Key a run on the files it runs, not on its whole package, so that editing an analysis module
    does not throw away hours of cached training (e.g. :func:`tgnlib.llm.small.small_lm_dir`).

    Parameters
    ----------
    *sources : path
        Folders (every ``*.py`` directly inside, e.g. ``tgnlib/tgn``) or ``.py`` files, in any mix.
        One folder gives the same hash as its files listed one by one in name order.

    Returns
    -------
    str
        10 hex digits.
    """
    if not sources:
        raise ValueError("code_fingerprint needs at least one folder or .py file")
    files = []
    for source in map(Path, sources):
        if not source.exists():
            raise FileNotFoundError(f"code_fingerprint: {source} does not exist")
        files += sorted(source.glob("*.py")) if source.is_dir() else [source]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def run_key(config: dict, data=None, code: str = "") -> str:
    """The cache key of one run: a hash of its configuration, its data's fingerprint and the code version.

    Parameters
    ----------
    config : dict
        JSON-serialisable settings of the run.
    data : array-like or None, default None
        The data the run reads (e.g. the training tokens); ``None`` when the configuration already
        names it completely.
    code : str, default ""
        A code version, e.g. :func:`code_fingerprint` of the package.

    Returns
    -------
    str
        8 hex digits.
    """
    payload = json.dumps({"config": config, "data": None if data is None else data_fingerprint(data), "code": code},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:8]
