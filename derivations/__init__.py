"""Derivations: every equation of the project as a named claim that SymPy checks.

    engine/      Claim, chain, check, the rules, the numeric spot check, the registry (knows no topic)
    topics/      the mathematics, one module per site page
    emission/    the kernel forms and their claims, the strict printers, ``emit``
    catalogue.py every claim, in reading order;  cli.py: ``python -m derivations``

    python -m derivations            check every claim, print a table (exit 1 on any failure)
    python -m derivations --json     the same as JSON
    python -m derivations emit       write kernels/_generated/ from the kernel expressions

Nothing is built or checked at import time: ``all_claims()`` returns the declared claims, and
``check(claim)`` builds and checks one when asked.
"""

from derivations.catalogue import all_claims, claim_by_id
from derivations.engine.core import Claim, Derivation, Result, Step, chain, check
from derivations.engine.spot_check import spot_check

__all__ = ["Claim", "Derivation", "Result", "Step", "all_claims", "chain", "check", "claim_by_id", "spot_check"]
