"""The catalogue: every claim of the project, topics first, then the kernel claims, in reading order.

It sits above the three parts of ``derivations/`` (the engine knows no topic; topics know no emission),
so it is the one module that names them all.
"""

from __future__ import annotations

from derivations import emission, topics
from derivations.engine.core import Claim
from derivations.engine.registry import collect


def all_claims() -> list[Claim]:
    """Every registered claim, in reading order; ids are unique."""
    return collect([*topics.MODULES, emission])


def claim_by_id(claim_id: str) -> Claim:
    for claim in all_claims():
        if claim.id == claim_id:
            return claim
    raise KeyError(f"no claim with id {claim_id!r}; `python -m derivations --list` shows the ids")
