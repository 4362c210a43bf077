"""Claims: each softmax cross-entropy kernel expression equals its textbook form.

    exp(z_k - m) = 2^u_k with u_k = (z_k - m) / ln 2                 (kernel.exp2)
    log sum_j exp(z_j) = m + log d                                   (kernel.lse)
    -w_t log softmax_t(z) = w_t ((m - z_t) + log d)                  (kernel.ce_index_loss)
    g d/dz_k [w_t (LSE - z_t)] = (g w_t / d) exp(z_k - m) - g w_t [k = t]   (kernel.ce_index_grad)

The textbook side is -log softmax (or its derivative); the first link rewrites it with the opaque
row statistic LSE (softmax.log_softmax, softmax.lse_gradient), the last link is the emitted kernel
expression with every argument bound to what the wrapper passes in (d = exp(LSE - m) by kernel.lse).
"""

from __future__ import annotations

import sympy as sp

from derivations import rules, rules_concrete
from derivations.core import chain
from derivations.kernel_ce import (
    _claim,
    _derivative,
    _lse_form,
    _rule,
    _sample,
    _sample_simplex,
    bind,
    ell,
    forms,
    row_sum,
)
from derivations.kernel_forms import EPS, LA, NLL, SMOOTH, SWY, XT, A, B, D, G, M, U
from derivations.symbols import LSE, eps, j, k, lse_explicit, scalar, softmax, t, total, w, y, z

_LOG_SOFTMAX = "-log softmax_j(z) = LSE(z) - z_j (softmax.log_softmax)"
_STABLE = "LSE = m + log d with d = sum_j exp(z_j - m) (kernel.lse); emitted form"


def _exp2(n):
    f = forms()
    base2 = f["base2_exp"].xreplace({U: f["base2_shift"]})  # 2^((z - m) / ln 2), as the kernels evaluate it
    return chain(
        sp.exp(z[k] - M),
        (bind(base2, n, base2=True), "2^x = exp(x ln 2), with x = (z_k - m) / ln 2", _definition_of_exp2),
        rule=_definition_of_exp2,
        indices=(k,),
    )


def _definition_of_exp2(a, b):
    return sp.simplify((a - b).rewrite(sp.exp))


def _lse(n):
    f = forms()
    d = total(bind(f["shifted_exp"], n, j), n)  # d = sum_j exp(z_j - m)
    return chain(
        lse_explicit(z, n),
        (f["lse"].xreplace({D: d}), "log sum_j exp(z_j) = m + log sum_j exp(z_j - m) (softmax.lse_shift)"),
        rule=_shift_rule(n),
    )


def _shift_rule(n):
    """log sum_j exp(z_j) - m - log sum_j exp(z_j - m) = 0: pull exp(-m) out of the sum, then expand the log."""

    def rule(a, b):
        rest = (a - b).doit()
        rest = rest.replace(lambda e: isinstance(e, sp.Sum), lambda s: sp.Sum(sp.expand(s.function), *s.limits))
        rest = sp.expand(rules.linearize(rest))
        rest = sp.expand_log(sp.factor_terms(rest), force=True)  # the sum of exponentials is positive
        return sp.simplify(rest)

    return rule


def _probs(n):
    return chain(
        softmax(z, k, n),
        (sp.exp(z[k] - LSE(z, n)), "softmax_k = exp(z_k - LSE) (softmax.lse_gradient)", _rule(n, explicit_lse=True)),
        (bind(forms()["probs"], n), _STABLE + "; exp(z_k - m) <= 1"),
        rule=_rule(n),
        indices=(k,),
    )


def _index_loss(n):
    index, _, _ = _lse_form(n)
    return chain(
        -w[t] * sp.log(softmax(z, t, n)),
        (index, _LOG_SOFTMAX, _rule(n, explicit_lse=True)),
        (bind(forms()["ce_index_loss"], n), _STABLE + "; the target logit is gathered"),
        rule=_rule(n),
        indices=(t,),
    )


def _smooth_term(n):
    _, smooth, _ = _lse_form(n)
    return chain(
        -total(w[j] * sp.log(softmax(z, j, n)), n),
        (smooth, _LOG_SOFTMAX, _rule(n, explicit_lse=True)),
        (
            bind(forms()["ce_smooth_row"], n),
            _STABLE + "; sum_j w_j (m - z_j) = -ln 2 sum_j w_j u_j, a weighted row sum of the kernels' u",
        ),
        rule=_rule(n),
    )


