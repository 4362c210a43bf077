"""The folded exponent (kernels/torch/_fold.py, claims kernel.ce_folded_*): planted slips in its claims are
rejected, the probe tells a fused multiply-add from a rounded product, forward's correction restores the
unfolded row statistics, rows it cannot fold are passed again, and backward folds only inside its guard,
where its extra error stays within the documented 1.5 ulp(s) ln 2.

Tolerances: forward's d and swu are held to the unfolded pass's own error against float64 plus one
float32 rounding (2^-23); backward's gradient to the unfolded path's error plus 1.5 ulp(32) ln 2.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _compare import TOLERANCES, assert_close, seeded

import kernels.torch as kt
from derivations.emission.ce import folded_claims
from derivations.emission.ce.common import sample_positive
from derivations.emission.kernel import DF, LA, SCALE, SW, SWUF, Exp2, M, S
from derivations.engine.core import Claim, check
from kernels.torch import _ce_gradient, _fold, _row_pass

fused_here = pytest.mark.skipif(not _fold.fused("cpu"), reason="torch.add does not fuse on this CPU: nothing folds")
ULP32 = 2.0**-23


def _planted(build, sample=folded_claims.sample_shift) -> Claim:
    return Claim("planted.fold", "a wrong folded claim", build, ("planted",), ("planted",), sample)


def _with_form(monkeypatch, module, name, expr):
    forms = module.forms()
    monkeypatch.setattr(module, "forms", lambda: {**forms, name: expr})


@pytest.mark.parametrize(
    "name, wrong",
    [
        ("folded_sum", DF * Exp2(SCALE * M + S)),  # the correction multiplied in instead of divided out
        ("folded_sum", DF / Exp2(SCALE * M - S)),  # the shift's sign flipped
        ("folded_swu", SWUF + SW * (SCALE * M + S)),  # the weighted sum corrected the wrong way
    ],
    ids=["sum-multiplied", "sum-sign", "swu-sign"],
)
def test_a_planted_forward_correction_is_rejected(monkeypatch, name, wrong):
    _with_form(monkeypatch, folded_claims, name, wrong)
    build = folded_claims.folded_sum if name == "folded_sum" else folded_claims.folded_smooth
    result = check(_planted(build))
    assert not result.holds and result.failure.step == 1


def test_a_planted_backward_shift_is_rejected(monkeypatch):
    _with_form(monkeypatch, folded_claims, "folded_grad_shift", LA + SCALE * M)  # + c m, not - c m
    result = check(_planted(folded_claims.folded_grad, sample_positive))
    assert not result.holds and "c z_k + s" in result.failure.why


def test_the_probe_tells_a_fused_add_from_a_rounded_product(monkeypatch):
    real_add = torch.add

    def rounded_first(s, z, alpha=1, out=None):  # c z rounded to float32, then s added: two roundings
        return real_add(s, torch.mul(z, alpha), out=out)

    monkeypatch.setattr(torch, "add", rounded_first)
    assert _fold.fused.__wrapped__("cpu") is False


def test_the_shift_is_rounded_down_and_corrected_exactly():
    m = torch.tensor([[-3.7], [0.0], [1e-30], [12.5], [8e6]])
    s = _fold.Shift(m.device).into(torch.empty_like(m), m)
    exact = -_fold.C32 * m.double()  # two float32 factors: exact in float64
    assert bool((s.double() <= exact).all()), "s must not exceed -c m"
    assert bool(((exact - s.double()) <= 1.5 * torch.finfo(torch.float32).eps * exact.abs().clamp_min(1e-38)).all())
    d = torch.ones_like(m)
    _fold.unfold(m, s, d, None, 1.0)  # d' = 1 undone exactly: d = 2^-(c m + s) = 2^(-c m - s) >= 1
    assert torch.equal(d, torch.exp2(exact - s.double()).float()) and bool((d >= 1).all())


def _statistics(x, safe, weight, eps, fold):
    return _row_pass.row_pass(x, safe, weight, eps, torch.float32, fold=fold)


@fused_here
@pytest.mark.parametrize("scale, offset", [(3.0, 0.0), (1.0, 20.0), (5.0, -30.0)])
def test_forward_folded_statistics_match_the_unfolded_pass(scale, offset):
    gen = seeded("fold-forward", scale, offset)
    x = torch.randn(64, 1000, 1, generator=gen) * scale + offset
    safe = torch.randint(0, 1000, (64, 1, 1), generator=gen)
    w = torch.rand(1000, generator=gen) + 0.5
    m, d, swu, zt = _statistics(x, safe, w, 0.1, True)
    m0, d0, swu0, zt0 = _statistics(x, safe, w, 0.1, False)
    _, d64, swu64, _ = _row_pass.row_pass(x.double(), safe, w.double(), 0.1, torch.float64, fold=False)
    assert torch.equal(m, m0) and torch.equal(zt, zt0)
    for name, got, unfolded, exact in (("d", d, d0, d64), ("swu", swu, swu0, swu64)):
        bound = ((unfolded.double() - exact) / exact).abs().max().item() + ULP32
        worst = ((got.double() - exact) / exact).abs().max().item()
        assert worst <= bound, f"{name}: folded relative error {worst:.3g} > unfolded's + 2^-23 = {bound:.3g}"


@fused_here
def test_rows_that_cannot_fold_are_passed_again_unfolded(monkeypatch):
    gen = seeded("fold-fixup")
    x = torch.randn(300, 50, 1, generator=gen)
    x[3] += 1e8  # |m| >= 2^23: s's float32 spacing is above 1
    x[150, 7] = torch.inf
    x[299, 0] = torch.nan
    x[77] = -torch.inf
    safe = torch.randint(0, 50, (300, 1, 1), generator=gen)
    passes = []
    real = _row_pass.row_pass
    monkeypatch.setattr(_row_pass, "row_pass", lambda *a, **k: passes.append(k.get("fold")) or real(*a, **k))
    got = real(x, safe, None, 0.1, torch.float32)
    assert passes == [False], "the rows that could not fold should be passed again, once, unfolded"
    want = real(x, safe, None, 0.1, torch.float32, fold=False)
    for a, b in zip(got[:3], want[:3], strict=True):
        rows = [3, 77, 150, 299]
        assert torch.equal(a[rows].nan_to_num(), b[rows].nan_to_num()) and torch.equal(a.isnan(), b.isnan())


def _folded_backward(monkeypatch):
    calls = []
    real = _ce_gradient.GradientCoefficients.write_folded
    monkeypatch.setattr(
        _ce_gradient.GradientCoefficients, "write_folded", lambda self, *a: calls.append(1) or real(self, *a)
    )
    return calls


def _gradients(x, target):
    ours = x.clone().requires_grad_()
    kt.cross_entropy(ours, target).backward()
    exact = x.double().requires_grad_()
    F.cross_entropy(exact, target).backward()
    off_target = torch.ones_like(x, dtype=torch.bool)
    off_target[torch.arange(x.shape[0]), target] = False  # a e alone: the relative bound applies there
    return ((ours.grad.double() - exact.grad).abs() / exact.grad.abs())[off_target].max().item(), ours.grad, exact.grad


@fused_here
@pytest.mark.parametrize("offset, folds", [(0.0, True), (5.0, True), (20.0, False)])
def test_backward_folds_inside_its_guard_and_costs_at_most_1p5_ulp_of_s(monkeypatch, offset, folds):
    gen = seeded("fold-backward", offset)
    x = torch.randn(64, 1000, generator=gen) * 2 + offset  # c m - log2 a passes 32 between 5 and 20
    target = torch.randint(0, 1000, (64,), generator=gen)
    calls = _folded_backward(monkeypatch)
    folded_error, grad, exact = _gradients(x, target)
    assert bool(calls) is folds
    tol = TOLERANCES[torch.float32]
    assert_close(grad, exact, atol=tol.atol, rtol=tol.rtol, what="gradient")
    if folds:
        monkeypatch.setattr(_fold, "folding", lambda *a: False)
        unfolded_error, _, _ = _gradients(x, target)
        bound = unfolded_error + 1.5 * 2.0**-19 * math.log(2)  # ulp(s) <= 2^-19 where |s| < 32
        assert folded_error <= bound, f"folded {folded_error:.3g} > unfolded {unfolded_error:.3g} + 1.5 ulp(s) ln 2"


@fused_here
def test_an_ignored_row_folds_to_an_exact_zero(monkeypatch):
    x = torch.randn(6, 9, generator=seeded("fold-ignored"))
    target = torch.tensor([1, -100, 2, -100, 0, 8])
    calls = _folded_backward(monkeypatch)
    ours = x.clone().requires_grad_()
    kt.cross_entropy(ours, target).backward()
    assert calls and bool((ours.grad[[1, 3]] == 0).all())
