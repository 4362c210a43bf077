"""The second order of softmax cross-entropy: the Hessian-vector product kernel and its claims.

    g sum_l H_kl v_l = a e_k (v_k - sum_l s_l v_l)        (kernel.ce_hvp: index targets, with class weights
                                                           and label smoothing; kernel.ce_prob_hvp: probability
                                                           targets; H = (the loss's weight) (diag(s) - s s^T))

    d/dh loss(z + h v) at h = 0 = sum_k (d loss / dz_k) v_k  (kernel.ce_directional: forward mode, from the
                                                           emitted gradient)

a is the gradient's own row coefficient (kernel.ce_smoothed_grad, kernel.ce_prob_grad), e_k = exp(z_k - m) and
s_l = e_l / d: the double backward of the torch backend and its forward mode (jvp of the gradient) are this
product, with v the cotangent of the gradient or the tangent of the logits.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.ce import forms as family
from derivations.emission.ce.common import bind, claims_of, derivative, lse_form, sample_simplex
from derivations.emission.kernel import SV, SWY, A, B, E, G, Kernel, V
from derivations.engine import rules
from derivations.engine.core import Derivation, chain
from derivations.engine.samplers import reals
from derivations.engine.symbols import LSE, eps, explicit, j, k, l, t, total, u, w, y, z

CLAIMS = claims_of(__name__)
claims = CLAIMS.list


def kernels() -> list[Kernel]:
    """The Hessian-vector product kernel."""
    return [
        Kernel(
            "ce_hvp",
            A * E * (V - SV),
            (E, V, A, SV),
            "kernel.ce_hvp",
            "Hessian-vector product a e_k (v_k - sum_j s_j v_j) of a row.",
            into=E,
        )
    ]


def hessian_vector(n, loss: sp.Expr, weight: sp.Expr, coefficient: sp.Expr, why: str) -> Derivation:
    """g sum_l d^2 loss / dz_k dz_l v_l for a loss whose Hessian is ``weight`` (diag(s) - s s^T), then the
    emitted ce_hvp with its row coefficient a = ``coefficient`` (v is written u here, as in ce.convex)."""
    s = sp.exp(z[k] - LSE(z, n))  # softmax_k = exp(z_k - LSE)
    mean = total(sp.exp(z[j] - LSE(z, n)) * u[j], n)  # sum_j s_j v_j
    emitted = kernels()[0].expr.xreplace({A: coefficient, V: u[k], SV: mean})
    return chain(
        G * sp.Sum(sp.Derivative(loss, z[k], z[l]) * u[l], (l, 1, n)),
        (G * weight * s * (u[k] - mean), why, derivative(n, k, t)),
        (bind(emitted, n), "exp(z_k - LSE) = exp(z_k - m) / d (kernel.probs); a holds g, the weight and 1 / d"),
        rule=rules.by_scope(n),
        indices=(k, t),
    )


def sample_direction(n, rng) -> dict:
    """``sample`` with a direction v (written u) in logit space."""
    return {**sample_simplex(n, rng), **reals(u, n, rng)}


@CLAIMS.claim(
    "kernel.ce_hvp",
    "Hessian-vector product of the index-target loss (weights, label smoothing) in kernel form",
    general=False,
    concrete=(2, 3),
    sample=sample_direction,
)
def index_hvp(n) -> Derivation:
    f = family.forms()
    index, smooth, _ = lse_form(n)
    weight = (1 - eps) * w[t] + eps / n * total(w[j], n)  # the loss's class weights sum to this
    why = "ce.hessian: each w (LSE - z_j) has Hessian w (diag(s) - s s^T); the weights sum to (1 - eps) w_t + eps sw/n"
    return hessian_vector(n, (1 - eps) * index + eps / n * smooth, weight, f["ce_grad_coef"], why)


@CLAIMS.claim(
    "kernel.ce_prob_hvp",
    "Hessian-vector product of the probability-target loss in kernel form",
    general=False,
    concrete=(2, 3),
    sample=sample_direction,
)
def prob_hvp(n) -> Derivation:
    f = family.forms()
    _, _, prob = lse_form(n)
    swy = total(w[j] * y[j], n)
    why = "ce.hessian: each w_j y_j (LSE - z_j) has Hessian w_j y_j (diag(s) - s s^T); they sum to sum_j w_j y_j"
    return hessian_vector(n, prob, swy, f["ce_prob_coef"].xreplace({SWY: swy}), why)


def _along(expr: sp.Expr, n: int, h: sp.Symbol) -> sp.Expr:
    """expr at the logits z + h v (every z_i, the target's z_t included), with LSE written out (a concrete n)."""
    expr = explicit(expr).doit()
    return expr.xreplace({a: a + h * u[a.indices[0]] for a in expr.atoms(sp.Indexed) if a.base == z})


@CLAIMS.claim(
    "kernel.ce_directional",
    "Forward mode: the derivative of the index-target loss along v is sum_k (d loss / dz_k) v_k, the emitted gradient",
    general=False,
    concrete=(2, 3),
    sample=sample_direction,
)
def directional(n) -> Derivation:
    """d/dh loss(z + h v) at h = 0 (torch's jvp), then the emitted label-smoothed gradient dotted with v."""
    f = family.forms()
    h = sp.Symbol("h", real=True)
    index, smooth, _ = lse_form(n)
    loss = (1 - eps) * index + eps / n * smooth
    dense = f["ce_grad_dense_smooth"].xreplace({A: f["ce_grad_coef"], B: f["ce_grad_smooth_coef"]})
    grad = lambda i: bind(dense, n, index=i) + bind(f["ce_grad_at_target"], n) * sp.KroneckerDelta(i, t)  # noqa: E731
    return chain(
        G * sp.Subs(sp.Derivative(_along(loss, n, h), h), h, 0),
        (
            sp.Add(*[grad(i) * u[i] for i in range(1, n + 1)]),
            "the chain rule: d/dh of loss(z + h v) is sum_k (d loss / dz_k) v_k; the gradient is the emitted "
            "kernel.ce_smoothed_grad with g as its upstream",
            rules.by_scope(n, explicit_lse=True),
        ),
        rule=rules.by_scope(n, explicit_lse=True),
        indices=(t,),
    )
