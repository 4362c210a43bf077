"""Property tests: kernels.torch equals torch.nn.functional on random inputs, options, dtypes and reductions.

Shapes include 1-D, spatial and empty ones; logits carry injected extremes (+-1e4, +-inf, nan). Each
example is compared by `check_parity` (value, NaN pattern, input and target gradients) under the dtype's
tolerance. Profiles (tests/conftest.py): "ci" (default, derandomized, 1,000 examples in all) and "slow"
(10,000 in all, `--hypothesis-profile=slow`).
"""

from __future__ import annotations

import math

import pytest

pytest.importorskip("hypothesis", reason="the property tests need hypothesis (pip install -e .[test])")

import torch
import torch.nn.functional as F
from _compare import TOLERANCES, check_parity
from hypothesis import given
from hypothesis import strategies as st

import kernels.torch as kt

DTYPES = st.sampled_from(list(TOLERANCES))
SPECIALS = [1e4, -1e4, math.inf, -math.inf, math.nan, 0.0]


def _randn(seed: int, shape, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


@st.composite
def real_tensor(draw, shape, dtype, specials=True):
    """Normal values at a drawn scale, with up to three positions replaced by extremes or non-finite values."""
    x = _randn(draw(st.integers(0, 2**32 - 1)), shape, draw(st.sampled_from([0.1, 1.0, 5.0, 50.0])))
    if specials and x.numel():
        for pos, value in draw(
            st.lists(st.tuples(st.integers(0, x.numel() - 1), st.sampled_from(SPECIALS)), max_size=3)
        ):
            x.view(-1)[pos] = value
    return x.to(dtype)


@st.composite
def class_shape(draw):
    """(input shape, class dim): (C,), (N, C) or (N, C, d1[, d2]); N and d may be 0."""
    ndim = draw(st.sampled_from([1, 2, 2, 3, 4]))
    C = draw(st.integers(1, 8))
    if ndim == 1:
        return (C,), 0
    rest = draw(st.lists(st.integers(0, 3), min_size=ndim - 2, max_size=ndim - 2))
    return (draw(st.integers(0, 5)), C, *rest), 1


@st.composite
def index_target(draw, shape, cdim, *, uint8_ok):
    """Class indices (int64, or uint8 with ignore_index 255), some set to a drawn ignore_index."""
    C, tshape = shape[cdim], shape[:cdim] + shape[cdim + 1 :]
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))
    t = torch.randint(0, C, tshape, generator=gen)
    uint8 = uint8_ok and draw(st.booleans())
    ignore = 255 if uint8 else draw(st.sampled_from([-100, draw(st.integers(0, C - 1))]))
    frac = draw(st.sampled_from([0.0, 0.3, 1.0]))  # fraction of positions ignored
    t[torch.rand(tshape, generator=gen) < frac] = ignore
    return t.to(torch.uint8 if uint8 else torch.int64), ignore


@st.composite
def class_weight(draw, C, dtype):
    kind = draw(st.sampled_from([None, "positive", "with-zeros"]))
    if kind is None:
        return None
    w = _randn(draw(st.integers(0, 2**32 - 1)), (C,)).abs() + 0.1
    if kind == "with-zeros":
        w[::2] = 0.0
    return w.to(dtype)


@given(data=st.data(), dtype=DTYPES, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_cross_entropy_matches_torch(data, dtype, reduction):
    shape, cdim = data.draw(class_shape())
    x = data.draw(real_tensor(shape, dtype))
    kwargs = {"reduction": reduction, "weight": data.draw(class_weight(shape[cdim], dtype))}
    kwargs["label_smoothing"] = data.draw(st.sampled_from([0.0, 0.1, 1.0]) | st.floats(0.0, 1.0))
    if data.draw(st.booleans(), label="probability target"):
        p = _randn(data.draw(st.integers(0, 2**32 - 1)), shape).abs()
        if data.draw(st.booleans(), label="normalised"):
            p = p / p.sum(cdim, keepdim=True).clamp(min=1e-30)
        check_parity(kt.cross_entropy, F.cross_entropy, [x, p.to(dtype)], kwargs, grad_args=(0, 1), what="ce prob")
        return
    # torch itself rejects uint8 targets with >= 3-D input and with weight + label smoothing
    uint8_ok = len(shape) <= 2 and not (kwargs["weight"] is not None and kwargs["label_smoothing"] > 0)
    t, kwargs["ignore_index"] = data.draw(index_target(shape, cdim, uint8_ok=uint8_ok))
    check_parity(kt.cross_entropy, F.cross_entropy, [x, t], kwargs, what="ce index")


@given(data=st.data(), dtype=DTYPES, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_nll_loss_matches_torch(data, dtype, reduction):
    shape, cdim = data.draw(class_shape())
    x = data.draw(real_tensor(shape, dtype))
    t, ignore = data.draw(index_target(shape, cdim, uint8_ok=len(shape) <= 2))
    kwargs = {"weight": data.draw(class_weight(shape[cdim], dtype)), "ignore_index": ignore, "reduction": reduction}
    check_parity(kt.nll_loss, F.nll_loss, [x, t], kwargs, what="nll_loss")


@given(data=st.data(), dtype=DTYPES, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_bce_with_logits_matches_torch(data, dtype, reduction):
    shape = tuple(data.draw(st.lists(st.integers(0, 5), min_size=0, max_size=3)))
    x = data.draw(real_tensor(shape, dtype))
    y = data.draw(real_tensor(shape, torch.float64, specials=False)).sigmoid().to(dtype)  # soft labels in (0, 1)
    last = shape[-1:]  # () for a 0-d input
    kwargs = {"reduction": reduction}
    wshape = data.draw(st.sampled_from([None, shape, last]))  # full, or broadcast along the last dim
    if wshape is not None:
        kwargs["weight"] = data.draw(real_tensor(wshape, torch.float64, specials=False)).abs().to(dtype)
    if data.draw(st.booleans(), label="pos_weight"):
        kwargs["pos_weight"] = data.draw(real_tensor(last, torch.float64, specials=False)).abs().to(dtype)
    f = F.binary_cross_entropy_with_logits
    check_parity(kt.binary_cross_entropy_with_logits, f, [x, y], kwargs, grad_args=(0, 1), what="bce")


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@given(
    data=st.data(),
    dtype=DTYPES,
    reduction=st.sampled_from(["none", "sum", "mean", "batchmean"]),
    log=st.booleans(),
)
def test_kl_div_matches_torch(data, dtype, reduction, log):
    shape, cdim = data.draw(class_shape())
    x = data.draw(real_tensor(shape, dtype))  # log q: any reals, extremes included
    p = torch.softmax(data.draw(real_tensor(shape, torch.float64, specials=False)), cdim)
    if data.draw(st.booleans(), label="zeros in target") and p.numel():
        p.view(-1)[::3] = 0.0  # 0 log 0 = 0
    t = p.log().clamp(min=-50) if log else p
    kwargs = {"reduction": reduction, "log_target": log}
    check_parity(kt.kl_div, F.kl_div, [x, t.to(dtype)], kwargs, grad_args=(0, 1), what="kl_div")
