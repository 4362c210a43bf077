"""Softmax and the row log-sum-exp: shift invariance, log-softmax, normalisation, the LSE gradient.

    softmax_k(z) = e^{z_k} / sum_j e^{z_j},        LSE(z) = log sum_j e^{z_j}

    softmax.shift_invariance   softmax(z + c) = softmax(z)
    softmax.lse_shift          LSE(z + c) = LSE(z) + c
    softmax.log_softmax        log softmax_k(z) = z_k - LSE(z)
    softmax.normalised         sum_k softmax_k(z) = 1
    softmax.lse_gradient       d LSE(z) / d z_k = softmax_k(z) = e^{z_k - LSE(z)}
    softmax.max_shift          LSE(z) = m + log sum_j e^{z_j - m} for every real m (the kernels take m = max_j z_j)

``softmax.lse_gradient`` checks the derivative that the opaque statistic ``symbols.LSE`` declares
against the derivative of log(sum exp): it is what lets the kernels treat the row log-sum-exp as one
number per row. Every claim here (page ``softmax.md``) holds for a general number of classes n and for n = 2..8.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import scoped
from derivations.engine.samplers import reals, scalar
from derivations.engine.symbols import LSE, c, i, j, k, lse_explicit, m, softmax, total, z

PAGE = "softmax.md"
REAL_LOGITS = (r"the logits $z_1, \dots, z_n$ are real", r"the class index $k$ lies in $\{1, \dots, n\}$")
SYMPY_REAL_LOGITS = ("z = IndexedBase('z', real=True)", "k: integer, positive; Q.le(k, n) asserted by refine")


def frac(numerator: sp.Expr, denominator: sp.Expr) -> sp.Expr:
    """numerator / denominator, kept as written (SymPy would cancel common factors on sight)."""
    return sp.Mul(numerator, sp.Pow(denominator, -1, evaluate=False), evaluate=False)


def _sample(size, rng):
    return {**reals(z, size, rng), **scalar(c, rng, -5, 5), **scalar(m, rng, -5, 5)}


CLAIMS = Claims(__name__, page=PAGE, sample=_sample)
claims = CLAIMS.list


@CLAIMS.claim(
    "softmax.shift_invariance",
    "Adding a constant to every logit leaves the softmax unchanged: softmax(z + c) = softmax(z)",
    assumptions=(*REAL_LOGITS, r"$c$ is real"),
    sympy_assumptions=(*SYMPY_REAL_LOGITS, "c = Symbol('c', real=True)"),
)
def shift_invariance(size) -> Derivation:
    Z = total(sp.exp(z[j]), size)
    return chain(
        sp.exp(z[k] + c) / total(sp.exp(z[j] + c), size),
        (
            frac(sp.exp(c) * sp.exp(z[k]), sp.exp(c) * Z),
            r"$e^{a + b} = e^a e^b$, and the common factor $e^c$ comes out of the sum",
        ),
        (softmax(z, k, size), r"$e^c > 0$ cancels: adding $c$ to every logit leaves the softmax unchanged"),
        rule=scoped(size, k, explicit_lse=False),
        indices=(k,),
    )


@CLAIMS.claim(
    "softmax.lse_shift",
    "The log-sum-exp moves with a shift: LSE(z + c) = LSE(z) + c",
    assumptions=(REAL_LOGITS[0], r"$c$ is real"),
    sympy_assumptions=(SYMPY_REAL_LOGITS[0], "c = Symbol('c', real=True)"),
)
def lse_shift(size) -> Derivation:
    return chain(
        sp.log(total(sp.exp(z[j] + c), size)),
        (sp.log(sp.exp(c) * total(sp.exp(z[j]), size)), r"$e^{z_j + c} = e^c e^{z_j}$; $e^c$ comes out of the sum"),
        (c + lse_explicit(z, size), r"$\log(ab) = \log a + \log b$ and $\log e^c = c$ (real $c$)"),
        (LSE(z, size) + c, r"$\log \sum_j e^{z_j}$ is the row log-sum-exp $\operatorname{LSE}(z)$"),
        rule=scoped(size, explicit_lse=True),
    )


@CLAIMS.claim(
    "softmax.log_softmax",
    "Log-softmax is the logit minus the log-sum-exp: log softmax_k(z) = z_k - LSE(z)",
    assumptions=REAL_LOGITS,
    sympy_assumptions=SYMPY_REAL_LOGITS,
)
def log_softmax(size) -> Derivation:
    return chain(
        sp.log(softmax(z, k, size)),
        (sp.log(sp.exp(z[k])) - lse_explicit(z, size), r"$\log(a / b) = \log a - \log b$ for $a, b > 0$"),
        (z[k] - LSE(z, size), r"$\log e^{z_k} = z_k$ for real $z_k$; $\log \sum_j e^{z_j} = \operatorname{LSE}(z)$"),
        rule=scoped(size, k, explicit_lse=True),
        indices=(k,),
    )


@CLAIMS.claim(
    "softmax.normalised",
    "The softmax is a probability vector: its entries sum to 1",
    assumptions=(REAL_LOGITS[0], r"the classes are numbered $1, \dots, n$"),
    sympy_assumptions=(SYMPY_REAL_LOGITS[0], "i, j = Symbol(..., integer=True) summation indices"),
)
def normalised(size) -> Derivation:
    return chain(
        sp.Sum(softmax(z, i, size), (i, 1, size)),
        (
            frac(sp.Sum(sp.exp(z[i]), (i, 1, size)), total(sp.exp(z[j]), size)),
            r"the denominator $\sum_j e^{z_j}$ does not depend on $i$: it comes out of the sum over $i$",
        ),
        (sp.S.One, "numerator and denominator are the same sum, with the index named $i$ or $j$"),
        rule=scoped(size, explicit_lse=False),
    )


@CLAIMS.claim(
    "softmax.lse_gradient",
    "The gradient of the log-sum-exp is the softmax: d LSE(z) / d z_k = softmax_k(z)",
    assumptions=(
        *REAL_LOGITS,
        r"$\operatorname{LSE}$ is the opaque statistic of `symbols.LSE`; its declared derivative is what is checked",
    ),
    sympy_assumptions=(*SYMPY_REAL_LOGITS, "LSE(z, n)._eval_derivative(z[k]) = exp(z[k] - LSE(z, n))"),
)
def lse_gradient(size) -> Derivation:
    Z = total(sp.exp(z[j]), size)
    return chain(
        sp.Derivative(LSE(z, size), z[k]),
        (
            sp.exp(z[k] - LSE(z, size)),
            r"the derivative that the opaque statistic $\operatorname{LSE}$ declares "
            r"(SymPy differentiates $\operatorname{LSE}$ by it)",
            scoped(size, k, explicit_lse=False),  # LSE stays opaque here: its _eval_derivative is what runs
        ),
        (
            sp.exp(z[k]) / Z,
            r"$e^{z_k - \operatorname{LSE}(z)} = e^{z_k} / e^{\operatorname{LSE}(z)}$ "
            r"and $e^{\operatorname{LSE}(z)} = \sum_j e^{z_j}$",
        ),
        (
            sp.Derivative(lse_explicit(z, size), z[k]),
            r"$\frac{\partial}{\partial z_k} \log \sum_j e^{z_j} = e^{z_k} / \sum_j e^{z_j}$: "
            "only the term $j = k$ depends on $z_k$",
        ),
        (softmax(z, k, size), r"which is $\operatorname{softmax}_k(z)$ by definition"),
        rule=scoped(size, k, explicit_lse=True),
        indices=(k,),
    )


@CLAIMS.claim(
    "softmax.max_shift",
    "The stable log-sum-exp: LSE(z) = m + log sum_j e^{z_j - m} for every real m",
    assumptions=(REAL_LOGITS[0], r"$m$ is real (the kernels use $m = \max_j z_j$)"),
    sympy_assumptions=(SYMPY_REAL_LOGITS[0], "m = Symbol('m', real=True)"),
)
def max_shift(size) -> Derivation:
    return chain(
        LSE(z, size),
        (lse_explicit(z, size), "the definition of the row log-sum-exp"),
        (sp.log(sp.exp(m) * total(sp.exp(z[j] - m), size)), r"$e^{z_j} = e^m e^{z_j - m}$ for every real $m$"),
        (
            m + sp.log(total(sp.exp(z[j] - m), size)),
            r"$\log(e^m a) = m + \log a$; with $m = \max_j z_j$ every exponent $z_j - m$ is $\le 0$, "
            "so nothing overflows",
        ),
        rule=scoped(size, explicit_lse=True),
    )
