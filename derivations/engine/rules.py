"""Rules: how a link ``a rel b`` of a derivation is shown. Each returns what remains (0 when shown).

This module holds the general-n rules for sums (``sums``, ``sums_in_range`` and their parts), the
combinators that apply a rule elsewhere (``matrices``, ``unfolding``, ``underneath``), and the default
rules of a derivation for either scope: ``by_scope`` (``sums`` or ``simplified``) for links that only
rearrange, ``scoped`` (``sums_in_range`` or ``expanded``) for links that differentiate or pick from sums.
Concrete-n rules (explicit sums, cheap normal forms) are in ``derivations/engine/rules_concrete.py``;
inequalities, case splits and declared facts in ``derivations/engine/rules_inequality.py``.

SymPy does not distribute sums by itself (``expand`` keeps constants inside ``Sum``), so the
general-n rule first makes every sum linear, then substitutes the constraints it is given
(such as sum_j y_j = 1), then simplifies.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derivations.engine.core import N, is_general
from derivations.engine.rules_concrete import expanded, simplified, zero_remainder
from derivations.engine.symbols import explicit, j, total


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
        return zero_remainder(d)

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


def in_range(expr: sp.Basic, size, *indices: sp.Symbol) -> sp.Basic:
    """Resolve the Piecewise(..., (1 <= k) & (k <= n)) that differentiating a Sum leaves behind.

    Asserts the range 1 <= k <= size for each index (the assumption is stated by the claim).
    """
    facts = sp.And(*[sp.Q.le(i, size) & sp.Q.ge(i, 1) for i in indices])
    return sp.refine(expr, facts)


def rename_dummies(expr: sp.Basic, to: sp.Symbol | None = None) -> sp.Basic:
    """Rename the index of every innermost one-limit Sum to ``to`` (j by default) where that is free.

    sum_i f(i) and sum_j f(j) are the same number; SymPy compares them by structure, so after
    linearising, sums that differ only in their index name must share one name to cancel.
    """
    to = j if to is None else to

    def rename(s: sp.Sum) -> sp.Expr:
        body, *limits = s.args
        if len(limits) != 1 or body.has(sp.Sum):
            return s
        var, low, high = limits[0]
        if var == to or to in body.free_symbols | low.free_symbols | high.free_symbols:
            return s
        return sp.Sum(body.xreplace({var: to}), (to, low, high))

    return expr.replace(lambda e: isinstance(e, sp.Sum), rename)


def differentiated(expr: sp.Basic) -> sp.Basic:
    """Evaluate every Derivative, then every Sum it left with a Kronecker delta (sum_j [j = k] f_j).

    Other sums stay as they are: asking SymPy for a closed form of sum_j e^{z_j} only costs time.
    """
    for _ in range(4):  # d/dz_k log sum_j e^{z_j} takes two rounds: the chain rule, then the delta sum
        done = expr.replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit(deep=False))
        done = done.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta), lambda e: e.doit())
        if done == expr:
            break
        expr = done
    return expr


def sums_in_range(size, *indices: sp.Symbol, given=(), explicit_lse: bool = False) -> Callable:
    """General-n rule for links that differentiate or pick from sums.

    Evaluates derivatives and the delta sums they leave (``differentiated``), resolves the Piecewise
    that leaves with ``in_range`` (asserting 1 <= index <= size for each of ``indices``: the claim
    states it), then proceeds as ``sums``: linear sums, log expansion, one index name per sum, the
    constraints ``given`` (pairs written with the index j, e.g. ``(total(y[j], n), 1)``).
    """
    subs = dict(given)

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        d = a - b
        if explicit_lse:
            d = explicit(d)
        d = differentiated(d)
        if indices:
            d = in_range(d, size, *indices)
        d = linearize(sp.expand_log(d))
        d = rename_dummies(linearize(sp.expand_log(d)))
        d = d.xreplace(subs)
        return zero_remainder(d)

    return rule


def unfolding(base: sp.IndexedBase, definition: Callable, inner: Callable) -> Callable:
    """Show a link with ``inner`` after replacing every ``base[x]`` by ``definition(x)``.

    For a name that stands for an expression, e.g. the log-probabilities ell = LogSoftmax(z) that
    NLLLoss receives: ``unfolding(ell, lambda x: z[x] - LSE(z, n), rule)``.
    """

    def unfold(expr: sp.Basic) -> sp.Basic:
        return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == base, lambda e: definition(*e.indices))

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return inner(unfold(a), unfold(b))

    return rule


def underneath(inner: Callable) -> Callable:
    """Show d/dx F = d/dx G by showing F = G with ``inner``: equal functions have equal derivatives.

    Both sides are Derivatives sharing their last differentiation variables (F and G may still be
    derivatives by the leading ones). Sound only when the constraints the inner rule substitutes do
    not involve the variables differentiated by (sum_j y_j = 1 does not involve the logits).
    Memoised: a concrete scope that enumerates an index which F and G do not contain shows F = G once.
    """
    seen: dict = {}

    def strip(expr: sp.Basic, count: int) -> sp.Basic:
        rest = expr.variables[: len(expr.variables) - count]
        return sp.Derivative(expr.expr, *rest) if rest else expr.expr

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        if not (isinstance(a, sp.Derivative) and isinstance(b, sp.Derivative)):
            return sp.Symbol("not_both_derivatives")
        count = 0
        for x, y in zip(reversed(a.variables), reversed(b.variables), strict=False):
            if x != y:
                break
            count += 1
        if count == 0:
            return sp.Symbol("different_differentiation_variables")
        key = (strip(a, count), strip(b, count))
        if key not in seen:
            seen[key] = inner(*key)
        return seen[key]

    return rule


def scoped(size, *indices: sp.Symbol, normalised: sp.IndexedBase | None = None, explicit_lse: bool = True) -> Callable:
    """The default rule of a derivation built for ``size``: ``sums_in_range`` for the general n, ``expanded``
    for a concrete n.

    ``normalised`` names a vector whose entries sum to 1 (a target y, a distribution q): substituted as
    sum_j base_j = 1 in the general scope and as base_n = 1 - (base_1 + ... + base_{n-1}) in a concrete one.
    """
    if size is N:
        given = [(total(normalised[j], size), 1)] if normalised is not None else []
        return sums_in_range(size, *indices, given=given, explicit_lse=explicit_lse)
    given = [(normalised[size], 1 - sum(normalised[a] for a in range(1, size)))] if normalised is not None else []
    return expanded(*given, explicit_lse=explicit_lse)


def merged(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a - b = 0 once adjacent sums over one index are merged (SymPy's sum_combine, inside simplify): the rule
    of a link that splits a sum into parts, 1..P and P+1..M."""
    return zero_remainder(sp.simplify(a - b))


def by_scope(size, explicit_lse: bool = False) -> Callable:
    """The plain rule of a derivation built for ``size``: ``sums`` for the general n, ``simplified`` for a
    concrete n (evaluated sums, then simplify). ``explicit_lse`` replaces the opaque LSE by log(sum exp) first."""
    if is_general(size):
        return sums(explicit_lse=explicit_lse)
    return simplified(explicit_lse=explicit_lse)
