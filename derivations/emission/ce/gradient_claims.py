"""Claims: each softmax cross-entropy gradient kernel equals the derivative of its textbook loss.

    g d/dz_k [w_t (LSE - z_t)] = (g w_t / d) exp(z_k - m) - g w_t [k = t]        (kernel.ce_index_grad)
    with label smoothing: a exp(z_k - m) - b w_k - g (1 - eps) w_t [k = t]        (kernel.ce_smoothed_grad)
    a exp(z_k - m) = 2^((z_k - m) / ln 2 + log2 a), the backward's form           (kernel.ce_scaled_grad)
    a exp(z_k - m) = 2^(c z_k + s) with s = log2 a - c m, folded               (kernel.ce_folded_grad)
    probability targets, their target and weight gradients, and nll_loss's gradient

The first link differentiates the loss written with the opaque row statistic LSE (softmax.lse_gradient);
the last is the emitted kernel expression with every argument bound (d = exp(LSE - m) by kernel.lse).
"""

from __future__ import annotations

import sympy as sp

from derivations.core import chain
from derivations.kernel_ce import _derivative, _lse_form, _rule, _sample, bind, ell, forms
from derivations.kernel_forms import EPS, LA, SWY, A, B, G, S
from derivations.symbols import LSE, eps, j, k, scalar, t, total, w, y, z

_STABLE = "LSE = m + log d with d = sum_j exp(z_j - m) (kernel.lse); emitted form"


def _grad_steps(n, smoothing: bool, scaled: bool = False, folded: bool = False):
    f = forms()
    index, smooth, _ = _lse_form(n)
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
        (G * textbook, why, _derivative(n, k, t)),
        (bind(emitted, n), "exp(z_k - LSE) = exp(z_k - m) / d (kernel.probs); -g (1 - eps) w_t is added at k = t only"),
    ]
    if scaled:  # the backward's form: a exp(z_k - m) = 2^((z_k - m) / ln 2 + log2 a)
        power = f["ce_grad_scaled_smooth"].xreplace({LA: f["log2_coef"].xreplace({A: f["ce_grad_coef"]})})
        power = power.xreplace({B: f["ce_grad_smooth_coef"]}) + f["ce_grad_at_target"] * sp.KroneckerDelta(k, t)
        why = "a exp(x) = 2^(x / ln 2 + log2 a) for a > 0 (kernel.exp2): the coefficient moves into the exponent"
        steps.append((bind(power, n), why, _exponent_rule(n)))
    if folded:  # one fused multiply-add: c z_k + s with the row's s = log2 a - c m
        shift = f["folded_grad_shift"].xreplace({LA: f["log2_coef"].xreplace({A: f["ce_grad_coef"]})})
        power = f["ce_grad_folded_smooth"].xreplace({S: shift, B: f["ce_grad_smooth_coef"]})
        power = power + f["ce_grad_at_target"] * sp.KroneckerDelta(k, t)
        why = "c (z_k - m) + log2 a = c z_k + s with s = log2 a - c m, c = 1 / ln 2: one row term"
        steps.append((bind(power, n), why, _exponent_rule(n)))
    return chain(G * sp.Derivative(loss, z[k]), *steps, rule=_rule(n), indices=(k, t))


def _exponent_rule(n):
    """Expand each exponent, exp((x / ln 2 + log(a) / ln 2) ln 2) = a exp(x) (SymPy takes a log term out of exp),
    then compare as the other links do."""
    inner = _rule(n)

    def expanded(e):
        return e.replace(lambda x: isinstance(x, sp.exp), lambda x: sp.exp(sp.expand(x.args[0])))

    return lambda a, b: inner(expanded(a), expanded(b))


def _index_grad(n):
    return _grad_steps(n, smoothing=False)


def _smoothed_grad(n):
    return _grad_steps(n, smoothing=True)


def _scaled_grad(n):
    return _grad_steps(n, smoothing=True, scaled=True)


def _folded_grad(n):
    return _grad_steps(n, smoothing=True, folded=True)


def _sample_positive(n, rng) -> dict:
    """A positive upstream gradient (the weights are positive): a > 0, so log2 a is real."""
    return {**_sample(n, rng), **scalar(G, rng, 0.1, 2)}


def _prob_grad(n):
    f = forms()
    _, _, prob = _lse_form(n)
    swy = total(w[j] * y[j], n)
    emitted = f["ce_prob_grad"].xreplace({A: f["ce_prob_coef"].xreplace({SWY: swy})})
    return chain(
        G * sp.Derivative(prob, z[k]),
        (
            G * (sp.exp(z[k] - LSE(z, n)) * swy - w[k] * y[k]),
            "softmax.lse_gradient; ce.weighted_prob_gradient",
            _derivative(n, k),
        ),
        (bind(emitted, n), "exp(z_k - LSE) = exp(z_k - m) / d (kernel.probs)"),
        rule=_rule(n),
        indices=(k,),
    )


def _prob_target_grad(n):
    _, _, prob = _lse_form(n, target=(1 - eps) * y[j] + eps / n)
    return chain(
        G * sp.Derivative(prob, y[k]),
        (
            bind(forms()["ce_prob_target_grad"], n),
            "d/dy_k of the smoothed target's loss; " + _STABLE,
            _derivative(n, k),
        ),
        rule=_rule(n),
        indices=(k,),
    )


def _prob_weight_grad(n):
    _, _, prob = _lse_form(n)
    return chain(
        G * sp.Derivative(prob, w[k]),
        (bind(forms()["ce_prob_weight_grad"], n), "d/dw_k; " + _STABLE, _derivative(n, k)),
        rule=_rule(n),
        indices=(k,),
    )


def _nll_grad(n):
    f = forms()
    return chain(
        G * sp.Derivative(-w[t] * ell[t], ell[k]),
        (bind(f["nll_grad_at_target"], n) * sp.KroneckerDelta(k, t), "d x_t / d x_k = [k = t]: added at the target"),
        rule=lambda a, b: sp.simplify((a - b).doit()),
        indices=(k, t),
    )
