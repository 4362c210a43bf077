"""Rules: how a link ``a rel b`` of a derivation is shown. Each returns what remains (0 when shown).

SymPy does not distribute sums by itself (``expand`` keeps constants inside ``Sum``), so the
general-n rule first makes every sum linear, then substitutes the constraints it is given
(such as sum_j y_j = 1), then simplifies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import sympy as sp

from derivations.symbols import LSE, explicit


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


def rename_dummies(expr: sp.Basic, to: sp.Symbol | None = None) -> sp.Basic:
    """Rename the index of every innermost one-limit Sum to ``to`` (j by default) where that is free.

    sum_i f(i) and sum_j f(j) are the same number; SymPy compares them by structure, so after
    linearising, sums that differ only in their index name must share one name to cancel.
    """
    from derivations.symbols import j

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
        return _zero(d)

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
        return _zero(d)

    return rule


def scoped(size, *indices: sp.Symbol, normalised: sp.IndexedBase | None = None, explicit_lse: bool = True) -> Callable:
    """The default rule of a derivation built for ``size``: ``sums_in_range`` for the general n, ``expanded``
    for a concrete n.

    ``normalised`` names a vector whose entries sum to 1 (a target y, a distribution q): substituted as
    sum_j base_j = 1 in the general scope and as base_n = 1 - (base_1 + ... + base_{n-1}) in a concrete one.
    """
    from derivations.core import N
    from derivations.symbols import j, total

    if size is N:
        given = [(total(normalised[j], size), 1)] if normalised is not None else []
        return sums_in_range(size, *indices, given=given, explicit_lse=explicit_lse)
    given = [(normalised[size], 1 - sum(normalised[a] for a in range(1, size)))] if normalised is not None else []
    return expanded(*given, explicit_lse=explicit_lse)
