"""Label smoothing, exactly as torch defines it (uniform part eps/C, not eps/(C - 1)), with class weights.

    index target t:
    ce.label_smoothing_index              l = (1 - eps) w_t (LSE - z_t) + (eps/C) sum_c w_c (LSE - z_c)
    ce.label_smoothing_index_gradient     dl/dz = (1 - eps) w_t (s - e_t) + (eps/C) ((sum_c w_c) s - w)
    ce.label_smoothing_target             unweighted, l = CE with the smoothed target (1 - eps) e_t + eps/C
    ce.smoothed_target_normalised         sum_i ((1 - eps) [i = t] + eps/C) = 1
    probability target y, smoothed to y~ = (1 - eps) y + eps/C:
    ce.label_smoothing_prob               l = (1 - eps) l_w(y) + (eps/C) (LSE sum_c w_c - sum_c w_c z_c)
    ce.label_smoothing_prob_gradient      dl/dz_k = s_k sum_c w_c y~_c - w_k y~_k
    ce.smoothed_prob_target_normalised    sum_i y~_i = 1 when sum_i y_i = 1
    ce.label_smoothing_paths_agree        at y = e_t the probability path gives the index path's loss

Here s = softmax(z), C = n classes, w the class weights (any reals), l_w(y) the weighted loss of
``ce.weighted_prob``. Every claim (page ``softmax-cross-entropy.md``) holds for a general n and for
n = 2..8. In the concrete scopes a target t that only selects entries (z_t, w_t, [k = t]) stays a
symbol, which covers every t at once; sums over [i = t] enumerate t = 1..n.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import scoped
from derivations.engine.symbols import LSE, eps, i, j, k, softmax, t, total, w, y, z
from derivations.topics.ce_weights import (
    ANY_TARGET,
    BASE,
    PAGE,
    SYMPY_ANY_TARGET,
    SYMPY_BASE,
    class_sum,
    log_s,
    logit_gradient,
    sample,
)

SMOOTHING = (r"$0 \le \varepsilon \le 1$ is torch's `label_smoothing`; $C = n$",)
SYMPY_SMOOTHING = ("eps = Symbol('varepsilon', nonnegative=True)",)

CLAIMS = Claims(
    __name__,
    page=PAGE,
    assumptions=(*BASE, *SMOOTHING),
    sympy_assumptions=(*SYMPY_BASE, *SYMPY_SMOOTHING),
    sample=sample,
)
claims = CLAIMS.list


def smoothed_index_loss(size) -> sp.Expr:
    """torch: (1 - eps)(-w_t log s_t) + (eps/C)(-sum_c w_c log s_c)."""
    return (1 - eps) * (-w[t] * log_s(t, size)) + eps / size * (-class_sum(w[i] * log_s(i, size), size))


@CLAIMS.claim(
    "ce.label_smoothing_index",
    "Label smoothing (torch, uniform part eps/C): l = (1-eps) w_t (LSE - z_t) + (eps/C) sum_c w_c (LSE - z_c)",
)
def label_smoothing_index(size) -> Derivation:
    lse = LSE(z, size)
    return chain(
        smoothed_index_loss(size),
        (
            (1 - eps) * w[t] * (lse - z[t]) + eps / size * class_sum(w[i] * (lse - z[i]), size),
            r"$-\log s_c = \operatorname{LSE}(z) - z_c$ for the target term and for every term of the uniform part",
        ),
        (
            ((1 - eps) * w[t] + eps / size * class_sum(w[i], size)) * lse
            - (1 - eps) * w[t] * z[t]
            - eps / size * class_sum(w[i] * z[i], size),
            r"collect $\operatorname{LSE}(z)$: the kernel needs $z_t$, $\sum_c w_c$ and $\sum_c w_c z_c$ per row",
        ),
        rule=scoped(size, t),
        indices=(),  # t stays symbolic: it only selects z_t and w_t
    )


@CLAIMS.claim(
    "ce.label_smoothing_index_gradient",
    "Label smoothing gradient: (1-eps) w_t (s_k - [k = t]) + (eps/C)((sum_c w_c) s_k - w_k)",
)
def label_smoothing_index_gradient(size) -> Derivation:
    Z, delta, sw = total(sp.exp(z[j]), size), sp.KroneckerDelta(k, t), class_sum(w[i], size)
    a = eps / size  # torch's uniform part: eps / C, not eps / (C - 1)
    return logit_gradient(
        smoothed_index_loss(size),
        ((1 - eps) * w[t] + a * sw) * sp.log(Z) - (1 - eps) * w[t] * z[t] - a * class_sum(w[i] * z[i], size),
        ((1 - eps) * w[t] + a * sw) * sp.exp(z[k]) / Z - (1 - eps) * w[t] * delta - a * w[k],
        (1 - eps) * w[t] * (softmax(z, k, size) - delta) + a * (sw * softmax(z, k, size) - w[k]),
        size,
        (k, t),
    )


def smoothed_target(index, size, uniform=None):
    """(1 - eps) [index = t] + eps/C, the smoothed one-hot target."""
    return (1 - eps) * sp.KroneckerDelta(index, t) + (eps / size if uniform is None else uniform)


@CLAIMS.claim(
    "ce.label_smoothing_target",
    "Unweighted label smoothing is CE with the smoothed target (1 - eps) e_t + eps/C",
    assumptions=(*BASE, *SMOOTHING, "no class weights ($w = 1$)"),
)
def label_smoothing_target(size, uniform=None) -> Derivation:
    return chain(
        smoothed_index_loss(size).xreplace({w[t]: 1, w[i]: 1}),
        (
            -class_sum(smoothed_target(i, size, uniform) * log_s(i, size), size),
            r"$-\log s_t = -\sum_i [i = t] \log s_i$: both parts are one sum with target "
            r"$(1 - \varepsilon) [i = t] + \varepsilon / C$",
        ),
        rule=scoped(size, t),
        indices=(t,),
    )


@CLAIMS.claim("ce.smoothed_target_normalised", "The smoothed target (1 - eps) e_t + eps/C sums to 1")
def smoothed_target_normalised(size) -> Derivation:
    return chain(
        class_sum(smoothed_target(i, size), size),
        (
            (1 - eps) + size * (eps / size),
            r"one term $[i = t]$ survives; the uniform part is $n$ equal terms $\varepsilon / n$",
        ),
        (sp.S.One, r"$(1 - \varepsilon) + \varepsilon = 1$: the smoothed target is a probability vector"),
        rule=scoped(size, t),
        indices=(t,),
    )


def smoothed_prob_target(index, size):
    """(1 - eps) y_index + eps/C, torch's smoothed probability target."""
    return (1 - eps) * y[index] + eps / size


