"""Targeted tests of the information, Gibbs and binary claims: planted errors, the spot check, the declared
link, the scopes. Their values against torch are in tests/test_claims_information_values.py."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivations.engine.core import Claim, N, chain, check
from derivations.engine.rules import sums
from derivations.engine.rules_concrete import simplified
from derivations.engine.rules_inequality import branchwise, declared, minimum, numerically
from derivations.engine.spot_check import spot_check
from derivations.engine.symbols import j, p, q, total
from derivations.topics import binary, gibbs, information
from derivations.topics import entropy as entropy_claims

MINE = {c.id: c for module in (entropy_claims, information, gibbs, binary) for c in module.claims()}


def _planted(claim_id: str, build, sample=None, **kw) -> Claim:
    """A wrong claim built with the same framework (and the same sampler) as the real one."""
    real = MINE[claim_id]
    return Claim(
        f"planted.{claim_id}",
        "planted error",
        build,
        real.assumptions,
        real.sympy_assumptions,
        sample or real.sample,
        **{"general": real.general, "concrete": real.concrete, **kw},
    )


# Planted wrong claims: each must be reported failing, at the wrong step, never crash.


def test_decomposition_with_entropy_subtracted_fails_at_that_step():
    def build(size):
        rule = sums() if size is N else simplified()
        return chain(
            information.cross_entropy(p, q, size),
            (information.kl_divergence(p, q, size) + information.entropy(p, size), "D_KL + H(p)"),
            (information.kl_divergence(p, q, size) - information.entropy(p, size), "planted: H(p) subtracted"),
            rule=rule,
        )

    result = check(_planted("ce.decomposition", build))
    assert result.holds is False
    assert result.failure.step == 2 and result.failure.why == "planted: H(p) subtracted"
    assert result.failure.scope == "general n"  # caught before any concrete n


def test_wrong_gibbs_lemma_is_rejected_and_is_really_false():
    x = gibbs.ratio
    wrong = x - 1 - 2 * sp.log(x)  # negative at x = 2: 1 - 2 log 2 < 0

    def build(size):
        return chain(wrong, (sp.S.Zero, "planted: x - 1 - 2 log x >= 0", minimum(x, 1), ">="), rule=simplified())

    assert wrong.subs(x, 2).evalf() < 0
    result = check(_planted("gibbs.lemma", build))
    assert result.holds is False and result.failure.step == 1
    assert "planted" in result.failure.why


def test_wrong_minimum_point_is_rejected():
    """The rule checks that the named point is stationary, not only that the value matches."""
    x = gibbs.ratio
    d = chain(gibbs.gibbs_term(x), (gibbs.gibbs_term(sp.S(2)), "g(2)", minimum(x, 2), ">="), rule=simplified())
    assert check(_planted("gibbs.lemma", lambda size: d)).holds is False


@pytest.mark.parametrize("decimal", ["0.35", "0.325082973391449", "0.325082973391447"])
def test_wrong_decimal_of_biased_coin_fails(decimal):
    """0.35 is far off; one unit in the 15th place is off too: the rule resolves every digit shown."""
    exact = sp.log(10) - sp.Rational(9, 10) * sp.log(9)

    def build(size):
        return chain(
            sp.Abs(exact - sp.Float(decimal, 15)),
            (sp.Float("5e-16", 15), "planted decimal", numerically(30), "<="),
            rule=simplified(),
        )

    result = check(_planted("entropy.biased_coin_decimal", build))
    assert result.holds is False and result.failure.why == "planted decimal"


def test_decimal_shown_is_the_computed_one():
    exact = entropy_claims._biased_coin_exact()[-1][0]
    assert str(sp.N(exact, 15)) == str(entropy_claims.BIASED_COIN_DECIMAL) == "0.325082973391448"


def test_numerically_cannot_show_an_equality():
    assert numerically(30)(sp.log(2), sp.log(2)) is not sp.S.true
    assert numerically(30)(sp.Symbol("a"), 1) != 0  # a free symbol is never decided by digits


def test_wrong_gibbs_identity_fails_in_general_n():
    def build(size):
        return chain(
            information.kl_divergence(p, q, size),
            (total(p[j] * (q[j] / p[j] + 1 - sp.log(q[j] / p[j])), size), "planted: +1 instead of -1"),
            rule=gibbs._normalised(size, p, q),
        )

    result = check(_planted("gibbs.identity", build))
    assert result.holds is False and result.failure.scope == "general n" and result.failure.why.startswith("planted")


def test_wrong_bce_gradient_fails():
    z, y = binary.logit, binary.label

    def build(size):
        return chain(sp.Derivative(binary.bce(z, y), z), (binary.Sigmoid(z) + y, "planted: s + y"), rule=simplified())

    result = check(_planted("binary.bce_gradient", build))
    assert result.holds is False and result.failure.why == "planted: s + y"


def test_stable_form_without_abs_is_caught_on_the_negative_branch():
    """log(1 + e^{-z}) in place of log(1 + e^{-|z|}) is right for z >= 0 only: the z < 0 branch must fail."""
    z, y = binary.logit, binary.label
    naive = sp.log(1 + sp.exp(z)) - z * y
    wrong = sp.Max(z, 0) - z * y + sp.log(1 + sp.exp(-z))
    positive_only = [{"positive": True}, {"zero": True}]
    assert branchwise(z, simplified(), positive_only)(naive, wrong) == 0
    assert branchwise(z, simplified())(naive, wrong) != 0

    def build(size):
        return chain(naive, (wrong, "planted: |z| dropped", branchwise(z, simplified())), rule=simplified())

    assert check(_planted("binary.stable_form", build)).holds is False


# The numeric spot check catches what a declared (trusted) link would let through.


def test_spot_check_catches_a_wrong_declared_link():
    def build(size):
        return chain(
            information.cross_entropy(p, q, size),
            (
                information.kl_divergence(p, q, size) - information.entropy(p, size),
                "planted: taken on trust",
                declared("a wrong decomposition"),
            ),
            rule=simplified(),
        )

    claim = _planted("ce.decomposition", build, declared=("a wrong decomposition",))
    assert check(claim).holds  # the declared link is not computed ...
    problems = spot_check(claim, np.random.default_rng(1), n=4, trials=1)
    assert problems and "planted: taken on trust" in problems[0]  # ... and the numbers expose it


def test_spot_check_catches_a_wrong_inequality():
    """sum_j p_j log(q_j / p_j) = -D_KL <= 0; declaring it >= 0 passes the checker but not the numbers."""

    def build(size):
        return chain(
            total(p[j] * sp.log(q[j] / p[j]), size),
            (sp.S.Zero, "planted: -D_KL >= 0", declared("wrong sign"), ">="),
            rule=simplified(),
        )

    claim = _planted("gibbs.inequality", build, declared=("wrong sign",))
    assert check(claim).holds
    assert spot_check(claim, np.random.default_rng(2), n=4, trials=2)


# The declared link of the Gibbs certificate: exactly the proved lemma, recorded where it is used.


def test_declared_term_is_the_proved_lemma():
    x = gibbs.ratio
    lemma = MINE["gibbs.lemma"].build(N)
    assert lemma.lhs == gibbs.GibbsTerm(x).doit() == x - 1 - sp.log(x)
    assert lemma.statement() == sp.Ge(x - 1 - sp.log(x), 0, evaluate=False)
    assert check(MINE["gibbs.lemma"]).holds and not MINE["gibbs.lemma"].declared


def test_declaration_covers_positive_arguments_only():
    assert gibbs.GibbsTerm(gibbs.ratio).is_nonnegative is True
    assert gibbs.GibbsTerm(sp.Symbol("v", real=True)).is_nonnegative is None
    assert gibbs.GibbsTerm(sp.S(-1)).is_nonnegative is None


def test_every_claim_resting_on_the_declaration_records_it():
    for claim in MINE.values():
        d = claim.build(N if claim.general else claim.concrete[0])
        terms = [g for s in d.steps for g in s.expr.atoms(gibbs.GibbsTerm)]
        uses = d.relation != "=" and any(g.free_symbols for g in terms)  # g(1) = 0 in the lemma is computed
        assert uses == (gibbs.DECLARED_TERM in claim.declared), claim.id
        if uses:
            assert "declared" in check(claim).method


def test_scopes_are_stated_honestly():
    assert check(MINE["binary.two_class"]).scope == "n = 2"
    assert check(MINE["entropy.fair_coin"]).scope == "n = 2"
    assert check(MINE["gibbs.inequality"]).scope == "general n; n = 2..8"
    assert not MINE["gibbs.lemma"].concrete and not MINE["entropy.zero_log_zero"].concrete
