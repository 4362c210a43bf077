"""Rules: how a link ``a rel b`` of a derivation is shown. Each returns what remains (0 when shown).

SymPy does not distribute sums by itself (``expand`` keeps constants inside ``Sum``), so the
general-n rule first makes every sum linear, then substitutes the constraints it is given
(such as sum_j y_j = 1), then simplifies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sympy as sp

from derivations.symbols import explicit


def linearize(expr: sp.Basic) -> sp.Basic:
    """sum_j (a f_j + g_j) -> a sum_j f_j + sum_j g_j, for every Sum in expr (a is free of j)."""

    def split(s: sp.Sum) -> sp.Expr:
        body, *limits = s.args
        if len(limits) != 1:
            return s
        var = limits[0][0]
        out = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(body, power_exp=False)):
            coeff, dep = term.as_independent(var, as_Add=False)
            out += coeff * (sp.Sum(dep, *limits) if dep != 1 else sp.Sum(1, *limits).doit())
        return out

    return expr.replace(lambda e: isinstance(e, sp.Sum), split)


def _zero(d: sp.Expr) -> sp.Expr:
    """The cheapest normal form that shows d = 0, escalating to simplify."""
    if d == 0:
        return sp.S.Zero
    for attempt in (sp.expand, sp.cancel, lambda e: sp.simplify(e)):
        try:
            d = attempt(d)
        except (StopIteration, sp.PolynomialError):  # sum_simplify is fragile on raw sums
            continue
        if d == 0:
            return sp.S.Zero
    return d


def sums(*given: tuple[sp.Expr, sp.Expr], logs: bool = True, explicit_lse: bool = False) -> Callable:
    """General-n rule: linear sums, constraints ``given`` (pairs: Sum -> value), log expansion.

    ``logs`` expands logarithms of products and quotients; it is sound because the symbols inside
    are declared positive (probabilities) or the argument is an exponential of a real.
    ``explicit_lse`` replaces the opaque LSE statistic by log(sum exp) first.
    """
    subs = dict(given)

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        d = a - b
        if explicit_lse:
            d = explicit(d)
        d = d.doit()
        if logs:
            d = sp.expand_log(d)
        d = linearize(d)
        if logs:
            d = linearize(sp.expand_log(d))
        d = d.xreplace(subs)
        return _zero(d)

    return rule


def simplified(*given: tuple[sp.Expr, sp.Expr], explicit_lse: bool = False) -> Callable:
    """Concrete-n rule: evaluate the sums, substitute ``given`` (symbol -> expression), simplify."""
    subs = dict(given)

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        d = a - b
        if explicit_lse:
            d = explicit(d)
        d = d.doit().xreplace(subs)
        d = sp.expand_log(d)
        return _zero(d)

    return rule


def matrices(inner: Callable) -> Callable:
    """Apply an equality rule entry by entry to two matrices of the same shape."""

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        a, b = sp.Matrix(a), sp.Matrix(b)
        if a.shape != b.shape:
            return sp.Symbol(f"shape_mismatch_{a.shape}_{b.shape}")
        rest = [inner(x, y) for x, y in zip(a, b, strict=True)]
        bad = [r for r in rest if r != 0]
        return bad[0] if bad else sp.S.Zero

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


def declared(fact: str) -> Callable:
    """A link that rests on a declared fact rather than a computation (listed in Claim.declared)."""

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return sp.S.Zero

    rule.fact = fact  # type: ignore[attr-defined]
    return rule


def nonnegative(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """Show a >= b by SymPy's assumption system: (a - b).is_nonnegative must be True."""
    d = a - b
    verdict = d.is_nonnegative
    if verdict is None:
        verdict = sp.simplify(d).is_nonnegative
    return sp.S.true if verdict else sp.Ge(d, 0, evaluate=False)


def in_range(expr: sp.Basic, size, *indices: sp.Symbol) -> sp.Basic:
    """Resolve the Piecewise(..., (1 <= k) & (k <= n)) that differentiating a Sum leaves behind.

    Asserts the range 1 <= k <= size for each index (the assumption is stated by the claim).
    """
    facts = sp.And(*[sp.Q.le(i, size) & sp.Q.ge(i, 1) for i in indices])
    return sp.refine(expr, facts)
