"""Every registered claim holds, in every scope it claims, and survives a numeric spot check."""

from __future__ import annotations

import numpy as np
import pytest

from derivations import all_claims, check, spot_check
from derivations.engine.core import SCALAR

CLAIMS = all_claims()
IDS = [c.id for c in CLAIMS]


def test_registry_is_not_empty_and_ids_are_stable_names():
    assert len(CLAIMS) >= 30
    for c in CLAIMS:
        assert c.id == c.id.lower() and "." in c.id and " " not in c.id, c.id
        assert c.title and c.assumptions and c.sympy_assumptions, c.id
        assert c.page.endswith(".md"), f"{c.id} names no site page"


@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_claim_holds(claim):
    result = check(claim)
    assert result.holds, f"{claim.id} failed: {result.failure}"
    general = [s for s in result.scopes if s in ("general n", SCALAR)]
    assert len(general) == int(claim.general)
    assert result.scopes == general + [f"n = {n}" for n in claim.concrete]


@pytest.mark.parametrize("claim", CLAIMS, ids=IDS)
def test_claim_spot_check(claim):
    """Every link, evaluated at random points in 30-digit arithmetic, holds: no symbolic slip hides."""
    rng = np.random.default_rng(sum(map(ord, claim.id)))
    n = 4 if 4 in claim.concrete or not claim.concrete else claim.concrete[0]
    assert spot_check(claim, rng, n=n, trials=2) == []