@CLAIMS.claim(
    "ce.label_smoothing_prob",
    "Label smoothing, probability target (1 - eps) y + eps/C: (1 - eps) l(y) + (eps/C) times the uniform part",
    assumptions=(*BASE, *SMOOTHING, *ANY_TARGET),
    sympy_assumptions=(*SYMPY_BASE, *SYMPY_SMOOTHING, *SYMPY_ANY_TARGET),
)
def label_smoothing_prob(size) -> Derivation:
    lse = LSE(z, size)
    return chain(
        -class_sum(w[i] * smoothed_prob_target(i, size) * log_s(i, size), size),
        (
            (1 - eps) * -class_sum(w[i] * y[i] * log_s(i, size), size)
            + eps / size * -class_sum(w[i] * log_s(i, size), size),
            r"the loss is linear in the target: the weighted loss of $y$, "
            r"plus $\varepsilon / C$ times the uniform part",
        ),
        (
            (1 - eps) * (lse * class_sum(w[i] * y[i], size) - class_sum(w[i] * y[i] * z[i], size))
            + eps / size * (lse * class_sum(w[i], size) - class_sum(w[i] * z[i], size)),
            r"$-\log s_c = \operatorname{LSE}(z) - z_c$, and $\operatorname{LSE}(z)$ comes out of both sums "
            "(`ce.weighted_prob`)",
        ),
        rule=scoped(size),
    )


@CLAIMS.claim(
    "ce.label_smoothing_prob_gradient",
    "Label smoothing, probability target: dl/dz_k = s_k sum_c w_c y~_c - w_k y~_k, y~ = (1 - eps) y + eps/C",
    assumptions=(*BASE, *SMOOTHING, *ANY_TARGET),
    sympy_assumptions=(*SYMPY_BASE, *SYMPY_SMOOTHING, *SYMPY_ANY_TARGET),
)
def label_smoothing_prob_gradient(size) -> Derivation:
    Z = total(sp.exp(z[j]), size)
    wy = class_sum(w[i] * smoothed_prob_target(i, size), size)
    return logit_gradient(
        -class_sum(w[i] * smoothed_prob_target(i, size) * log_s(i, size), size),
        sp.log(Z) * wy - class_sum(w[i] * smoothed_prob_target(i, size) * z[i], size),
        wy * sp.exp(z[k]) / Z - w[k] * smoothed_prob_target(k, size),
        softmax(z, k, size) * wy - w[k] * smoothed_prob_target(k, size),
        size,
        (k,),
    )


@CLAIMS.claim(
    "ce.smoothed_prob_target_normalised",
    "A smoothed probability target (1 - eps) y + eps/C still sums to 1",
    assumptions=(*BASE, *SMOOTHING, "the target $y$ sums to 1"),
    sympy_assumptions=(
        *SYMPY_BASE,
        *SYMPY_SMOOTHING,
        "y = IndexedBase('y', real=True); Sum(y[j], (j, 1, n)) = 1 substituted",
    ),
)
def smoothed_prob_target_normalised(size) -> Derivation:
    return chain(
        class_sum(smoothed_prob_target(i, size), size),
        (
            (1 - eps) * class_sum(y[i], size) + eps,
            r"linearity: $n$ equal terms $\varepsilon / n$ add up to $\varepsilon$",
        ),
        (sp.S.One, r"the target $y$ sums to 1, so $(1 - \varepsilon) + \varepsilon = 1$"),
        rule=scoped(size, normalised=y),
    )


@CLAIMS.claim(
    "ce.label_smoothing_paths_agree",
    "With label smoothing, the probability path at y = e_t gives the index path's loss (with weights)",
)
def label_smoothing_paths_agree(size) -> Derivation:
    return chain(
        -class_sum(w[i] * smoothed_target(i, size) * log_s(i, size), size),
        (smoothed_index_loss(size), "$[i = t]$ keeps the target term of the first part; the uniform part is unchanged"),
        rule=scoped(size, t),
        indices=(t,),
    )
