"""Claims: each softmax cross-entropy gradient kernel equals the derivative of its textbook loss.

    g d/dz_k [w_t (LSE - z_t)] = (g w_t / d) exp(z_k - m) - g w_t [k = t]        (kernel.ce_index_grad)
    with label smoothing: a exp(z_k - m) - b w_k - g (1 - eps) w_t [k = t]        (kernel.ce_smoothed_grad)
    a exp(z_k - m) = 2^((z_k - m) / ln 2 + log2 a), the backward's form           (kernel.ce_scaled_grad)
    probability targets, with the gradients w.r.t. the target and the weights     (kernel.ce_prob_grad,
        kernel.ce_prob_target_grad, kernel.ce_prob_weight_grad)
    nll_loss: -g w_t, added at the target only                                    (kernel.nll_grad)

``gradient_steps`` is the derivation every logit gradient starts from: the first link differentiates the
loss written with the opaque row statistic LSE (softmax.lse_gradient), the second is the emitted kernel
expression with every argument bound (d = exp(LSE - m) by kernel.lse). The backward's form adds a third
link (``coefficient_in_exponent``); the folded backward (folded_claims.py) adds its own.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.ce.common import (
    ASSUMPTIONS,
    STABLE,
    bind,
    claims_of,
    derivative,
    ell,
    lse_form,
    sample_positive,
)
from derivations.emission.ce.forms import forms
from derivations.emission.kernel import EPS, LA, SWY, A, B, G
from derivations.engine import rules
from derivations.engine.core import Derivation, Step, chain
from derivations.engine.symbols import LSE, eps, j, k, t, total, w, y, z

CLAIMS = claims_of(__name__)
claims = CLAIMS.list


def gradient_steps(n, smoothing: bool) -> tuple[sp.Expr, list[Step]]:
    """(g d loss / dz_k, [textbook gradient, emitted gradient]) of the index-target loss, label-smoothed or not."""
    f = forms()
    index, smooth, _ = lse_form(n)
    loss = (1 - eps) * index + eps / n * smooth if smoothing else index
    s = sp.exp(z[k] - LSE(z, n))
    why = "dLSE/dz_k = exp(z_k - LSE) (softmax.lse_gradient); "
    why += "ce.label_smoothing_index_gradient" if smoothing else "ce.gradient_index, ce.weighted_index_gradient"
    textbook = (1 - eps) * w[t] * (s - sp.KroneckerDelta(k, t)) + eps / n * (total(w[j], n) * s - w[k])
    dense = f["ce_grad_dense_smooth"] if smoothing else f["ce_grad_dense"]
    emitted = dense.xreplace({A: f["ce_grad_coef"], B: f["ce_grad_smooth_coef"]})
    emitted = emitted + f["ce_grad_at_target"] * sp.KroneckerDelta(k, t)
    if not smoothing:
        textbook, emitted = textbook.xreplace({eps: 0}), emitted.xreplace({EPS: 0})
    steps = [
        Step(G * textbook, why, derivative(n, k, t)),
        Step(
            bind(emitted, n),
            "exp(z_k - LSE) = exp(z_k - m) / d (kernel.probs); -g (1 - eps) w_t is added at k = t only",
        ),
    ]
    return G * sp.Derivative(loss, z[k]), steps


def log2_of_coefficient() -> sp.Expr:
    """log2 a with a = g ((1 - eps) w_t + eps sw / C) / d, the row coefficient of exp(z_k - m)."""
    f = forms()
    return f["log2_coef"].xreplace({A: f["ce_grad_coef"]})


def exponent_rule(n):
    """Expand each exponent, exp((x / ln 2 + log(a) / ln 2) ln 2) = a exp(x) (SymPy takes a log term out of exp),
    then compare as the other links do."""
    inner = rules.by_scope(n)

    def expanded(e):
        return e.replace(lambda x: isinstance(x, sp.exp), lambda x: sp.exp(sp.expand(x.args[0])))

    return lambda a, b: inner(expanded(a), expanded(b))


def derivation(n, lhs: sp.Expr, steps: list[Step]) -> Derivation:
    """The chain of a logit gradient: every class k and target t of the row."""
    return chain(lhs, *steps, rule=rules.by_scope(n), indices=(k, t))


def with_exponent_link(n, dense: sp.Expr, why: str) -> Derivation:
    """The label-smoothed gradient's derivation and one more link: the backward's ``dense`` part (b = g eps / C)
    plus -g (1 - eps) w_t at k = t, shown by expanding every exponent (``exponent_rule``)."""
    f = forms()
    lhs, steps = gradient_steps(n, smoothing=True)
    power = dense.xreplace({B: f["ce_grad_smooth_coef"]}) + f["ce_grad_at_target"] * sp.KroneckerDelta(k, t)
    return derivation(n, lhs, [*steps, Step(bind(power, n), why, exponent_rule(n))])


@CLAIMS.claim("kernel.ce_index_grad", "Index-target gradient in kernel form (no one-hot)")
def index_grad(n) -> Derivation:
    return derivation(n, *gradient_steps(n, smoothing=False))


@CLAIMS.claim("kernel.ce_smoothed_grad", "Label-smoothed gradient in kernel form", concrete=(2, 3))
def smoothed_grad(n) -> Derivation:
    return derivation(n, *gradient_steps(n, smoothing=True))


@CLAIMS.claim(
    "kernel.ce_scaled_grad",
    "The gradient with its row coefficient in the exponent (backward)",
    concrete=(2, 3),
    sample=sample_positive,
    assumptions=(
        *ASSUMPTIONS,
        "a = g ((1 - eps) w_t + eps sw / C) / d in [0, 1] (the wrapper checks; a = 0 gives 2^-inf = 0)",
    ),
)
def scaled_grad(n) -> Derivation:
    """The backward's form: a exp(z_k - m) = 2^((z_k - m) / ln 2 + log2 a)."""
    dense = forms()["ce_grad_scaled_smooth"].xreplace({LA: log2_of_coefficient()})
    why = "a exp(x) = 2^(x / ln 2 + log2 a) for a > 0 (kernel.exp2): the coefficient moves into the exponent"
    return with_exponent_link(n, dense, why)


