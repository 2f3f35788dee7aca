import json

import pytest

from tgnlib import ledger


@pytest.fixture
def out(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "f.png").write_bytes(b"\x89PNG fake")
    return tmp_path


def record(out, **changes):
    args = dict(verdict="partly", reason="exact only for equal key norms", summary="TV {tv:.3f} over {heads} heads",
                measured={"tv": 0.3281, "heads": 72},
                scale="ci", data="MiniLM on wiki", figure="figures/f.png", label="claim-t1",
                provenance={"commit": "abc", "seed": 0})
    args.update(changes)
    return ledger.record_claim(out, "T1", **args)


def test_claims_list_has_every_section_in_order():
    claims = ledger.load_claims()
    ids = [c.id for c in claims]
    assert ids[:5] == ["T1", "T2", "T3", "T4", "T5"] and len(ids) == len(set(ids)) == 27
    assert {c.chapter for c in claims} == {"theory", "spinglass", "llm_rank", "brain", "tgn"}


def test_record_then_load_roundtrip(out):
    path = record(out)
    assert json.loads(path.read_text())["measured"]["heads"] == 72
    result = ledger.load_results(out)["T1"]
    assert result.rendered_summary() == "TV 0.328 over 72 heads"


def test_numpy_scalars_are_accepted():
    import numpy as np
    assert ledger._check_measured({"a": np.float64(1.5), "b": np.int64(3)}) == {"a": 1.5, "b": 3}


@pytest.mark.parametrize("changes, match", [
    (dict(verdict="sort of"), "verdict='sort of'"),
    (dict(scale="huge"), "scale='huge'"),
    (dict(summary="{missing}"), "does not fit"),
    (dict(figure="figures/nope.png"), "does not exist"),
    (dict(measured={"tv": float("nan"), "heads": 1}), "NaN"),
    (dict(measured={}), "non-empty"),
    (dict(reason=""), "needs a reason"),
    (dict(verdict="not decided at this scale", reason=" "), "needs a reason"),
])
def test_bad_records_are_named(out, changes, match):
    with pytest.raises(ValueError, match=match):
        record(out, **changes)


def test_unknown_claim_is_named(out):
    with pytest.raises(ValueError, match="'T9'"):
        ledger.record_claim(out, "T9", verdict="partly", reason="r", summary="x", measured={"a": 1}, scale="ci", data="d",
                            figure="figures/f.png", label="l")


def test_ledger_lists_every_claim_and_fills_measured_rows(out):
    record(out)
    text = ledger.render_ledger(ledger.load_claims(), ledger.load_results(out))
    ids = [line.split("**")[1] for line in text.splitlines() if line.startswith(":::{dropdown}")]
    assert ids == [c.id for c in ledger.load_claims()]
    t1 = text[text.index("(ledger-t1)="):text.index("(ledger-t2)=")]
    assert "{bdg-warning}`ci: partly`" in t1 and "Why: exact only for equal key norms" in t1 and "Measured: TV 0.328 over 72 heads" in t1
    assert "{ref}`in the chapter <claim-t1>`" in t1 and "../figures/f.png" in t1
    s1 = text[text.index("(ledger-s1)="):text.index("(ledger-s2)=")]
    assert "{bdg-light}`ci: not yet measured`" in s1
    assert "**1 of 27 claims measured**" in text and "| {bdg-warning}`partly` | 1 |" in text
    assert "| {bdg-light}`not yet measured` | 26 |" in text
    assert "*not decided at this scale*: the run is too small" in text  # the legend
    assert "{bdg-ref-warning}`T1 partly (ci) <ledger-t1>`" in text  # at a glance
    assert text.count("{bdg-ref-") == 27


def test_glance_takes_the_largest_scale_and_badges_say_their_verdict(out):
    record(out)
    result = ledger.load_results(out)["T1"]
    laptop = ledger.ClaimResult(**{**result.__dict__, "verdict": "not reproduced", "scale": "laptop"})
    recorded = {"laptop": {"T1": ledger.RecordedResult(laptop, "../records/x.png", "abcdef0123")}}
    got = ledger.largest_verdicts(ledger.load_claims(), {"T1": result}, recorded)
    assert got["T1"] == ("not reproduced", "laptop") and got["T2"] == ("not yet measured", "")
    glance = ledger.render_glance(ledger.load_claims(), {"T1": result}, recorded)
    assert "{bdg-ref-danger}`T1 not reproduced (laptop) <ledger-t1>`" in glance
    counts = ledger.render_counts(ledger.load_claims(), {"T1": result}, recorded)
    assert "| verdict | `ci` (this build) | `laptop` (record) |" in counts and "| {bdg-danger}`not reproduced` | 0 | 1 |" in counts
    with pytest.raises(ValueError, match="verdict='maybe'"):
        ledger.badge("maybe")
    assert ledger.badge("partly", "a `b` <c>") == "{bdg-warning}`a 'b' (c)`"  # role syntax cannot be broken


def test_front_page_status_is_generated(out, tmp_path):
    record(out)
    page = tmp_path / "intro.md"
    page.write_text("# Book\n\n" + ledger.STATUS_MARKER + "\n")
    ledger.write_front_page(out, page, chapter_records={"theory": {"laptop": True}})
    text = page.read_text()
    assert ledger.STATUS_MARKER not in text and "1 of 5 claims measured at `ci`" in text
    assert "`laptop` record (stale); the page shows `laptop`" in text and "no larger record yet; the page shows `ci`" in text
    assert text.count("{bdg-ref-") == 27
    page.write_text("# no marker")
    with pytest.raises(ValueError, match="verdicts-at-a-glance"):
        ledger.write_front_page(out, page)


def test_not_decided_is_counted_and_old_results_without_a_reason_still_load(out):
    record(out, verdict="not decided at this scale", reason="the loss still falls; train longer")
    path = out / "results" / "T1.json"
    assert "1 not decided at this scale" in ledger.render_ledger(ledger.load_claims(), ledger.load_results(out))
    old = json.loads(path.read_text())
    del old["reason"]
    path.write_text(json.dumps(old))
    assert ledger.load_results(out)["T1"].reason == ""


def test_write_ledger_page_needs_the_marker(out, tmp_path):
    template = tmp_path / "t.md"
    template.write_text("# Ledger\n\n" + ledger.TABLE_MARKER + "\n")
    page = ledger.write_ledger_page(out, template, tmp_path / "book" / "ledger.md")
    assert "(ledger-t1)=" in page.read_text() and ledger.TABLE_MARKER not in page.read_text()
    template.write_text("# no marker")
    with pytest.raises(ValueError, match="ledger-table"):
        ledger.write_ledger_page(out, template, tmp_path / "x.md")


def test_chapter_summary(out):
    record(out)
    text = ledger.chapter_summary(out, "theory")
    assert "| T1 | **partly** | exact only for equal key norms | TV 0.328 over 72 heads |" in text
    assert "| T2 | not yet measured | | |" in text
    with pytest.raises(ValueError, match="'physics'"):
        ledger.chapter_summary(out, "physics")