def _label_smoothing(n):
    f = forms()
    index, smooth, _ = _lse_form(n)
    emitted = bind(f["ce_smoothed_loss"].xreplace({NLL: f["ce_index_loss"]}), n)
    emitted = emitted.xreplace({SMOOTH: bind(f["ce_smooth_row"], n)})
    return chain(
        -(1 - eps) * w[t] * sp.log(softmax(z, t, n)) - eps / n * total(w[j] * sp.log(softmax(z, j, n)), n),
        (
            (1 - eps) * index + eps / n * smooth,
            _LOG_SOFTMAX + "; torch's uniform part eps/C",
            _rule(n, explicit_lse=True),
        ),
        (
            emitted,
            "kernel.ce_index_loss and kernel.ce_smooth_term, mixed as torch mixes them (ce.label_smoothing_index)",
        ),
        rule=_rule(n),
        indices=(t,),
    )


def _grad_steps(n, smoothing: bool, scaled: bool = False):
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


def _sample_positive(n, rng) -> dict:
    """A positive upstream gradient (the weights are positive): a > 0, so log2 a is real."""
    return {**_sample(n, rng), **scalar(G, rng, 0.1, 2)}


def _smoothed_target(n):
    return chain(
        row_sum(forms()["smoothed_target"], n),
        ((1 - eps) * total(y[j], n) + eps, "sum of the mixture (1 - eps) y + eps u, u_j = 1/C", _rule(n)),
        (sp.S.One, "sum_j y_j = 1", _given_simplex(n)),
        rule=_rule(n),
    )


def _given_simplex(n):
    if isinstance(n, sp.Symbol):
        return rules.sums((total(y[j], n), 1))
    return rules_concrete.simplified((y[n], 1 - sum(y[i] for i in range(1, n))))


def _prob_loss(n):
    _, _, prob = _lse_form(n)
    return chain(
        -total(w[j] * y[j] * sp.log(softmax(z, j, n)), n),
        (prob, _LOG_SOFTMAX, _rule(n, explicit_lse=True)),
        (row_sum(forms()["ce_prob_term"], n), _STABLE + "; summed per row by the wrapper"),
        rule=_rule(n),
    )


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


def _nll_loss(n):
    return chain(
        bind(forms()["nll_loss_term"].xreplace({XT: sp.log(softmax(z, t, n))}), n),
        (
            _lse_form(n)[0],
            "nll_loss of log_softmax is cross-entropy (ce.nll_of_log_softmax)",
            _rule(n, explicit_lse=True),
        ),
        rule=_rule(n),
        indices=(t,),
    )


def _nll_grad(n):
    f = forms()
    return chain(
        G * sp.Derivative(-w[t] * ell[t], ell[k]),
        (bind(f["nll_grad_at_target"], n) * sp.KroneckerDelta(k, t), "d x_t / d x_k = [k = t]: added at the target"),
        rule=lambda a, b: sp.simplify((a - b).doit()),
        indices=(k, t),
    )


def claims():
    simplex_y = ("sum_j y_j = 1",)
    return [
        _claim("kernel.exp2", "Base-2 exponential: exp(z_k - m) = 2^((z_k - m) / ln 2)", _exp2, concrete=(2,)),
        _claim("kernel.lse", "Row log-sum-exp: lse = m + log d", _lse, concrete=tuple(range(2, 9))),
        _claim("kernel.probs", "Softmax in kernel form: exp(z_k - m) / d", _probs),
        _claim("kernel.ce_index_loss", "Index-target loss in kernel form", _index_loss),
        _claim("kernel.ce_smooth_term", "Smoothing term in kernel form", _smooth_term),
        _claim("kernel.ce_label_smoothing", "Label-smoothed loss in kernel form (torch)", _label_smoothing, (2, 3)),
        _claim("kernel.ce_index_grad", "Index-target gradient in kernel form (no one-hot)", _index_grad),
        _claim("kernel.ce_smoothed_grad", "Label-smoothed gradient in kernel form", _smoothed_grad, (2, 3)),
        _claim(
            "kernel.ce_scaled_grad",
            "The gradient with its row coefficient in the exponent (backward)",
            _scaled_grad,
            (2, 3),
            sample=_sample_positive,
            extra=("a = g ((1 - eps) w_t + eps sw / C) / d in [0, 1] (the wrapper checks; a = 0 gives 2^-inf = 0)",),
        ),
        _claim(
            "kernel.smoothed_target",
            "A smoothed target is a distribution",
            _smoothed_target,
            sample=_sample_simplex,
            extra=simplex_y,
        ),
        _claim("kernel.ce_prob_loss", "Probability-target loss in kernel form", _prob_loss),
        _claim("kernel.ce_prob_grad", "Probability-target gradient in kernel form", _prob_grad, (2, 3)),
        _claim("kernel.ce_prob_target_grad", "Gradient with respect to a probability target", _prob_target_grad),
        _claim("kernel.ce_prob_weight_grad", "Gradient with respect to the class weights", _prob_weight_grad),
        _claim("kernel.nll_loss", "nll_loss of log-softmax in kernel form", _nll_loss),
        _claim("kernel.nll_grad", "nll_loss gradient: added at the target only", _nll_grad),
    ]
