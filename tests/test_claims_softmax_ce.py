"""Softmax and cross-entropy claims: planted wrong claims fail at the named step, in every scope; the
spot check catches a link that a rule wrongly accepts; every claim names its page and scope.

The claimed formulas against torch are in tests/test_claims_softmax_ce_torch.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivations.catalogue import claim_by_id
from derivations.emission.ce import gradient_claims
from derivations.engine.core import Claim, N, chain, check
from derivations.engine.rules import scoped
from derivations.engine.rules_inequality import declared
from derivations.engine.samplers import reals, scalar, simplex
from derivations.engine.spot_check import spot_check
from derivations.engine.symbols import LSE, c, eps, i, j, k, l, lse_explicit, softmax, t, total, w, y, z
from derivations.topics import ce_gradient, ce_reduction, ce_weights, cross_entropy, label_smoothing
from derivations.topics import softmax as softmax_claims

MODULES = (softmax_claims, cross_entropy, ce_gradient, ce_weights, label_smoothing, ce_reduction)
WRONG = "planted: "


def _sample(size, rng):
    values = {**reals(z, size, rng), **reals(w, size, rng), **simplex(y, size, rng), **scalar(eps, rng, 0, 1)}
    return {**values, **scalar(c, rng, -3, 3), **ce_gradient.target(size, rng)}


def _planted(build) -> Claim:
    return Claim("planted.claim", "a wrong claim", build, ("planted",), ("planted",), _sample)


def gradient_s_plus_y(size):
    """d/dz_k of -sum_i y_i log s_i, claimed to be s_k + y_k."""
    return chain(
        sp.Derivative(ce_gradient.textbook(size), z[k]),
        (sp.Derivative(ce_gradient.log_z_form(size), z[k]), "log Z comes out of the sum"),
        (softmax(z, k, size) + y[k], WRONG + "the gradient is s + y"),
        rule=scoped(size, k, normalised=y),
        indices=(k,),
    )


def smoothing_over_c_minus_1(size):
    """torch's smoothed loss, claimed to be CE with the target (1 - eps) e_t + eps/(C - 1)."""
    return label_smoothing.label_smoothing_target(size, uniform=eps / (size - 1))


def smoothing_gradient_over_c_minus_1(size):
    s_k, uniform = softmax(z, k, size), eps / (size - 1)
    regrouped = (1 - eps) * w[t] * (s_k - sp.KroneckerDelta(k, t)) + uniform * (sp.Sum(w[i], (i, 1, size)) * s_k - w[k])
    return chain(
        sp.Derivative(label_smoothing.smoothed_index_loss(size), z[k]),
        (regrouped, WRONG + "the uniform part is eps/(C - 1)"),
        rule=scoped(size, k, t),
        indices=(k,),
    )


def lse_not_shifted(size):
    return chain(
        sp.log(total(sp.exp(z[j] + c), size)),
        (LSE(z, size), WRONG + "LSE(z + c) = LSE(z)"),
        rule=scoped(size),
    )


def hessian_plus(size):
    s_k, s_l, delta = softmax(z, k, size), softmax(z, l, size), sp.KroneckerDelta(k, l)
    return chain(
        sp.Derivative(ce_gradient.log_z_form(size), z[k], z[l]),
        (sp.Derivative(s_k - y[k], z[l]), "the gradient"),
        (s_k * delta + s_k * s_l, WRONG + "H = diag(s) + s s^T"),
        rule=scoped(size, k, l, normalised=y),
        indices=(k, l),
    )


def target_independent_of_logits(size):
    """d z_t / d z_k = 0: false for k = t; a concrete scope keeps t symbolic and must still see it."""
    return chain(
        sp.Derivative(z[t], z[k]),
        (sp.S.Zero, WRONG + "z_t does not depend on z_k"),
        rule=scoped(size, k, t),
        indices=(k,),
    )


def scaled_gradient_with_natural_log(size):
    """The backward's form 2^((z_k - m) / ln 2 + log2 a) with ln a in the exponent: a^(ln 2) exp(z_k - m)."""
    real = gradient_claims.scaled_grad(size)
    last = real.steps[-1]
    wrong = last.expr.replace(lambda e: isinstance(e, sp.log) and e.args[0] != 2, lambda e: e * sp.log(2))
    steps = (*real.steps[:-1], (wrong, WRONG + "ln a in place of log2 a", last.rule))
    return chain(real.lhs, *steps, rule=real.rule, indices=real.indices)


PLANTED = {
    "gradient s + y": (gradient_s_plus_y, 2),
    "label smoothing eps/(C-1)": (smoothing_over_c_minus_1, 1),
    "label smoothing gradient eps/(C-1)": (smoothing_gradient_over_c_minus_1, 1),
    "LSE(z + c) = LSE(z)": (lse_not_shifted, 1),
    "Hessian diag(s) + s s^T": (hessian_plus, 2),
    "d z_t / d z_k = 0": (target_independent_of_logits, 1),
    "ln a in the exponent of the backward's gradient": (scaled_gradient_with_natural_log, 3),
}


@pytest.mark.parametrize("scope", ["general", "concrete"])
@pytest.mark.parametrize("name", PLANTED)
def test_planted_wrong_claim_fails_at_the_named_step(name, scope):
    build, step = PLANTED[name]
    result = check(_planted(build), scopes=scope)
    assert not result.holds and result.scopes == []
    failure = result.failure
    assert (failure.step, failure.why) == (step, build(N).steps[step - 1].why), failure
    assert failure.scope.startswith("n = 2") == (scope == "concrete"), failure
    assert "raised" not in failure.remained and failure.remained not in ("0", "True"), failure


def test_spot_check_reports_a_link_a_rule_wrongly_accepts():
    def build(size):
        return chain(
            lse_explicit(z, size).xreplace({z[j]: z[j] + c}),
            (LSE(z, size), WRONG + "declared without a computation", declared("a planted fact")),
            rule=scoped(size),
        )

    claim = _planted(build)
    assert check(claim).holds  # the declared link is accepted by the checker ...
    problems = spot_check(claim, np.random.default_rng(0), n=4, trials=2)
    assert len(problems) == 2 and all(WRONG + "declared" in p for p in problems)  # ... and refuted by numbers


def test_lse_gradient_checks_the_derivative_lse_declares(monkeypatch):
    """A wrong declared derivative of the opaque LSE must make softmax.lse_gradient fail at its first link."""
    claim = claim_by_id("softmax.lse_gradient")
    monkeypatch.setattr(LSE, "_eval_derivative", lambda self, s: 2 * sp.exp(s - self))
    sp.core.cache.clear_cache()
    try:
        result = check(claim)
    finally:
        monkeypatch.undo()
        sp.core.cache.clear_cache()
    assert not result.holds and result.failure.step == 1, result.failure
    assert check(claim).holds


def test_claims_name_their_page_and_claim_every_class_scope():
    for module in MODULES:
        for claim in module.claims():
            assert claim.page in ("softmax.md", "softmax-cross-entropy.md"), claim.id
            assert claim.id.startswith(("softmax.", "ce.")), claim.id
            if claim.id != "ce.weighted_mean":
                assert claim.general and claim.concrete == tuple(range(2, 9)), claim.id


def test_mean_reduction_scope_counts_positions():
    claim = claim_by_id("ce.weighted_mean")
    assert not claim.general and claim.concrete == (2, 3, 4)
    assert any("positions" in a for a in claim.assumptions)
    assert check(claim).scopes == ["n = 2", "n = 3", "n = 4"]
