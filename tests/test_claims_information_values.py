"""The information, Gibbs and binary claims' values: 0 log 0 = 0, the worked examples against
torch.special.entr, the entropy's upper bound, and the binary forms against torch.nn.functional (float64).
Planted errors and the declared link are in tests/test_claims_information.py."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

from derivations.engine.samplers import simplex
from derivations.engine.symbols import p
from derivations.topics import binary, gibbs, information
from derivations.topics import entropy as entropy_claims

MINE = {c.id: c for module in (entropy_claims, information, gibbs, binary) for c in module.claims()}


# 0 log 0 = 0, and the worked examples against torch.special.entr.


def test_certain_event_is_zero_not_nan():
    assert (sp.S.Zero * sp.log(sp.S.Zero)) is sp.nan  # why the limit is needed
    assert information.XLogX(sp.S.Zero).doit() == 0
    for size in (2, 5):
        for target in range(size):
            assert information.entropy_of([int(i == target) for i in range(size)]).doit() == 0


@pytest.mark.parametrize(
    ("claim_id", "probs"),
    [("entropy.fair_coin", [0.5, 0.5]), ("entropy.biased_coin", [0.1, 0.9])],
)
def test_worked_examples_match_torch_entr(claim_id, probs):
    rhs = MINE[claim_id].build(2).rhs
    expected = torch.special.entr(torch.tensor(probs, dtype=torch.float64)).sum().item()
    assert float(rhs.evalf(30)) == pytest.approx(expected, rel=1e-15)


def test_upper_bound_is_attained_only_at_uniform_numerically():
    rng = np.random.default_rng(3)
    for size in (2, 5, 8):
        values = simplex(p, size, rng)
        h = information.entropy(p, size).doit().xreplace(values)
        assert 0 < h.evalf(30) < sp.log(size).evalf(30)
    assert information.entropy_of([sp.Rational(1, 8)] * 8).doit() == sp.log(8)


# Binary forms against torch.nn.functional (float64), including logits where the naive form overflows.


def _numeric(expr, **values) -> float:
    subs = {getattr(binary, k): sp.Rational(v).limit_denominator(10**12) for k, v in values.items()}
    return float(expr.doit().xreplace(subs).evalf(30))


@pytest.mark.parametrize("z", [-40.0, -3.5, 0.0, 2.25, 40.0])
def test_stable_pos_weight_form_and_gradient_match_torch(z):
    y, pw, w = 0.3, 2.5, 0.7
    zt = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    args = (torch.tensor([y], dtype=torch.float64),)
    extra = {"weight": torch.tensor([w], dtype=torch.float64), "pos_weight": torch.tensor([pw], dtype=torch.float64)}
    loss = F.binary_cross_entropy_with_logits(zt, *args, **extra, reduction="sum")
    loss.backward()
    vals = {"logit": z, "label": y, "pos_weight": pw, "weight": w}
    form = binary.bce_pos_weight_stable(binary.logit, binary.label, binary.pos_weight, binary.weight)
    assert _numeric(form, **vals) == pytest.approx(loss.item(), rel=1e-14, abs=1e-300)
    gradient = MINE["binary.pos_weight_gradient"].build(2).rhs
    assert _numeric(gradient, **vals) == pytest.approx(zt.grad.item(), rel=1e-12, abs=1e-15)


def test_stable_forms_never_exponentiate_a_positive_number():
    forms = [
        binary.bce_stable(binary.logit, binary.label),
        binary.bce_pos_weight_stable(binary.logit, binary.label, binary.pos_weight, binary.weight),
    ]
    for form in forms:
        for e in form.atoms(sp.exp):
            assert e.args[0].is_nonpositive, e


def test_two_class_matches_torch_cross_entropy():
    z1, z2, y = 1.7, -0.4, 0.35
    logits = torch.tensor([[z1, z2]], dtype=torch.float64)
    expected = F.cross_entropy(logits, torch.tensor([[1 - y, y]], dtype=torch.float64)).item()
    rhs = MINE["binary.two_class"].build(2).rhs
    assert _numeric(rhs, z1=z1, z2=z2, label=y) == pytest.approx(expected, rel=1e-14)
