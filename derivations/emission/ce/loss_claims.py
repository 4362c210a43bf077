"""Claims: each softmax cross-entropy loss kernel equals its textbook form.

    exp(z_k - m) = 2^u_k with u_k = (z_k - m) / ln 2                 (kernel.exp2)
    log sum_j exp(z_j) = m + log d                                   (kernel.lse)
    softmax_k(z) = exp(z_k - m) / d                                  (kernel.probs)
    -w_t log softmax_t(z) = w_t ((m - z_t) + log d)                  (kernel.ce_index_loss)
    -sum_j w_j log softmax_j(z) = (sum_j w_j) log d - ln 2 sum_j w_j u_j     (kernel.ce_smooth_term)
    torch's label-smoothed loss, mixed from the two                  (kernel.ce_label_smoothing)
    (1 - eps) y + eps / C sums to 1                                  (kernel.smoothed_target)
    the probability-target loss, and nll_loss of log-softmax         (kernel.ce_prob_loss, kernel.nll_loss)

The textbook side is -log softmax; the first link rewrites it with the opaque row statistic LSE
(softmax.log_softmax, softmax.lse_gradient), the last link is the emitted kernel expression with every
argument bound to what the wrapper passes in (d = exp(LSE - m) by kernel.lse). The gradients' claims are
in gradient_claims.py, the folded forms' in folded_claims.py.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.ce.common import (
    ASSUMPTIONS,
    LOG_SOFTMAX,
    STABLE,
    bind,
    claims_of,
    lse_form,
    row_sum,
    sample_simplex,
)
from derivations.emission.ce.forms import forms
from derivations.emission.kernel import NLL, SMOOTH, XT, D, M, U
from derivations.engine import rules
from derivations.engine.core import Derivation, chain, is_general
from derivations.engine.rules_concrete import simplified
from derivations.engine.symbols import LSE, eps, j, k, lse_explicit, softmax, t, total, w, y, z

CLAIMS = claims_of(__name__)
claims = CLAIMS.list


@CLAIMS.claim("kernel.exp2", "Base-2 exponential: exp(z_k - m) = 2^((z_k - m) / ln 2)", concrete=(2,))
def exp2(n) -> Derivation:
    f = forms()
    base2 = f["base2_exp"].xreplace({U: f["base2_shift"]})  # 2^((z - m) / ln 2), as the kernels evaluate it
    return chain(
        bind(f["natural_shifted_exp"], n),  # exp(z_k - m), as a compiler's loops evaluate it
        (bind(base2, n, base2=True), "2^x = exp(x ln 2), with x = (z_k - m) / ln 2", _definition_of_exp2),
        rule=_definition_of_exp2,
        indices=(k,),
    )


def _definition_of_exp2(a, b):
    return sp.simplify((a - b).rewrite(sp.exp))


@CLAIMS.claim("kernel.lse", "Row log-sum-exp: lse = m + log d", concrete=tuple(range(2, 9)))
def lse(n) -> Derivation:
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


@CLAIMS.claim("kernel.probs", "Softmax in kernel form: exp(z_k - m) / d")
def probs(n) -> Derivation:
    return chain(
        softmax(z, k, n),
        (
            sp.exp(z[k] - LSE(z, n)),
            "softmax_k = exp(z_k - LSE) (softmax.lse_gradient)",
            rules.by_scope(n, explicit_lse=True),
        ),
        (bind(forms()["probs"], n), STABLE + "; exp(z_k - m) <= 1"),
        rule=rules.by_scope(n),
        indices=(k,),
    )


@CLAIMS.claim("kernel.ce_index_loss", "Index-target loss in kernel form")
def index_loss(n) -> Derivation:
    index, _, _ = lse_form(n)
    return chain(
        -w[t] * sp.log(softmax(z, t, n)),
        (index, LOG_SOFTMAX, rules.by_scope(n, explicit_lse=True)),
        (bind(forms()["ce_index_loss"], n), STABLE + "; the target logit is gathered"),
        rule=rules.by_scope(n),
        indices=(t,),
    )


@CLAIMS.claim("kernel.ce_smooth_term", "Smoothing term in kernel form")
def smooth_term(n) -> Derivation:
    _, smooth, _ = lse_form(n)
    return chain(
        -total(w[j] * sp.log(softmax(z, j, n)), n),
        (smooth, LOG_SOFTMAX, rules.by_scope(n, explicit_lse=True)),
        (
            bind(forms()["ce_smooth_row"], n),
            STABLE + "; sum_j w_j (m - z_j) = -ln 2 sum_j w_j u_j, a weighted row sum of the kernels' u",
        ),
        rule=rules.by_scope(n),
    )


@CLAIMS.claim("kernel.ce_label_smoothing", "Label-smoothed loss in kernel form (torch)", concrete=(2, 3))
def label_smoothing(n) -> Derivation:
    f = forms()
    index, smooth, _ = lse_form(n)
    emitted = bind(f["ce_smoothed_loss"].xreplace({NLL: f["ce_index_loss"]}), n)
    emitted = emitted.xreplace({SMOOTH: bind(f["ce_smooth_row"], n)})
    return chain(
        -(1 - eps) * w[t] * sp.log(softmax(z, t, n)) - eps / n * total(w[j] * sp.log(softmax(z, j, n)), n),
        (
            (1 - eps) * index + eps / n * smooth,
            LOG_SOFTMAX + "; torch's uniform part eps/C",
            rules.by_scope(n, explicit_lse=True),
        ),
        (
            emitted,
            "kernel.ce_index_loss and kernel.ce_smooth_term, mixed as torch mixes them (ce.label_smoothing_index)",
        ),
        rule=rules.by_scope(n),
        indices=(t,),
    )


@CLAIMS.claim(
    "kernel.smoothed_target",
    "A smoothed target is a distribution",
    sample=sample_simplex,
    assumptions=(*ASSUMPTIONS, "sum_j y_j = 1"),
)
def smoothed_target(n) -> Derivation:
    return chain(
        row_sum(forms()["smoothed_target"], n),
        ((1 - eps) * total(y[j], n) + eps, "sum of the mixture (1 - eps) y + eps u, u_j = 1/C", rules.by_scope(n)),
        (sp.S.One, "sum_j y_j = 1", _given_simplex(n)),
        rule=rules.by_scope(n),
    )


def _given_simplex(n):
    if is_general(n):
        return rules.sums((total(y[j], n), 1))
    return simplified((y[n], 1 - sum(y[i] for i in range(1, n))))


@CLAIMS.claim("kernel.ce_prob_loss", "Probability-target loss in kernel form")
def prob_loss(n) -> Derivation:
    _, _, prob = lse_form(n)
    return chain(
        -total(w[j] * y[j] * sp.log(softmax(z, j, n)), n),
        (prob, LOG_SOFTMAX, rules.by_scope(n, explicit_lse=True)),
        (row_sum(forms()["ce_prob_term"], n), STABLE + "; summed per row by the wrapper"),
        rule=rules.by_scope(n),
    )


@CLAIMS.claim("kernel.nll_loss", "nll_loss of log-softmax in kernel form")
def nll_loss(n) -> Derivation:
    return chain(
        bind(forms()["nll_loss_term"].xreplace({XT: sp.log(softmax(z, t, n))}), n),
        (
            lse_form(n)[0],
            "nll_loss of log_softmax is cross-entropy (ce.nll_of_log_softmax)",
            rules.by_scope(n, explicit_lse=True),
        ),
        rule=rules.by_scope(n),
        indices=(t,),
    )
