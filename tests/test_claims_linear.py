"""The linear-head claims hold, and planted slips in them fail: the mean of the chunks' means, a transposed
weight in the input gradient, and a wrong declared derivative of the logits."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.engine.core import Claim, chain, check
from derivations.engine.rules import merged, scoped
from derivations.engine.spot_check import spot_check
from derivations.topics import linear_head as lh


def _planted(build, sample=lh._sample, concrete=(2, 3)) -> Claim:
    return Claim(
        "planted.linear", "a wrong linear-head claim", build, ("planted",), ("planted",), sample, concrete=concrete
    )


def test_the_mean_of_the_chunks_means_is_not_the_mean():
    def build(size):
        r, M, P, w, loss = lh.r, lh.M, lh.P, lh.row_weight, lh.loss_term
        whole = lh._rows(w[r] * loss[r], 1, M) / lh._rows(w[r], 1, M)
        first = lh._rows(w[r] * loss[r], 1, P) / lh._rows(w[r], 1, P)
        second = lh._rows(w[r] * loss[r], P + 1, M) / lh._rows(w[r], P + 1, M)
        return chain(whole, ((first + second) / 2, "planted: the mean of the two chunks' means"), rule=merged)

    claim = _planted(build, lh._sample_rows, concrete=())
    assert not check(claim).holds
    assert spot_check(claim, np.random.default_rng(0), n=4, trials=3), "the spot check must catch it too"


def test_a_transposed_weight_fails_the_input_gradient():
    def build(size):
        k, l, W = lh.k, lh.l, lh.W
        wrong = sp.Sum(W[l, k] * lh.grad(k, size), (k, 1, size))  # W^T g written as W g
        return chain(
            sp.Derivative(lh.ce(size), lh.h[l]), (wrong, "planted: W_{l,k}"), rule=scoped(size, explicit_lse=False)
        )

    assert not check(_planted(build)).holds


def test_a_wrong_declared_derivative_is_caught_by_its_check(monkeypatch):
    declared = lh.Logit._eval_derivative

    def wrong(self, s):
        out = declared(self, s)
        return 2 * out if isinstance(s, sp.Indexed) and s.base == self.args[2] else out  # dz/dh = 2 W

    monkeypatch.setattr(lh.Logit, "_eval_derivative", wrong)
    result = check(next(c for c in lh.claims() if c.id == "linear.logit_derivatives"))
    assert not result.holds and result.failure.step == 1
