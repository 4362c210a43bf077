"""What the softmax cross-entropy kernel claims share: binding kernel arguments, the textbook losses, the rules.

    bind(expr, n)     each kernel argument replaced by what it stands for at class k of a row of n classes
                      (z -> z_k, d -> exp(LSE - m) by kernel.lse, sw -> sum_j w_j, c -> 1 / ln 2, ...)
    lse_form(n)       the textbook losses in LSE form: -log softmax_j = LSE - z_j (softmax.log_softmax)
    derivative(n)     the rule of a link that differentiates: only the sums a Kronecker delta picks from
                      are evaluated

``claims_of`` gives each claim the family's defaults: page kernels.md, these assumptions, ``sample``, and the
scopes general n and n = 2..4 (some claims set their own range).
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.kernel import (
    EPS,
    NUM_CLASSES,
    SCALE,
    SW,
    SWU,
    WT,
    ZT,
    D,
    E,
    Exp2,
    G,
    M,
    U,
    W,
    Y,
    Z,
    substitute,
)
from derivations.engine import rules
from derivations.engine.core import is_general
from derivations.engine.registry import Claims
from derivations.engine.rules_concrete import zero_remainder
from derivations.engine.samplers import positives, reals, scalar, simplex
from derivations.engine.symbols import LSE, eps, j, k, q, t, total, w, y, z

PAGE = "kernels.md"
#: The nll_loss input: log-probabilities.
ell = sp.IndexedBase("ell", real=True)
LOG_SOFTMAX = "-log softmax_j(z) = LSE(z) - z_j (softmax.log_softmax)"
STABLE = "LSE = m + log d with d = sum_j exp(z_j - m) (kernel.lse); emitted form"
ASSUMPTIONS = ("logits z_j real", "m any real (the kernels take m = max_j z_j)")


def bind(expr: sp.Expr, n, index=k, base2: bool = False) -> sp.Expr:
    """Each kernel argument replaced by what it stands for, at class ``index`` of a row of n classes.

    2^x is then written exp(x ln 2), its definition (kernel.exp2), unless ``base2`` keeps it.
    """
    values = {Z: z[index], W: w[index], Y: y[index], ZT: z[t], WT: w[t], EPS: eps, NUM_CLASSES: n}
    values[D] = sp.exp(LSE(z, n) - M)  # d = exp(LSE - m), by kernel.lse
    values[SW] = total(w[j], n)
    values[U] = (z[index] - M) / sp.log(2)  # u_k = (z_k - m) / ln 2
    values[E] = sp.exp(z[index] - M)  # e_k = exp(z_k - m), computed as 2^u_k
    values[SWU] = total(w[j] * (z[j] - M), n) / sp.log(2)  # sum_j w_j u_j
    values[SCALE] = 1 / sp.log(2)  # c = 1 / ln 2
    bound = substitute(expr, values)
    return bound if base2 else bound.replace(Exp2, lambda x: sp.exp(x * sp.log(2)))


def row_sum(expr: sp.Expr, n) -> sp.Expr:
    """sum_j of an elementwise kernel expression, as the wrappers sum it."""
    return total(bind(expr, n, j), n)


def lse_form(n, target=None) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(index, smooth, prob): the textbook losses in LSE form, -log softmax_j = LSE - z_j (softmax.log_softmax)."""
    lse = LSE(z, n)
    index = w[t] * (lse - z[t])
    smooth = total(w[j] * (lse - z[j]), n)
    prob = total(w[j] * (target if target is not None else y[j]) * (lse - z[j]), n)
    return index, smooth, prob


def derivative(n, *indices):
    """Differentiate, evaluate only the sums a Kronecker delta picks from, resolve 1 <= k <= n, compare.

    Evaluating every sum (``doit``) would send SymPy after closed forms of sum_j w_j y_j; only the
    sums over [j = k] need evaluating, and they give w_k y_k once 1 <= k <= n is asserted.
    """
    if not is_general(n):
        inner = rules.by_scope(n)
        return lambda a, b: inner((a - b).doit(), sp.S.Zero)

    def picks(e):
        return isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta)

    def rule(a, b):
        rest = (a - b).replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit(deep=False))
        rest = rules.linearize(rest).replace(picks, lambda e: e.doit())
        rest = rules.in_range(rest, n, *indices)
        rest = rules.linearize(sp.expand_log(rules.linearize(rest)))
        return rules.in_range(zero_remainder(rest), n, *indices)

    return rule


def sample(n, rng) -> dict:
    """Logits, positive weights, real targets, a distribution q, the shift m, an upstream g and eps in [0, 1]."""
    values = {**reals(z, n, rng), **positives(w, n, rng), **reals(y, n, rng), **simplex(q, n, rng)}
    return {**values, **scalar(M, rng, -3, 3), **scalar(G, rng, -2, 2), **scalar(eps, rng, 0, 1)}


def sample_simplex(n, rng) -> dict:
    """``sample`` with a probability target y on the simplex."""
    return {**sample(n, rng), **simplex(y, n, rng)}


def sample_positive(n, rng) -> dict:
    """``sample`` with a positive upstream gradient (the weights are positive): a > 0, so log2 a is real."""
    return {**sample(n, rng), **scalar(G, rng, 0.1, 2)}


def claims_of(module: str, **overrides) -> Claims:
    """The claim list of one kernel-claims module, with this family's defaults (``overrides`` replace them)."""
    defaults = dict(
        page=PAGE,
        assumptions=ASSUMPTIONS,
        sympy_assumptions=("z real", "m real", "w real", "n positive integer"),
        sample=sample,
        concrete=(2, 3, 4),
    )
    return Claims(module, **{**defaults, **overrides})
