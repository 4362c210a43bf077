"""Derivations: every equation of the project as a named claim that SymPy checks.

    python -m derivations            check every claim, print a table (exit 1 on any failure)
    python -m derivations --json     the same as JSON
    python -m derivations emit       write kernels/_generated/ from the kernel expressions

Nothing is computed at import time; ``all_claims()`` builds the claims when asked.
"""

from derivations.core import Claim, Derivation, Result, Step, chain, check
from derivations.numeric import spot_check
from derivations.registry import all_claims, claim_by_id

__all__ = ["Claim", "Derivation", "Result", "Step", "all_claims", "chain", "check", "claim_by_id", "spot_check"]
