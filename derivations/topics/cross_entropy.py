"""Softmax cross-entropy: the loss as torch defines it, and why class indices suffice.

    ce.lse_form             CE(z, t) = -log softmax_t(z) = LSE(z) - z_t
    ce.nll_of_log_softmax   CE(z, t) = NLLLoss(LogSoftmax(z), t),   NLLLoss(ell, t) = -ell_t
    ce.one_hot_target       CE with index t = CE with the one-hot target e_t = -sum_i [i = t] log softmax_i(z)
    ce.prob_target          -sum_i y_i log softmax_i(z) = LSE(z) sum_i y_i - sum_i y_i z_i = LSE(z) - y.z
                            when sum_i y_i = 1

The last form, log Z - y.z, is the one the gradient and Hessian claims differentiate. Every claim
here (page ``softmax-cross-entropy.md``) holds for a general number of classes n and for n = 2..8
(with every target t in 1..n).
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import scoped, unfolding
from derivations.engine.samplers import reals, simplex
from derivations.engine.symbols import LSE, ell, i, lse_explicit, softmax, t, y, z

PAGE = "softmax-cross-entropy.md"
LOGITS = (r"the logits $z_1, \dots, z_n$ are real",)
SYMPY_LOGITS = ("z = IndexedBase('z', real=True)",)
INDEX_TARGET = (r"the target $t$ is a class index in $\{1, \dots, n\}$",)
SYMPY_INDEX_TARGET = ("t: integer, positive; Q.le(t, n) asserted by refine",)


def _sample(size, rng):
    logits = reals(z, size, rng)
    # ell = LogSoftmax(z) at the sampled logits, exactly: ell_a = z_a - log sum_j e^{z_j}
    log_probs = {ell[a]: (z[a] - lse_explicit(z, size)).doit().xreplace(logits) for a in range(1, size + 1)}
    return {**logits, **simplex(y, size, rng), **log_probs}


def _log_exp(v) -> sp.Expr:
    """log e^v, kept as written for reading (SymPy would return v for a real v at once)."""
    return sp.log(sp.exp(v), evaluate=False)


def _negated_difference(a, b) -> sp.Expr:
    """-(a - b), kept as written (SymPy would distribute the sign into -a + b)."""
    return sp.Mul(-1, sp.Add(a, -b, evaluate=False), evaluate=False)


CLAIMS = Claims(__name__, page=PAGE, sample=_sample)
claims = CLAIMS.list


@CLAIMS.claim(
    "ce.lse_form",
    "Cross-entropy from logits: CE(z, t) = -log softmax_t(z) = LSE(z) - z_t",
    assumptions=(*LOGITS, *INDEX_TARGET),
    sympy_assumptions=(*SYMPY_LOGITS, *SYMPY_INDEX_TARGET),
)
def lse_form(size) -> Derivation:
    return chain(
        -sp.log(softmax(z, t, size)),
        (_negated_difference(_log_exp(z[t]), lse_explicit(z, size)), r"$\log(a / b) = \log a - \log b$ for $a, b > 0$"),
        (lse_explicit(z, size) - z[t], r"$\log e^{z_t} = z_t$ for a real logit"),
        (
            LSE(z, size) - z[t],
            r"$\log \sum_j e^{z_j}$ is the row log-sum-exp: $\text{loss}(z, t) = -z_t + \log \sum_j e^{z_j}$",
        ),
        rule=scoped(size, t),
        indices=(t,),
    )


@CLAIMS.claim(
    "ce.nll_of_log_softmax",
    "CrossEntropyLoss is NLLLoss of LogSoftmax: CE(z, t) = NLLLoss(LogSoftmax(z), t)",
    assumptions=(
        *LOGITS,
        *INDEX_TARGET,
        r"$\operatorname{NLLLoss}(\ell, t) = -\ell_t$ and "
        r"$\operatorname{LogSoftmax}(z)_a = z_a - \operatorname{LSE}(z)$ (torch semantics)",
    ),
    sympy_assumptions=(
        *SYMPY_LOGITS,
        *SYMPY_INDEX_TARGET,
        "ell = IndexedBase('ell', real=True), unfolded to z - LSE(z, n)",
    ),
)
def nll_of_log_softmax(size) -> Derivation:
    return chain(
        -sp.log(softmax(z, t, size)),
        (
            -(z[t] - LSE(z, size)),
            r"$\log \operatorname{softmax}_t(z) = z_t - \operatorname{LSE}(z)$ (`softmax.log_softmax`)",
        ),
        (
            -ell[t],
            r"$\operatorname{LogSoftmax}(z)$ returns $\ell = z - \operatorname{LSE}(z)$; "
            r"$\operatorname{NLLLoss}(\ell, t) = -\ell_t$ picks the target entry and negates it",
            unfolding(ell, lambda a: z[a] - LSE(z, size), scoped(size, t)),
        ),
        rule=scoped(size, t),
        indices=(t,),
    )


@CLAIMS.claim(
    "ce.one_hot_target",
    "Why class indices suffice: CE with index t equals CE with the one-hot target e_t",
    assumptions=(*LOGITS, *INDEX_TARGET, "$e_t$ is the one-hot vector with entries $[i = t]$"),
    sympy_assumptions=(*SYMPY_LOGITS, *SYMPY_INDEX_TARGET, "[i = t] = KroneckerDelta(i, t)"),
)
def one_hot_target(size) -> Derivation:
    return chain(
        -sp.Sum(sp.KroneckerDelta(i, t) * sp.log(softmax(z, i, size)), (i, 1, size)),
        (-sp.log(softmax(z, t, size)), "$[i = t]$ is $1$ for $i = t$ and $0$ otherwise: one term of the sum survives"),
        (LSE(z, size) - z[t], r"$-\log \operatorname{softmax}_t(z) = \operatorname{LSE}(z) - z_t$ (`ce.lse_form`)"),
        rule=scoped(size, t),
        indices=(t,),
    )


@CLAIMS.claim(
    "ce.prob_target",
    "CE with a probability target is the log-sum-exp minus the target-weighted logits: LSE(z) - y.z",
    assumptions=(*LOGITS, r"the target $y$ is a probability vector: $\sum_i y_i = 1$ (entries need not be positive)"),
    sympy_assumptions=(*SYMPY_LOGITS, "y = IndexedBase('y', real=True); Sum(y[j], (j, 1, n)) = 1 substituted"),
)
def prob_target(size) -> Derivation:
    return chain(
        -sp.Sum(y[i] * sp.log(softmax(z, i, size)), (i, 1, size)),
        (
            -sp.Sum(y[i] * (z[i] - LSE(z, size)), (i, 1, size)),
            r"$\log \operatorname{softmax}_i(z) = z_i - \operatorname{LSE}(z)$ (`softmax.log_softmax`)",
        ),
        (
            LSE(z, size) * sp.Sum(y[i], (i, 1, size)) - sp.Sum(y[i] * z[i], (i, 1, size)),
            r"$\operatorname{LSE}(z)$ does not depend on $i$: it comes out of the sum",
        ),
        (
            LSE(z, size) - sp.Sum(y[i] * z[i], (i, 1, size)),
            r"the target sums to 1: $\log Z - y \cdot z$ with $Z = \sum_j e^{z_j}$",
        ),
        rule=scoped(size, normalised=y),
    )
