"""Softmax and cross-entropy claims against torch: the claimed losses and gradients (index and probability
targets, class weights, label smoothing, the weighted mean with an ignored position) agree with
F.cross_entropy, and the planted eps/(C - 1) smoothing of tests/test_claims_softmax_ce.py does not.

Torch comparisons run in float64: relative tolerance 1e-10, absolute 1e-13 for gradient entries near 0
(the claimed formulas are evaluated at 30 digits; torch rounds each float64 operation).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

from derivations.engine.symbols import eps, explicit, k, t, w, y, z
from derivations.topics import ce_reduction, label_smoothing

RTOL = 1e-10  # float64; gradient entries near 0 also get atol=1e-13


# the planted claim of tests/test_claims_softmax_ce.py (three lines, repeated to be held against torch)
def smoothing_over_c_minus_1(size):
    """torch's smoothed loss, claimed to be CE with the target (1 - eps) e_t + eps/(C - 1)."""
    return label_smoothing.label_smoothing_target(size, uniform=eps / (size - 1))


def _value(expr, values):
    """Evaluate a claimed expression: LSE through log sum exp, then the entries the sums unroll to."""
    e = explicit(sp.sympify(expr)).xreplace(values).doit()
    return float(e.xreplace(values).doit().evalf(30))


def _point(size, rng):
    logits = torch.tensor(rng.normal(0, 2, size), dtype=torch.float64)
    weight = torch.tensor(rng.uniform(0.2, 2.0, size), dtype=torch.float64)
    values = {z[a + 1]: sp.Float(float(logits[a]), 30) for a in range(size)}
    values.update({w[a + 1]: sp.Float(float(weight[a]), 30) for a in range(size)})
    return logits, weight, values


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_index_target_with_weights_and_smoothing_matches_torch(smoothing):
    size, rng = 5, np.random.default_rng(5)
    loss = label_smoothing.label_smoothing_index(size).rhs
    gradient = label_smoothing.label_smoothing_index_gradient(size).rhs
    logits, weight, values = _point(size, rng)
    for target_class in range(1, size + 1):
        point = {**values, t: target_class, eps: sp.Rational(smoothing).limit_denominator(100)}
        x = logits.clone().requires_grad_(True)
        torch_loss = F.cross_entropy(
            x[None], torch.tensor([target_class - 1]), weight=weight, label_smoothing=smoothing, reduction="sum"
        )
        torch_loss.backward()
        assert _value(loss, point) == pytest.approx(torch_loss.item(), rel=RTOL)
        claimed = [_value(gradient, {**point, k: a}) for a in range(1, size + 1)]
        np.testing.assert_allclose(claimed, x.grad.numpy(), rtol=RTOL, atol=1e-13)


def test_probability_target_with_weights_and_smoothing_matches_torch():
    size, smoothing, rng = 4, 0.2, np.random.default_rng(6)
    logits, weight, values = _point(size, rng)
    target = torch.tensor(rng.dirichlet(np.ones(size)), dtype=torch.float64)
    point = {**values, eps: sp.Rational(1, 5), **{y[a + 1]: sp.Float(float(target[a]), 30) for a in range(size)}}
    x = logits.clone().requires_grad_(True)
    torch_loss = F.cross_entropy(x[None], target[None], weight=weight, label_smoothing=smoothing, reduction="sum")
    torch_loss.backward()
    assert _value(label_smoothing.label_smoothing_prob(size).rhs, point) == pytest.approx(torch_loss.item(), rel=RTOL)
    gradient = label_smoothing.label_smoothing_prob_gradient(size).rhs
    claimed = [_value(gradient, {**point, k: a}) for a in range(1, size + 1)]
    np.testing.assert_allclose(claimed, x.grad.numpy(), rtol=RTOL, atol=1e-13)


def test_weighted_mean_with_ignored_position_matches_torch():
    positions, classes, smoothing, rng = 4, ce_reduction.BATCH_CLASSES, 0.1, np.random.default_rng(7)
    logits = torch.tensor(rng.normal(0, 2, (positions, classes)), dtype=torch.float64, requires_grad=True)
    weight = torch.tensor(rng.uniform(0.2, 2.0, classes), dtype=torch.float64)
    targets = [2, 0, 1, 2]  # position 3 is ignored below
    ignored = torch.tensor([targets[0], targets[1], -100, targets[3]])
    torch_loss = F.cross_entropy(logits, ignored, weight=weight, label_smoothing=smoothing, reduction="mean")
    torch_loss.backward()
    d = ce_reduction.weighted_mean(positions)
    point = {eps: sp.Rational(1, 10), **{w[a + 1]: sp.Float(float(weight[a]), 30) for a in range(classes)}}
    point.update(
        {z[r + 1, a + 1]: sp.Float(float(logits.detach()[r, a]), 30) for r in range(positions) for a in range(classes)}
    )
    for (r, t_r, v_r), target_class in zip(ce_reduction.batch(positions), targets, strict=True):
        point.update({t_r: target_class + 1, v_r: 0 if r == 3 else 1})
    assert _value(d.lhs[0, 0].expr, point) == pytest.approx(torch_loss.item(), rel=RTOL)
    claimed = np.array([[_value(e, point) for e in row] for row in d.rhs.tolist()])
    np.testing.assert_allclose(claimed, logits.grad.numpy(), rtol=RTOL, atol=1e-13)
    assert np.all(claimed[2] == 0)  # the ignored position gets exactly zero


def test_smoothing_over_c_minus_1_is_not_torch():
    """The planted eps/(C - 1) target gives a different number from torch, which uses eps/C."""
    size, rng = 4, np.random.default_rng(8)
    logits, _, values = _point(size, rng)
    point = {**values, t: 2, eps: sp.Rational(3, 10)}
    torch_loss = F.cross_entropy(logits[None], torch.tensor([1]), label_smoothing=0.3).item()
    right = _value(label_smoothing.label_smoothing_target(size).rhs, point)
    wrong = _value(smoothing_over_c_minus_1(size).rhs, point)
    assert right == pytest.approx(torch_loss, rel=RTOL) and abs(wrong - torch_loss) > 1e-3
