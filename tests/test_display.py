import matplotlib
import numpy as np
import pandas as pd
import pytest

from tgnlib.display import NA, PAGE_WIDTH_IN, STYLE, format_table, use_book_style

matplotlib.use("Agg")


def test_tables_have_formatted_numbers_no_index_and_a_caption():
    df = pd.DataFrame({"model": ["TGN", "GRU"], "val PPL": [201.3196, 196.645063], "params": [1234567, 1200000],
                       "change": [0.0123, -0.5], "gate": [np.nan, 0.25]})
    html = format_table(df, "Validation perplexity (ci, seed 0)", formats={"change": "{:+.1%}"}).to_html()
    assert 'class="dataframe"' not in html  # the marker the book's tests look for in raw reprs
    assert "Validation perplexity (ci, seed 0)" in html
    assert "201.3" in html and "196.6" in html and "201.3196" not in html  # four significant digits, not the raw float
    assert "1,234,567" in html and "+1.2%" in html and "-50.0%" in html and NA in html
    assert ">0<" not in html.replace("> 0<", "")  # no 0..n index column
    assert 'class="dataframe"' in df.to_html()  # and the raw repr does carry it: the check can fail


def test_format_table_refuses_unknown_columns_and_empty_captions():
    df = pd.DataFrame({"a": [1.0]})
    with pytest.raises(ValueError, match=r"columns \['b'\].*its columns are \['a'\]"):
        format_table(df, "x", formats={"b": "{:.1f}"})
    with pytest.raises(ValueError, match="caption is empty"):
        format_table(df, "  ")


def test_small_and_large_columns_keep_four_significant_digits_at_most_four_decimals():
    html = format_table(pd.DataFrame({"tiny": [0.000123, 0.000456], "big": [12345.6, 23456.7]}), "scales").to_html()
    assert "0.0001" in html and "12,346" in html


def test_the_book_style_draws_figures_at_the_page_width_with_legible_fonts():
    import matplotlib.pyplot as plt

    use_book_style()
    try:
        fig = plt.figure()
        width_px = fig.get_figwidth() * fig.dpi
        assert fig.get_figwidth() == PAGE_WIDTH_IN and width_px <= 820  # shown at about 800 px: barely shrunk
        assert min(plt.rcParams["legend.fontsize"], plt.rcParams["xtick.labelsize"], plt.rcParams["ytick.labelsize"]) >= 9
        plt.close(fig)
    finally:
        plt.rcdefaults()
    assert STYLE.is_file()
