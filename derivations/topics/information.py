"""Entropy, cross-entropy and KL divergence: the definitions, and the claims about cross-entropy and KL.

    H(p) = -sum_j p_j log p_j   (0 log 0 = 0, the limit of x log x as x -> 0+)

    information.cross_entropy    H(p, q) = -sum_j p_j log q_j = sum_j p_j log(1 / q_j)
    information.kl_divergence    D_KL(p || q) = sum_j p_j log(p_j / q_j) = H(p, q) - H(p)
    ce.decomposition             H(p, q) = D_KL(p || q) + H(p)

The claims are on the page ``cross-entropy-kl.md``; they hold for a general number of classes n (a sum
over the symbolic n) and are checked again for n = 2..8. The definitions (``entropy``, ``cross_entropy``,
``kl_divergence``, the entropy term ``XLogX``) are shared with ``derivations/topics/entropy.py`` and
``derivations/topics/gibbs.py``.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from derivations.engine.core import chain
from derivations.engine.registry import Claims
from derivations.engine.rules import by_scope
from derivations.engine.samplers import simplex
from derivations.engine.symbols import j, p, q, total, x

ENTROPY_PAGE = "entropy.md"
CE_KL_PAGE = "cross-entropy-kl.md"


@functools.cache
def zero_log_zero() -> sp.Expr:
    """lim_{x -> 0+} x log x, computed by SymPy (it is 0: claim ``entropy.zero_log_zero``)."""
    return sp.limit(x * sp.log(x), x, 0, "+")


class XLogX(sp.Function):
    """The entropy term eta(v) = v log v, with eta(0) = lim_{x -> 0+} x log x = 0 (never 0 * log 0 = nan).

    ``doit`` writes it out: v log v for v != 0, the limit for v = 0, and for a Kronecker delta (0 or 1)
    eta(delta) = delta eta(1) + (1 - delta) eta(0). Otherwise it stays as it is.
    """

    nargs = 1

    def doit(self, deep: bool = True, **hints) -> sp.Expr:
        v = self.args[0].doit(deep=deep, **hints) if deep else self.args[0]
        if isinstance(v, sp.KroneckerDelta):
            return v * XLogX(sp.S.One).doit() + (1 - v) * XLogX(sp.S.Zero).doit()
        if v.is_zero:
            return zero_log_zero()
        if v.is_zero is False:
            return v * sp.log(v)
        return XLogX(v)

    def _latex(self, printer, exp=None):
        v = self.args[0]
        tex = rf"{printer.parenthesize(v, PRECEDENCE['Mul'], strict=True)} \log{{\left({printer._print(v)} \right)}}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


def entropy(probs: sp.IndexedBase, size) -> sp.Expr:
    """H(p) = -sum_j p_j log p_j for strictly positive p."""
    return -total(probs[j] * sp.log(probs[j]), size)


def entropy_of(values) -> sp.Expr:
    """H(v_1, ..., v_m) written out term by term with the 0 log 0 = 0 convention (unevaluated)."""
    return sp.Mul(-1, sp.Add(*[XLogX(sp.S(v)) for v in values], evaluate=False), evaluate=False)


def cross_entropy(probs: sp.IndexedBase, model: sp.IndexedBase, size) -> sp.Expr:
    """H(p, q) = -sum_j p_j log q_j."""
    return -total(probs[j] * sp.log(model[j]), size)


def kl_divergence(probs: sp.IndexedBase, model: sp.IndexedBase, size) -> sp.Expr:
    """D_KL(p || q) = sum_j p_j log(p_j / q_j)."""
    return total(probs[j] * sp.log(probs[j] / model[j]), size)


def _two_distributions(size, rng):
    return {**simplex(p, size, rng), **simplex(q, size, rng)}


_PQ = (r"$p$ and $q$ are probability vectors with every entry $> 0$",)
_BOTH_POSITIVE = ("p[j] positive", "q[j] positive")

CLAIMS = Claims(__name__, page=CE_KL_PAGE, assumptions=_PQ, sympy_assumptions=_BOTH_POSITIVE, sample=_two_distributions)
claims = CLAIMS.list


@CLAIMS.claim("information.cross_entropy", "Cross-entropy H(p, q) = -sum_j p_j log q_j")
def _cross_entropy(size):
    return chain(
        cross_entropy(p, q, size),
        (
            total(p[j] * sp.log(1 / q[j]), size),
            r"$\log(1/q) = -\log q$: the surprisal $\log(1/q_j)$ under the model $q$, "
            "averaged over outcomes from $p$",
        ),
        rule=by_scope(size),
    )


@CLAIMS.claim("information.kl_divergence", "KL divergence D_KL(p || q) = sum_j p_j log(p_j / q_j) = H(p, q) - H(p)")
def _kl_divergence(size):
    return chain(
        kl_divergence(p, q, size),
        (total(p[j] * (sp.log(p[j]) - sp.log(q[j])), size), r"$\log(p/q) = \log p - \log q$ ($p, q > 0$)"),
        (total(p[j] * sp.log(p[j]), size) - total(p[j] * sp.log(q[j]), size), r"linearity: $-H(p) + H(p, q)$"),
        rule=by_scope(size),
    )


@CLAIMS.claim("ce.decomposition", "Cross-entropy decomposes: H(p, q) = D_KL(p || q) + H(p)")
def _decomposition(size):
    plogp = total(p[j] * sp.log(p[j]), size)
    added = sp.Add(sp.Add(plogp, cross_entropy(p, q, size), evaluate=False), -plogp, evaluate=False)
    return chain(
        cross_entropy(p, q, size),
        (added, r"add and subtract $\sum_j p_j \log p_j$"),
        (
            sp.Add(kl_divergence(p, q, size), entropy(p, size), evaluate=False),
            r"$\log p - \log q = \log(p/q)$ ($p, q > 0$): the first sum is $D_{\mathrm{KL}}(p \,\|\, q)$, "
            "the second $H(p)$",
        ),
        rule=by_scope(size),
    )