@CLAIMS.claim("kernel.ce_prob_grad", "Probability-target gradient in kernel form", concrete=(2, 3))
def prob_grad(n) -> Derivation:
    f = forms()
    _, _, prob = lse_form(n)
    swy = total(w[j] * y[j], n)
    emitted = f["ce_prob_grad"].xreplace({A: f["ce_prob_coef"].xreplace({SWY: swy})})
    return chain(
        G * sp.Derivative(prob, z[k]),
        (
            G * (sp.exp(z[k] - LSE(z, n)) * swy - w[k] * y[k]),
            "softmax.lse_gradient; ce.weighted_prob_gradient",
            derivative(n, k),
        ),
        (bind(emitted, n), "exp(z_k - LSE) = exp(z_k - m) / d (kernel.probs)"),
        rule=rules.by_scope(n),
        indices=(k,),
    )


@CLAIMS.claim("kernel.ce_prob_target_grad", "Gradient with respect to a probability target")
def prob_target_grad(n) -> Derivation:
    _, _, prob = lse_form(n, target=(1 - eps) * y[j] + eps / n)
    return chain(
        G * sp.Derivative(prob, y[k]),
        (
            bind(forms()["ce_prob_target_grad"], n),
            "d/dy_k of the smoothed target's loss; " + STABLE,
            derivative(n, k),
        ),
        rule=rules.by_scope(n),
        indices=(k,),
    )


@CLAIMS.claim("kernel.ce_prob_weight_grad", "Gradient with respect to the class weights")
def prob_weight_grad(n) -> Derivation:
    _, _, prob = lse_form(n)
    return chain(
        G * sp.Derivative(prob, w[k]),
        (bind(forms()["ce_prob_weight_grad"], n), "d/dw_k; " + STABLE, derivative(n, k)),
        rule=rules.by_scope(n),
        indices=(k,),
    )


@CLAIMS.claim("kernel.nll_grad", "nll_loss gradient: added at the target only")
def nll_grad(n) -> Derivation:
    f = forms()
    return chain(
        G * sp.Derivative(-w[t] * ell[t], ell[k]),
        (bind(f["nll_grad_at_target"], n) * sp.KroneckerDelta(k, t), "d x_t / d x_k = [k = t]: added at the target"),
        rule=lambda a, b: sp.simplify((a - b).doit()),
        indices=(k, t),
    )
