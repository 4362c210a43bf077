"""Concrete-n rules: with a number for n every sum is an explicit Add, and a cheap normal form shows a = b.

``simplified`` evaluates the sums and simplifies; ``expanded`` is its faster form (unrolled sums, plain
symbols for differentiation, a test as a rational function before ``simplify``). ``zero_remainder`` is the
escalating zero test that the general-n rules in ``derivations/engine/rules.py`` share.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sympy as sp

from derivations.engine.symbols import LSE, explicit


def zero_remainder(d: sp.Expr) -> sp.Expr:
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


def simplified(*given: tuple[sp.Expr, sp.Expr], explicit_lse: bool = False) -> Callable:
    """Concrete-n rule: evaluate the sums, substitute ``given`` (symbol -> expression), simplify."""
    subs = dict(given)

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        d = a - b
        if explicit_lse:
            d = explicit(d)
        d = d.doit().xreplace(subs)
        d = sp.expand_log(d)
        return zero_remainder(d)

    return rule


def unroll_sums(expr: sp.Basic) -> sp.Basic:
    """Write every Sum with integer limits as the explicit Add of its terms (cheaper than ``doit``)."""
    return expr.replace(lambda e: isinstance(e, sp.Sum), _unroll)


@functools.lru_cache(maxsize=4096)
def _unroll(s: sp.Sum) -> sp.Basic:
    out, *limits = s.args
    for var, low, high in limits:  # SymPy lists the innermost limit first
        if not (low.is_Integer and high.is_Integer):
            return s
        out = sp.Add(*[out.xreplace({var: sp.Integer(v)}) for v in range(int(low), int(high) + 1)])
    return out


def _symbolisable(expr: sp.Basic) -> bool:
    """Every index is a number (no sums left) and no function takes a whole IndexedBase."""
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.Indexed) and not all(index.is_Integer for index in e.indices):
            return False  # z[k] and z[3] must stay related: d z[k] / d z[3] = [k = 3]
        if isinstance(e, sp.Function) and any(isinstance(arg, sp.IndexedBase) for arg in e.args):
            return False  # LSE(z, n) differentiates by z[3], not by a symbol named after it
    return True


def _plain_symbols(expr: sp.Basic) -> sp.Basic:
    """z[3] -> a Symbol named z[3] with z's assumptions (rebuilding Indexed objects is slow)."""
    return expr.xreplace({a: _plain(a) for a in expr.atoms(sp.Indexed)})


@functools.lru_cache(maxsize=4096)
def _plain(a: sp.Indexed) -> sp.Symbol:
    return sp.Symbol(sp.sstr(a), **a.base.assumptions0)


def _rational_zero(d: sp.Basic) -> bool:
    """d is 0 as a rational function of its symbols, with every function application an independent symbol.

    Sound: what vanishes for independent values vanishes for related ones. Not complete: False
    only means this test could not show it (exp(a + b) against exp(a) exp(b), radicals, ...).
    """
    from sympy.polys.fields import field
    from sympy.polys.polyerrors import BasePolynomialError

    d = d.xreplace({f: sp.Dummy() for f in d.atoms(sp.Function, sp.Indexed)})
    gens = sorted(d.free_symbols, key=sp.default_sort_key)
    if not gens:
        return d == 0
    try:
        return field(gens, sp.QQ)[0].from_expr(d) == 0
    except (ValueError, TypeError, NotImplementedError, BasePolynomialError):
        return False


def _split_exp(expr: sp.Basic) -> sp.Basic:
    """e^{a + b} -> e^a e^b and e^{-a} -> 1 / e^a, so that exponentials share their generators."""

    def split(e: sp.exp) -> sp.Expr:
        out = sp.S.One
        for term in sp.Add.make_args(e.args[0]):
            out *= 1 / sp.exp(-term) if term.could_extract_minus_sign() else sp.exp(term)
        return out

    return expr.replace(lambda e: isinstance(e, sp.exp), split)


def _has_power_of_sum(expr: sp.Basic) -> bool:
    return any(p.base.is_Add and p.exp.is_Integer and p.exp > 1 for p in expr.atoms(sp.Pow))


def expanded(*given: tuple[sp.Expr, sp.Expr], explicit_lse: bool = False) -> Callable:
    """Concrete-n rule, a faster ``simplified``: explicit sums, then a cheap normal form.

    Unrolls the sums, substitutes ``given`` (symbol -> expression), evaluates derivatives, expands
    logarithms (positivity declared), then tests for 0 by ``expand``, then as a rational function;
    escalates to simplify. Each side of a link, and each sum in it, is prepared once per rule: a
    chain's step is the right side of one link and the left of the next, and the sums of a loss recur
    in every instance of an enumerated index.
    """
    subs = dict(given)
    parts: dict = {}
    unrolled_forms: dict = {}
    prepared: dict = {}

    def part(s: sp.Sum) -> sp.Basic:
        if s not in parts:
            e = _unroll(s).xreplace(subs)
            parts[s] = sp.expand_log(e) if e.has(sp.log) else e
        return parts[s]

    def unrolled(expr: sp.Basic) -> sp.Basic:
        if expr not in unrolled_forms:
            e = explicit(expr) if explicit_lse and expr.has(LSE) else expr
            e = e.replace(lambda x: isinstance(x, sp.Sum), part) if e.has(sp.Sum) else e
            unrolled_forms[expr] = e.xreplace(subs) if subs else e
        return unrolled_forms[expr]

    def prepare(expr: sp.Basic, plain: bool) -> sp.Basic:
        if (expr, plain) not in prepared:
            e = _plain_symbols(expr) if plain else expr
            e = e.doit() if e.has(sp.Derivative) else e
            prepared[expr, plain] = sp.expand_log(e) if e.has(sp.log) else e
        return prepared[expr, plain]

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        a, b = unrolled(a), unrolled(b)
        # plain symbols only speed up differentiation; they need every index to be a number
        plain = (a.has(sp.Derivative) or b.has(sp.Derivative)) and _symbolisable(a) and _symbolisable(b)
        d = prepare(a, plain) - prepare(b, plain)
        if d == 0:
            return sp.S.Zero
        # a power of a sum multiplies out slowly under expand, quickly in the sparse polynomial ring
        by_expand = lambda e: sp.expand(e) == 0  # noqa: E731
        tests = (_rational_zero, by_expand) if _has_power_of_sum(d) else (by_expand, _rational_zero)
        if any(test(d) is True for test in tests) or _rational_zero(_split_exp(d)):
            return sp.S.Zero
        return zero_remainder(d)

    return rule
