"""The claim engine: Claim, chain, check, the rules, the numeric spot check and the registry. It knows no topic.

core.py              Claim, Step, Derivation, chain, check, Result: a claim is a chain of checked links
rules.py             general-n rules (linear sums, constraints, derivatives of sums) and ``by_scope``
rules_concrete.py    concrete-n rules (explicit sums, cheap normal forms) and ``zero_remainder``
rules_inequality.py  inequalities, case splits, declared facts
spot_check.py        every link evaluated at random points in 30 digits, independently of any rule
symbols.py           the glossary: one SymPy symbol per idea (n, j, k, t, p, q, z, y, w, eps, LSE)
samplers.py          random points drawn from the assumptions, for the spot check
registry.py          ``Claims``: a module's claims declared next to their derivations; ``collect``
"""

from derivations.engine.core import SCALAR, Claim, Derivation, N, Result, Step, chain, check
from derivations.engine.registry import Claims, collect, source_of
from derivations.engine.spot_check import spot_check

__all__ = [
    "SCALAR",
    "Claim",
    "Claims",
    "Derivation",
    "N",
    "Result",
    "Step",
    "chain",
    "check",
    "collect",
    "source_of",
    "spot_check",
]
