"""Where the claims live: each topic module exposes ``claims() -> list[Claim]``."""

from __future__ import annotations

import importlib

from derivations.core import Claim

#: Topic modules, in reading order (the order of the verification table and of the site).
MODULES = (
    "entropy",
    "information",
    "gibbs",
    "softmax",
    "cross_entropy",
    "ce_gradient",
    "ce_weights",
    "label_smoothing",
    "ce_reduction",
    "binary",
    "kernel_forms",
)


def all_claims() -> list[Claim]:
    """Every registered claim, in reading order; ids are unique."""
    claims: list[Claim] = []
    for name in MODULES:
        module = importlib.import_module(f"derivations.{name}")
        for claim in module.claims():
            claims.append(claim if claim.source else _with_source(claim, name))
    ids = [c.id for c in claims]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate claim ids: {duplicates}")
    return claims


def claim_by_id(claim_id: str) -> Claim:
    for claim in all_claims():
        if claim.id == claim_id:
            return claim
    raise KeyError(f"no claim with id {claim_id!r}; `python -m derivations --list` shows the ids")


def _with_source(claim: Claim, module: str) -> Claim:
    from dataclasses import replace

    return replace(claim, source=f"derivations/{module}.py")
