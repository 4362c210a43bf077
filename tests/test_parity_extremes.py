"""kernels.torch against torch.nn.functional at the edges: extreme and non-finite values, float16 overflow,
strided inputs. The grid of ordinary cases is tests/test_parity_torch.py."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _compare import DTYPES, TOLERANCES, assert_close, check_parity, seeded

import kernels.torch as kt

REDUCTIONS = ["none", "sum", "mean"]

# ---- extreme values (semantics reference, section 4) -------------------------------------------------

inf, nan = float("inf"), float("nan")
EXTREME = {
    "pm1e4": ([[1e4, -1e4, 0], [-1e4, 1e4, 0], [1e4, 1e4, 1e4]], [0, 0, 2], {}),
    "pm1e4-ls": ([[1e4, -1e4, 0], [-1e4, 1e4, 0], [1e4, 1e4, 1e4]], [0, 0, 2], {"label_smoothing": 0.1}),
    "neginf-t0": ([[-inf, 0, 0], [0, 1, 2]], [0, 2], {}),
    "neginf-t1": ([[-inf, 0, 0], [0, 1, 2]], [1, 2], {}),
    "neginf-t1-ls": ([[-inf, 0, 0], [0, 1, 2]], [1, 2], {"label_smoothing": 0.1}),
    "neginf-prob": ([[-inf, 0, 0], [0, 1, 2]], [[0, 0.5, 0.5], [0.2, 0.3, 0.5]], {}),
    "posinf": ([[inf, 0, 0], [0, 1, 2]], [1, 2], {}),
    "all-neginf": ([[-inf, -inf, -inf], [0, 1, 2]], [0, 2], {}),
    "nan": ([[nan, 0, 0], [0, 1, 2]], [1, 2], {}),
    "ignored-nan-row": ([[nan, 0, 0], [0, 1, 2]], [-100, 2], {}),
    "ignored-all-neginf-row": ([[-inf, -inf, -inf], [0, 1, 2]], [-100, 2], {}),
    "ignored-one-neginf-row": ([[-inf, 0, 0], [0, 1, 2]], [-100, 2], {}),
    "1e38": ([[1e38, -1e38, 0], [0, 1, 2]], [1, 2], {}),
    "3e38": ([[3e38, 3e38, 0], [0, 1, 2]], [1, 2], {}),
    "60000-rows": ([[60000, 0]] * 4, [1] * 4, {}),
    # every target's weight is 0: the mean's denominator is 0, so mean is nan (torch), with or without smoothing
    "target-weights-zero": ([[0.15, -0.03], [1.0, 2.0]], [0, 0], {"weight": [0.0, 0.39]}),
    "target-weights-zero-ls": ([[0.15, -0.03], [1.0, 2.0]], [0, 0], {"weight": [0.0, 0.39], "label_smoothing": 0.1}),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(EXTREME))
def test_cross_entropy_extreme_values(name, dtype, reduction):
    logits, target, kwargs = EXTREME[name]
    x = torch.tensor(logits, dtype=torch.float64).to(dtype)
    prob = isinstance(target[0], list)
    t = torch.tensor(target, dtype=torch.float64).to(dtype) if prob else torch.tensor(target)
    kwargs = {**kwargs, "reduction": reduction}
    if "weight" in kwargs:
        kwargs["weight"] = torch.tensor(kwargs["weight"], dtype=torch.float64).to(dtype)
    grad_args = (0, 1) if prob else (0,)
    check_parity(kt.cross_entropy, F.cross_entropy, [x, t], kwargs, grad_args=grad_args, what=name)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_probability_target_with_no_classes(reduction, label_smoothing):
    """C = 0: an empty sum per position (mean is nan, as torch), never a division by C or an empty max."""
    x = torch.zeros(2, 0, dtype=torch.float64)
    kwargs = {"reduction": reduction, "label_smoothing": label_smoothing}
    check_parity(kt.cross_entropy, F.cross_entropy, [x, torch.zeros(2, 0, dtype=torch.float64)], kwargs, what="C=0")


def test_finite_loss_for_index_targets_with_neginf_logits():
    x = torch.tensor([[-inf, 0.0, 0.0], [0.0, -inf, 3.0]], requires_grad=True)
    loss = kt.cross_entropy(x, torch.tensor([1, 2]), reduction="none")
    assert torch.isfinite(loss).all(), loss
    loss.sum().backward()
    assert torch.isfinite(x.grad).all(), x.grad


@pytest.mark.parametrize("pos_weight", [None, 0.15, 3.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_extreme_values(dtype, reduction, pos_weight):
    z = torch.tensor([1e4, -1e4, inf, -inf, inf, -inf, nan, 30.0, -1e38, -inf], dtype=torch.float64).to(dtype)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.5, 1.0, 0.0, 0.15], dtype=torch.float64).to(dtype)
    kwargs = {"reduction": reduction}
    if pos_weight is not None:
        kwargs["pos_weight"] = torch.tensor([pos_weight], dtype=torch.float64).to(dtype)
    f = F.binary_cross_entropy_with_logits
    check_parity(kt.binary_cross_entropy_with_logits, f, [z, y], kwargs, grad_args=(0, 1), what="bce extremes")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_bce_gradient_with_large_pos_weight(dtype):
    """(1 + (pw - 1) y) s(z) - pw y cancels two terms of size pw y when s(z) ~ 1; ours must be as accurate as torch."""
    z = torch.tensor([-0.5583, -5.7280, 7.0516, 3.0], dtype=dtype)
    y = torch.tensor([-0.1117, -1.1456, 1.4103, 2.0], dtype=torch.float64).sigmoid().to(dtype)
    pw = torch.tensor([80.2638, 11.6243, 111.9935, 500.0], dtype=dtype)
    kwargs = {"pos_weight": pw, "reduction": "none"}
    f = F.binary_cross_entropy_with_logits
    check_parity(kt.binary_cross_entropy_with_logits, f, [z, y], kwargs, grad_args=(0, 1), what="bce, pos_weight 112")


HALF_OVERFLOW = {  # torch sums these in float16 and overflows; the float64 value fits in float16
    "ls-mean-N4096-C10": ((torch.randn(4096, 10, generator=seeded("f16-ls"), dtype=torch.float64) * 2), 0.1),
    "60000-rows-mean": (torch.tensor([[60000.0, 0.0]] * 4, dtype=torch.float64), 0.0),
}


@pytest.mark.parametrize("name", list(HALF_OVERFLOW))
def test_float16_mean_stays_finite_where_torch_overflows(name):
    logits, eps = HALF_OVERFLOW[name]
    x = logits.half()
    t = (
        torch.randint(0, x.shape[1], (x.shape[0],), generator=seeded("f16-t"))
        if eps
        else torch.ones(4, dtype=torch.long)
    )
    theirs = F.cross_entropy(x, t, label_smoothing=eps)
    exact = F.cross_entropy(x.double(), t, label_smoothing=eps)
    ours = kt.cross_entropy(x, t, label_smoothing=eps)
    assert torch.isinf(theirs), f"torch's float16 result {theirs} no longer overflows; revisit the docs claim"
    assert ours.dtype == torch.float16 and torch.isfinite(ours), ours
    tol = TOLERANCES[torch.float16]
    assert_close(ours, exact, atol=tol.atol, rtol=tol.rtol, what=f"float16 {name}")


# ---- non-contiguous inputs ---------------------------------------------------------------------------


def _views(g, dtype):
    """(name, ours-or-torch fn, contiguous args, strided args): the same numbers in strided layouts."""
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64).to(dtype)  # noqa: E731
    x = r(7, 4)  # (C, N) storage read as (N, C)
    t = torch.randint(0, 7, (8,), generator=g)
    w = r(14).abs() + 0.5
    s = r(3, 4, 2, 5)  # (N, d1, d2, C) storage read as (N, C, d1, d2)
    ts = torch.randint(0, 5, (3, 2, 4), generator=g)
    p = torch.softmax(r(7, 4), 0)
    return [
        ("ce-transposed", "cross_entropy", (x.t(), t[::2]), {"weight": w[::2]}),
        ("ce-permuted-spatial", "cross_entropy", (s.permute(0, 3, 1, 2), ts.transpose(1, 2)), {}),
        ("ce-prob-transposed", "cross_entropy", (x.t(), p.t()), {"label_smoothing": 0.1}),
        ("nll-transposed", "nll_loss", (x.t(), t[::2]), {}),
        ("bce-transposed", "binary_cross_entropy_with_logits", (x.t(), torch.sigmoid(p.t())), {"pos_weight": w[::2]}),
        ("kl-transposed", "kl_div", (torch.log_softmax(x, 0).t(), p.t()), {"reduction": "batchmean"}),
    ]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("index", range(6))
def test_non_contiguous_inputs(index, dtype):
    name, fn, args, kwargs = _views(seeded("views"), dtype)[index]
    assert not all(a.is_contiguous() for a in args)
    floats = tuple(i for i, a in enumerate(args) if a.is_floating_point())
    check_parity(getattr(kt, fn), getattr(F, fn), list(args), kwargs, grad_args=floats, what=name)
    # the same numbers laid out contiguously give the same result
    dense = [a.contiguous() for a in args]
    same = getattr(kt, fn)(*dense, **{k: v.contiguous() if torch.is_tensor(v) else v for k, v in kwargs.items()})
    tol = TOLERANCES[dtype]  # equal up to summation order
    got = getattr(kt, fn)(*args, **kwargs)
    assert_close(got, same, atol=tol.atol, rtol=tol.rtol, what=f"{name}: strided vs contiguous")
