"""Gradient and Hessian of softmax cross-entropy with respect to the logits; convexity.

    L(z) = -sum_i y_i log softmax_i(z),   s = softmax(z)

    ce.gradient_prob           dL/dz_k = s_k - y_k = e^{z_k - LSE(z)} - y_k                 (sum_i y_i = 1)
    ce.gradient_index          dL/dz_k = s_k - [k = t]                                      (index target t: y = e_t)
    ce.gradient_unnormalised   dL/dz_k = s_k sum_i y_i - y_k                                (any real target y)
    ce.gradient_via_lse        d/dz_k (LSE(z) sum_i y_i - y.z) = e^{z_k - LSE(z)} sum_i y_i - y_k   (the kernels')
    ce.hessian                 d^2 L / dz_k dz_l = s_k [k = l] - s_k s_l, H = diag(s) - s s^T   (sum_i y_i = 1)
    ce.convex                  u^T H u = sum_i s_i (u_i - sum_j s_j u_j)^2 >= 0: CE is convex in the logits

Every gradient is derived from the textbook loss by SymPy's differentiation of sums (the Piecewise
left by d/dz_k of a sum over 1..n is resolved by asserting 1 <= k <= n). The Hessian starts from
the loss written as log Z - y.z (``ce.prob_target``), which keeps the concrete n = 8 check fast.
Concrete scopes enumerate k (and l) over 1..n; an index target t stays a symbol there, since SymPy
differentiates z_t exactly (d z_t / d z_k = [k = t]), which covers every t at once.
The convexity certificate holds for a general n and for n = 2..8: the identity given sum_i s_i = 1,
then the assumptions system's verdict that a sum of positive weights times squares is nonnegative.
Page: ``softmax-cross-entropy.md``.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import scoped, underneath
from derivations.engine.rules_inequality import nonnegative
from derivations.engine.samplers import reals, simplex
from derivations.engine.symbols import LSE, i, j, k, l, q, softmax, t, total, u, y, z

PAGE = "softmax-cross-entropy.md"
LOGITS = (
    r"the logits $z_1, \dots, z_n$ are real",
    r"the class index $k$ lies in $\{1, \dots, n\}$ ($\partial / \partial z_k$ of a sum over $j = 1, \dots, n$)",
)
SYMPY_LOGITS = ("z = IndexedBase('z', real=True)", "k: integer, positive; Q.le(k, n) asserted by refine")
NORMALISED = ("the target $y$ sums to 1 (its entries need not be positive)",)
SYMPY_NORMALISED = ("y = IndexedBase('y', real=True); Sum(y[j], (j, 1, n)) = 1 substituted",)
UNCONSTRAINED = ("the target $y$ is any real vector (no constraint on its sum)",)


def _sample(size, rng):
    values = {**reals(z, size, rng), **simplex(y, size, rng), **simplex(q, size, rng), **reals(u, size, rng)}
    return {**values, **target(size, rng)}


def target(size, rng) -> dict:
    """A target class t in 1..size; the spot check then fills in the entries it selects (z_t, w_t)."""
    return {t: int(rng.integers(1, size + 1))}


def textbook(size) -> sp.Expr:
    """L = -sum_i y_i log softmax_i(z)."""
    return -sp.Sum(y[i] * sp.log(softmax(z, i, size)), (i, 1, size))


def log_z_form(size) -> sp.Expr:
    """L = log Z sum_i y_i - sum_i y_i z_i with Z = sum_j e^{z_j}."""
    return sp.log(total(sp.exp(z[j]), size)) * sp.Sum(y[i], (i, 1, size)) - sp.Sum(y[i] * z[i], (i, 1, size))


def _gradient(size, normalised) -> tuple:
    """The links shared by the probability-target gradients: textbook -> s_k sum_i y_i - y_k."""
    Z = total(sp.exp(z[j]), size)
    return (
        (
            sp.Derivative(log_z_form(size), z[k]),
            r"$\log \operatorname{softmax}_i(z) = z_i - \log \sum_j e^{z_j}$; "
            r"$\log Z$ does not depend on $i$ and comes out of the sum",
            underneath(scoped(size, normalised=normalised)),
        ),
        (
            sp.Sum(y[i], (i, 1, size)) * sp.exp(z[k]) / Z - y[k],
            r"$\frac{\partial}{\partial z_k} \log \sum_j e^{z_j} = e^{z_k} / \sum_j e^{z_j}$, "
            r"and $\frac{\partial}{\partial z_k} \sum_i y_i z_i = y_k$",
        ),
        (
            softmax(z, k, size) * sp.Sum(y[i], (i, 1, size)) - y[k],
            r"$e^{z_k} / \sum_j e^{z_j}$ is $\operatorname{softmax}_k(z)$",
        ),
    )


CLAIMS = Claims(__name__, page=PAGE, sample=_sample)
claims = CLAIMS.list


@CLAIMS.claim(
    "ce.gradient_prob",
    "Gradient for a probability target: dL/dz_k = softmax_k(z) - y_k",
    assumptions=(*LOGITS, *NORMALISED),
    sympy_assumptions=(*SYMPY_LOGITS, *SYMPY_NORMALISED),
)
def gradient_prob(size) -> Derivation:
    return chain(
        sp.Derivative(textbook(size), z[k]),
        *_gradient(size, y),
        (softmax(z, k, size) - y[k], "the target sums to 1"),
        (
            sp.exp(z[k] - LSE(z, size)) - y[k],
            r"the kernels' stable form: $\operatorname{softmax}_k(z) = e^{z_k - \operatorname{LSE}(z)}$",
        ),
        rule=scoped(size, k, normalised=y),
        indices=(k,),
    )


@CLAIMS.claim(
    "ce.gradient_index",
    "Gradient for a class-index target: dL/dz_k = softmax_k(z) - [k = t]",
    assumptions=(*LOGITS, r"the target $t$ is a class index in $\{1, \dots, n\}$"),
    sympy_assumptions=(
        *SYMPY_LOGITS,
        "t: integer, positive; Q.le(t, n) asserted by refine; [k = t] = KroneckerDelta(k, t)",
    ),
)
def gradient_index(size) -> Derivation:
    Z = total(sp.exp(z[j]), size)
    delta = sp.KroneckerDelta(k, t)
    return chain(
        sp.Derivative(-sp.log(softmax(z, t, size)), z[k]),
        (
            sp.Derivative(sp.log(Z) - z[t], z[k]),
            r"$-\log \operatorname{softmax}_t(z) = \log \sum_j e^{z_j} - z_t$ (`ce.lse_form`)",
            underneath(scoped(size, t)),
        ),
        (
            sp.exp(z[k]) / Z - delta,
            r"$\frac{\partial}{\partial z_k} \log \sum_j e^{z_j} = e^{z_k} / \sum_j e^{z_j}$, "
            r"and $\partial z_t / \partial z_k = [k = t]$",
        ),
        (softmax(z, k, size) - delta, r"$e^{z_k} / \sum_j e^{z_j}$ is $\operatorname{softmax}_k(z)$"),
        (
            sp.exp(z[k] - LSE(z, size)) - delta,
            r"the kernels' stable form: $\operatorname{softmax}_k(z) = e^{z_k - \operatorname{LSE}(z)}$",
        ),
        rule=scoped(size, k, t),
        indices=(k,),  # t stays symbolic: z_t and [k = t] are differentiated exactly, for every t at once
    )


@CLAIMS.claim(
    "ce.gradient_unnormalised",
    "Gradient for any real target: dL/dz_k = softmax_k(z) sum_i y_i - y_k",
    assumptions=(*LOGITS, *UNCONSTRAINED),
    sympy_assumptions=(*SYMPY_LOGITS, "y = IndexedBase('y', real=True), no constraint"),
)
def gradient_unnormalised(size) -> Derivation:
    return chain(
        sp.Derivative(textbook(size), z[k]),
        *_gradient(size, None),
        (
            sp.exp(z[k] - LSE(z, size)) * sp.Sum(y[i], (i, 1, size)) - y[k],
            r"the kernels' stable form: $\operatorname{softmax}_k(z) = e^{z_k - \operatorname{LSE}(z)}$",
        ),
        rule=scoped(size, k),
        indices=(k,),
    )


@CLAIMS.claim(
    "ce.gradient_via_lse",
    "The kernels' gradient through the opaque LSE: d/dz_k (LSE(z) sum y - y.z) = e^{z_k - LSE} sum y - y_k",
    assumptions=(
        *LOGITS,
        *UNCONSTRAINED,
        r"$\operatorname{LSE}$'s declared derivative, checked by `softmax.lse_gradient`",
    ),
    sympy_assumptions=(*SYMPY_LOGITS, "LSE(z, n)._eval_derivative(z[k]) = exp(z[k] - LSE(z, n))"),
)
def gradient_via_lse(size) -> Derivation:
    return chain(
        sp.Derivative(LSE(z, size) * sp.Sum(y[i], (i, 1, size)) - sp.Sum(y[i] * z[i], (i, 1, size)), z[k]),
        (
            sp.exp(z[k] - LSE(z, size)) * sp.Sum(y[i], (i, 1, size)) - y[k],
            r"the derivative $\operatorname{LSE}$ declares, $e^{z_k - \operatorname{LSE}(z)}$ "
            r"(`softmax.lse_gradient`), and $\frac{\partial}{\partial z_k} \sum_i y_i z_i = y_k$",
        ),
        rule=scoped(size, k, explicit_lse=False),
        indices=(k,),
    )


@CLAIMS.claim(
    "ce.hessian",
    "Hessian of softmax cross-entropy: H = diag(s) - s s^T, entry (k, l) = s_k [k = l] - s_k s_l",
    assumptions=(*LOGITS, r"the class index $l$ lies in $\{1, \dots, n\}$", *NORMALISED),
    sympy_assumptions=(*SYMPY_LOGITS, "l: integer, positive; Q.le(l, n) asserted by refine", *SYMPY_NORMALISED),
)
def hessian(size) -> Derivation:
    Z = total(sp.exp(z[j]), size)
    s_k, s_l, delta = softmax(z, k, size), softmax(z, l, size), sp.KroneckerDelta(k, l)
    return chain(
        sp.Derivative(log_z_form(size), z[k], z[l]),
        (
            sp.Derivative(s_k - y[k], z[l]),
            r"the gradient: $\partial / \partial z_k$ of the loss is $\operatorname{softmax}_k(z) - y_k$, "
            r"as `ce.gradient_prob` shows ($\sum_i y_i = 1$)",
            underneath(scoped(size, k, normalised=y)),
        ),
        (
            delta * sp.exp(z[k]) / Z - sp.exp(z[k]) * sp.exp(z[l]) / Z**2,
            r"quotient rule: $\partial e^{z_k} / \partial z_l = [k = l] \, e^{z_k}$ "
            r"and $\partial Z / \partial z_l = e^{z_l}$; $y$ does not depend on $z$",
        ),
        (
            s_k * delta - s_k * s_l,
            r"the $(k, l)$ entry of $\operatorname{diag}(s) - s s^\top$, with $s = \operatorname{softmax}(z)$",
        ),
        rule=scoped(size, k, l, normalised=y),
        indices=(k, l),
    )


@CLAIMS.claim(
    "ce.convex",
    "Cross-entropy is convex in the logits: u^T H u = sum_i s_i (u_i - sum_j s_j u_j)^2 >= 0",
    assumptions=(
        r"$s = \operatorname{softmax}(z)$ has entries $s_i > 0$ summing to 1 (`softmax.normalised`); written $q$ here",
        r"$H = \operatorname{diag}(s) - s s^\top$ (`ce.hessian`); $u$ is any real direction",
    ),
    sympy_assumptions=(
        "q = IndexedBase('q', positive=True); Sum(q[j], (j, 1, n)) = 1 substituted",
        "u = IndexedBase('u', real=True); Sum(...).is_nonnegative decided by the assumptions system",
    ),
)
def convex(size) -> Derivation:
    mean = sp.Sum(q[j] * u[j], (j, 1, size))  # sum_j s_j u_j, the s-weighted mean of u
    return chain(
        sp.Sum(sp.Sum(u[i] * u[j] * (q[i] * sp.KroneckerDelta(i, j) - q[i] * q[j]), (j, 1, size)), (i, 1, size)),
        (
            sp.Sum(q[i] * u[i] ** 2, (i, 1, size)) - sp.Sum(q[i] * u[i], (i, 1, size)) ** 2,
            r"$[i = j]$ keeps $j = i$ in the first term; the second factors into $(\sum_i s_i u_i)(\sum_j s_j u_j)$",
            scoped(size, i),
        ),
        (
            sp.Sum(q[i] * (u[i] - mean) ** 2, (i, 1, size)),
            r"a variance: expanding the square gives "
            r"$\sum s_i u_i^2 - 2 (\sum s_i u_i)^2 + (\sum s_i u_i)^2 \sum s_i$",
            scoped(size, normalised=q),
        ),
        (sp.S.Zero, r"every $s_i > 0$ and every square is $\ge 0$, so the sum is $\ge 0$", nonnegative, ">="),
        rule=scoped(size),
    )
