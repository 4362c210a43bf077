"""Claims: each softmax cross-entropy kernel expression equals its textbook form.

    exp(z_k - m) = 2^u_k with u_k = (z_k - m) / ln 2                 (kernel.exp2)
    log sum_j exp(z_j) = m + log d                                   (kernel.lse)
    -w_t log softmax_t(z) = w_t ((m - z_t) + log d)                  (kernel.ce_index_loss)
    and the smoothing term, label smoothing, probability targets and nll_loss (the gradients' claims are
    written in kernel_ce_gradients.py; claims() lists both)

The textbook side is -log softmax; the first link rewrites it with the opaque
row statistic LSE (softmax.log_softmax, softmax.lse_gradient), the last link is the emitted kernel
expression with every argument bound to what the wrapper passes in (d = exp(LSE - m) by kernel.lse).
"""

from __future__ import annotations

import sympy as sp

from derivations import rules, rules_concrete
from derivations.core import chain
from derivations.kernel_ce import (
    _claim,
    _lse_form,
    _rule,
    _sample_simplex,
    bind,
    forms,
    row_sum,
)
from derivations.kernel_ce_folded import _folded_smooth, _folded_sum
from derivations.kernel_ce_folded import sample as _sample_folded
from derivations.kernel_ce_gradients import (
    _folded_grad,
    _index_grad,
    _nll_grad,
    _prob_grad,
    _prob_target_grad,
    _prob_weight_grad,
    _sample_positive,
    _scaled_grad,
    _smoothed_grad,
)
from derivations.kernel_forms import NLL, SMOOTH, XT, D, M, U
from derivations.symbols import LSE, eps, j, k, lse_explicit, softmax, t, total, w, y, z

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
            "kernel.ce_folded_sum",
            "Folded exponent: the row sum d from sum_j 2^(c z_j + s), for any s",
            _folded_sum,
            sample=_sample_folded,
            extra=("c = 1 / ln 2; s any real number (the kernels round -c m down to a float32)",),
        ),
        _claim(
            "kernel.ce_folded_smooth",
            "Folded exponent: sum_j w_j u_j from sum_j w_j (c z_j + s)",
            _folded_smooth,
            sample=_sample_folded,
            extra=("c = 1 / ln 2; s any real number",),
        ),
        _claim(
            "kernel.ce_folded_grad",
            "The gradient with m and log2 a in one row shift s (folded backward)",
            _folded_grad,
            (2, 3),
            sample=_sample_positive,
            extra=("a in (0, 1], c = 1 / ln 2, s = log2 a - c m (the wrapper rounds it down; a = 0 gives 2^-inf)",),
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
