"""The overflow-freedom check: emission refuses any exp(a) or 2^a whose argument is not provably <= 0.

With every logit of the row written as ``m - delta`` (delta >= 0, m the row max), ``d = 1 + delta``, a
log-probability as ``-delta``, a base-2 shifted logit as ``-delta`` and a folded shift as
``s = -c m - delta`` (c = 1 / ln 2), SymPy must show ``a <= 0`` (``a.is_nonpositive``) for the argument
of every exponential; e^(z_k - LSE) passes, the textbook e^z_k / sum_j e^z_j does not.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.kernel import LP, SCALE, ZT, D, Exp2, M, S, U, Z


class OverflowRisk(ValueError):
    """An exp(a) whose argument SymPy cannot show to be <= 0 under the kernel bounds."""


def bounds() -> dict[sp.Symbol, sp.Expr]:
    """Worst cases for the overflow check: each logit is m - delta, d = 1 + delta, log-probs are -delta,
    a folded shift is s = -c m - delta (the wrappers round -c m down; log2 a - c m <= -c m)."""
    delta = [sp.Symbol(f"delta_{i}", nonnegative=True) for i in range(5)]
    worst = {Z: M - delta[0], ZT: M - delta[1], D: 1 + delta[2], LP: -delta[3], U: -delta[4]}
    return {**worst, S: -SCALE * M - sp.Symbol("delta_5", nonnegative=True)}  # s <= -c m


def require_overflow_free(name: str, expr: sp.Expr) -> None:
    """Raise OverflowRisk unless every exp(a) and 2^a in ``expr`` has a provably non-positive argument."""
    worst = bounds()
    for power in sorted(expr.atoms(sp.exp, Exp2), key=sp.default_sort_key):
        argument = sp.expand(power.args[0].doit().xreplace(worst))  # c (m - delta) + s: distribute c
        if argument.is_nonpositive is not True:
            raise OverflowRisk(
                f"kernel {name!r} = {sp.sstr(expr)}: cannot show the argument of {sp.sstr(power)} is <= 0 "
                f"(with logits = m - delta, d >= 1 it is {sp.sstr(argument)}); exp may overflow, emission refused"
            )
    for power in expr.atoms(sp.Pow):
        if power.base == sp.E:
            raise OverflowRisk(f"kernel {name!r}: write E**a as exp(a) so that it can be checked ({sp.sstr(power)})")
