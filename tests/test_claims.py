"""The project's claims list must keep the stable IDs of the lead's list (when it is beside us)."""

import re
from pathlib import Path

import pytest

from tgnlib.ledger import load_claims

SHARED = Path(__file__).resolve().parents[2] / "shared" / "claims.md"


@pytest.mark.skipif(not SHARED.is_file(), reason="../shared/claims.md is not beside this checkout")
def test_ids_match_the_shared_claims_list():
    shared = re.findall(r"^\| ([TSALBG]\d+[a-z]?) \|", SHARED.read_text(encoding="utf-8"), flags=re.M)
    assert [c.id for c in load_claims()] == shared


def test_every_claim_has_text_and_a_test():
    for c in load_claims():
        assert c.claim.strip() and c.test.strip() and re.fullmatch(r"2\.[1-5]", c.section)
