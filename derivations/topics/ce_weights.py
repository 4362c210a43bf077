"""Class weights, exactly as torch defines them, for index and probability targets.

    ce.weighted_index               l = -w_t log s_t = w_t (LSE(z) - z_t)
    ce.weighted_index_gradient      dl/dz = w_t (s - e_t)
    ce.weighted_prob                l = -sum_c w_c y_c log s_c = LSE(z) sum_c w_c y_c - sum_c w_c y_c z_c
    ce.weighted_prob_gradient       dl/dz = s sum_c w_c y_c - w * y

Here s = softmax(z), C = n classes, w the class weights (any reals; torch accepts negative ones).
Every claim (page ``softmax-cross-entropy.md``) holds for a general n and for n = 2..8. In the concrete
scopes a target t that only selects entries (z_t, w_t, [k = t]) stays a symbol, which covers every t at once.

The helpers here (the textbook log-softmax, the class sum, the gradient chain, the sampler, the assumptions
``BASE`` about logits and weights) are shared with label smoothing (``derivations/topics/label_smoothing.py``)
and the batch reduction (``derivations/topics/ce_reduction.py``).
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import scoped, underneath
from derivations.engine.samplers import reals, scalar, simplex
from derivations.engine.symbols import LSE, eps, i, j, k, softmax, t, total, w, y, z
from derivations.topics.ce_gradient import target

PAGE = "softmax-cross-entropy.md"
BASE = (
    r"the logits $z_1, \dots, z_n$ and the class weights $w_1, \dots, w_n$ are real",
    r"class indices $k, t$ lie in $\{1, \dots, n\}$",
)
SYMPY_BASE = (
    "z = IndexedBase('z', real=True); w = IndexedBase('w', real=True)",
    "k, t: integer, positive; Q.le(k, n), Q.le(t, n) asserted by refine; [k = t] = KroneckerDelta(k, t)",
)
ANY_TARGET = ("the target $y$ is any real vector",)
SYMPY_ANY_TARGET = ("y = IndexedBase('y', real=True), no constraint",)


def sample(size, rng):
    """Logits, weights, a target distribution, eps in (0, 1) and a target class."""
    values = {**reals(z, size, rng), **reals(w, size, rng), **simplex(y, size, rng), **scalar(eps, rng, 0, 1)}
    return {**values, **target(size, rng)}


def log_s(index, size):
    """log softmax_index(z), written as the textbook log of the softmax."""
    return sp.log(softmax(z, index, size))


def class_sum(body, size):
    """sum_{i=1}^{size} body (the class sum around a softmax, whose denominator sums over j)."""
    return sp.Sum(body, (i, 1, size))


def _kernel(expr, size):
    """softmax_k(z) -> e^{z_k - LSE(z)}, the stable form the kernels evaluate."""
    return expr.xreplace({softmax(z, k, size): sp.exp(z[k] - LSE(z, size))})


def logit_gradient(loss, log_z_form, derivative, regrouped, size, indices) -> Derivation:
    """d/dz_k of: torch's loss -> its log Z form -> the derivative -> torch's grouping -> the kernel form."""
    return chain(
        sp.Derivative(loss, z[k]),
        (
            sp.Derivative(log_z_form, z[k]),
            r"$\log s_c = z_c - \log Z$ with $Z = \sum_j e^{z_j}$; $\log Z$ comes out of every sum over classes",
            underneath(scoped(size, *indices[1:])),
        ),
        (
            derivative,
            r"$\frac{\partial}{\partial z_k} \log Z = e^{z_k} / Z$ and $\partial z_c / \partial z_k = [c = k]$; "
            "weights and targets are constants",
        ),
        (regrouped, r"$e^{z_k} / Z = \operatorname{softmax}_k(z) = s_k$; regroup as torch writes it"),
        (_kernel(regrouped, size), r"the kernels' stable form $s_k = e^{z_k - \operatorname{LSE}(z)}$"),
        rule=scoped(size, *indices),
        indices=(k,),  # a target t stays symbolic: z_t, w_t and [k = t] are exact, for every t at once
    )


CLAIMS = Claims(__name__, page=PAGE, assumptions=BASE, sympy_assumptions=SYMPY_BASE, sample=sample)
claims = CLAIMS.list


@CLAIMS.claim("ce.weighted_index", "Class weights, index target: l = -w_t log s_t = w_t (LSE(z) - z_t)")
def weighted_index(size) -> Derivation:
    return chain(
        -w[t] * log_s(t, size),
        (
            w[t] * (LSE(z, size) - z[t]),
            r"$-\log \operatorname{softmax}_t(z) = \operatorname{LSE}(z) - z_t$ (`ce.lse_form`); $w_t$ is a number",
        ),
        rule=scoped(size, t),
        indices=(t,),
    )


@CLAIMS.claim("ce.weighted_index_gradient", "Class weights, index target: dl/dz_k = w_t (s_k - [k = t])")
def weighted_index_gradient(size) -> Derivation:
    Z, delta = total(sp.exp(z[j]), size), sp.KroneckerDelta(k, t)
    return logit_gradient(
        -w[t] * log_s(t, size),
        w[t] * (sp.log(Z) - z[t]),
        w[t] * (sp.exp(z[k]) / Z - delta),
        w[t] * (softmax(z, k, size) - delta),
        size,
        (k, t),
    )


@CLAIMS.claim(
    "ce.weighted_prob",
    "Class weights, probability target: l = -sum_c w_c y_c log s_c = LSE(z) sum w y - sum w y z",
    assumptions=(*BASE, *ANY_TARGET),
    sympy_assumptions=(*SYMPY_BASE, *SYMPY_ANY_TARGET),
)
def weighted_prob(size) -> Derivation:
    return chain(
        -class_sum(w[i] * y[i] * log_s(i, size), size),
        (
            class_sum(w[i] * y[i] * (LSE(z, size) - z[i]), size),
            r"$-\log s_i = \operatorname{LSE}(z) - z_i$ (`softmax.log_softmax`)",
        ),
        (
            LSE(z, size) * class_sum(w[i] * y[i], size) - class_sum(w[i] * y[i] * z[i], size),
            r"$\operatorname{LSE}(z)$ comes out of the sum: the kernel needs the row sums $\sum_c w_c y_c$ "
            r"and $\sum_c w_c y_c z_c$",
        ),
        rule=scoped(size),
    )


@CLAIMS.claim(
    "ce.weighted_prob_gradient",
    "Class weights, probability target: dl/dz_k = s_k sum_c w_c y_c - w_k y_k",
    assumptions=(*BASE, *ANY_TARGET),
    sympy_assumptions=(*SYMPY_BASE, *SYMPY_ANY_TARGET),
)
def weighted_prob_gradient(size) -> Derivation:
    Z, wy = total(sp.exp(z[j]), size), class_sum(w[i] * y[i], size)
    return logit_gradient(
        -class_sum(w[i] * y[i] * log_s(i, size), size),
        sp.log(Z) * wy - class_sum(w[i] * y[i] * z[i], size),
        wy * sp.exp(z[k]) / Z - w[k] * y[k],
        softmax(z, k, size) * wy - w[k] * y[k],
        size,
        (k,),
    )
