"""Rules beyond normal forms: inequalities, case splits, and links that rest on a declared fact.

``nonnegative`` asks SymPy's assumptions system for a >= b; ``minimum`` shows a >= b at a convex
function's stationary point; ``numerically`` decides a numeric '<=' by a margin at fixed precision;
``branchwise`` shows a = b on each sign of a variable (for |x| and max(x, 0)); ``declared`` takes a
link on trust and names the fact (listed in ``Claim.declared``, and refuted by the spot check if false).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sympy as sp


def nonnegative(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """Show a >= b by SymPy's assumption system: (a - b).is_nonnegative must be True."""
    d = a - b
    verdict = d.is_nonnegative
    if verdict is None:
        verdict = sp.simplify(d).is_nonnegative
    return sp.S.true if verdict else sp.Ge(d, 0, evaluate=False)


def minimum(variable: sp.Symbol, at: sp.Expr) -> Callable:
    """Show a >= b over the domain of ``variable`` when b is the value of a at its global minimum ``at``.

    Checks a(at) = b, a'(at) = 0 and a'' > 0 on the whole domain (from the variable's assumptions:
    (0, oo) when positive, the real line otherwise): a convex function's stationary point is its
    global minimum. The limits at the ends of the domain must be >= b as well (a consistency check).
    Only for a '>=' link.
    """

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        a, b = a.doit(), b.doit()
        first, second = sp.diff(a, variable), sp.diff(a, variable, 2)
        if sp.simplify(a.subs(variable, at) - b) != 0:
            return sp.Eq(a.subs(variable, at), b, evaluate=False)
        if sp.simplify(first.subs(variable, at)) != 0:
            return sp.Eq(first.subs(variable, at), 0, evaluate=False)
        if not sp.simplify(second).is_positive:
            return sp.Gt(second, 0, evaluate=False)
        ends = [(0, "+"), (sp.oo, "-")] if variable.is_positive else [(-sp.oo, "+"), (sp.oo, "-")]
        for end, side in ends:
            value = sp.limit(a, variable, end, side)
            if not (value == sp.oo or sp.simplify(value - b).is_nonnegative):
                return sp.Ge(sp.Limit(a, variable, end, side), b, evaluate=False)
        return sp.S.true

    return rule


def numerically(digits: int = 30) -> Callable:
    """Show a numeric inequality a <= b (both sides free of symbols) by evaluating b - a to ``digits`` digits.

    The link holds when b - a is positive at that precision; ``strict`` evaluation raises rather than
    return fewer correct digits, so a margin decides it, never a rounding. For a worked example's
    decimal: |H - 0.325082973391448| <= 5e-16 says the decimal is the value to 15 places. Only for a
    '<=' link (a rule does not see the relation; on an '=' link it would accept a < b, which the spot
    check then reports): finitely many digits cannot show two numbers equal.
    """

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        gap = sp.sympify(b - a)
        if gap.free_symbols:
            return gap
        value = sp.N(gap, digits, strict=True)
        return sp.S.true if value.is_positive else sp.Le(a, b, evaluate=False)

    return rule


def declared(fact: str) -> Callable:
    """A link that rests on a declared fact rather than a computation (listed in Claim.declared)."""

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return sp.S.Zero

    rule.fact = fact  # type: ignore[attr-defined]
    return rule


def branchwise(variable: sp.Symbol, rule: Callable, branches: Iterable[dict] = ()) -> Callable:
    """Show a = b on each branch of a case split on ``variable`` (positive, negative, zero).

    Needed where the stable form uses |x| or max(x, 0): SymPy decides such forms only once the
    sign of x is known.
    """
    cases = list(branches) or [
        {"positive": True},
        {"negative": True},
        {"zero": True},
    ]

    def apply(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        for assumptions in cases:
            if assumptions.get("zero"):
                sub = {variable: sp.S.Zero}
            else:
                sub = {variable: sp.Symbol(variable.name, real=True, **assumptions)}
            rest = rule(a.xreplace(sub), b.xreplace(sub))
            if rest != 0:
                return rest
        return sp.S.Zero

    return apply
