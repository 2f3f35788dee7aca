"""How the book shows numbers: one matplotlib style and one table helper for every chapter.

Figures are drawn at the width a page shows them (about 800 px at a 1400 px window: 8 inches at 100
dpi, :data:`PAGE_WIDTH_IN`), so fonts of 9 pt and more stay legible as displayed; the style lives in
one file, ``book.mplstyle``. Tables go through :func:`format_table`: numbers formatted per column,
no 0..n index, a caption naming what and in which units. A raw DataFrame repr in an executed
chapter is a defect, which the book's tests find by pandas' ``class="dataframe"`` marker (a
formatted table does not carry it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

STYLE = Path(__file__).with_name("book.mplstyle")
PAGE_WIDTH_IN = 8.0  # inches drawn at the page's content width (about 800 px at 100 dpi)
NA = "—"  # how a missing value reads in a table


def use_book_style() -> None:
    """Apply the book's matplotlib style (:data:`STYLE`) to every later figure."""
    import matplotlib.pyplot as plt

    plt.style.use(STYLE)


def _auto_format(values: pd.Series) -> str:
    # integers with thousands separators; otherwise enough decimals for four significant digits of the column's typical size
    finite = values[np.isfinite(values.astype(float))]
    if len(finite) and np.all(np.equal(np.mod(finite, 1), 0)):
        return "{:,.0f}"
    typical = float(np.median(np.abs(finite))) if len(finite) else 1.0
    decimals = 3 if typical == 0 else min(4, max(0, 3 - math.floor(math.log10(typical))))
    return "{:,.%df}" % decimals


def format_table(df: pd.DataFrame, caption: str, formats: dict | None = None, index: bool = False):
    """A DataFrame as the book shows it: formatted numbers, no 0..n index, a caption.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; put units in the column names (``"time (s)"``).
    caption : str
        What the table shows, its data and scale.
    formats : dict of str -> str or callable, optional
        Format per column (``"{:.1f}"``, ``"{:+.1%}"`` or a function); other numeric columns get
        four significant digits of their typical size (at most 4 decimals), integers a thousands separator.
    index : bool, default False
        Show the index (only when it carries meaning, e.g. a named row label).

    Returns
    -------
    pandas.io.formats.style.Styler
        For ``display()``; missing values read as :data:`NA`.

    Raises
    ------
    ValueError
        A column in ``formats`` that the table does not have, or an empty caption.
    """
    formats = dict(formats or {})
    unknown = [c for c in formats if c not in df.columns]
    if unknown:
        raise ValueError(f"formats names columns {unknown} that the table does not have; its columns are {list(df.columns)}")
    if not caption or not caption.strip():
        raise ValueError("caption is empty: say what the table shows, its data and scale")
    for column in df.columns:
        if column not in formats and pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_bool_dtype(df[column]):
            formats[column] = _auto_format(df[column])
    styler = df.style.format(formats, na_rep=NA).set_caption(caption)
    return styler if index else styler.hide(axis="index")
