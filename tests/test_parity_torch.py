"""kernels.torch against torch.nn.functional on the same inputs: one grid per loss.

Grid: device (cpu, cuda) x dtype with its tolerance (tests/_compare.py) x reduction x option x shape.
Every case compares the value, output shape and dtype, and the input gradient (and the target gradient
for probability targets and BCE / KL targets) through `check_parity`.
The edges (extreme values, strided inputs): tests/test_parity_extremes.py; modules and signatures:
tests/test_parity_api.py.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _compare import DTYPES, check_parity, seeded

import kernels.torch as kt

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=[pytest.mark.cuda, CUDA])]
REDUCTIONS = ["none", "sum", "mean"]

# input shape; class dim is 0 for 1-D input, else 1; "7" has a 0-d target, "0x5" is an empty batch
SHAPES = {"3x423": (3, 423), "2x5x3x4": (2, 5, 3, 4), "7": (7,), "0x5": (0, 5), "4x6x5": (4, 6, 5)}
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore-in-range": {"ignore_index": 1},
    "ignore-outside": {"ignore_index": -100},
    "all-ignored": {"ignore_index": -100, "all_ignored": True},
    "all-ignored-ls-weight": {"ignore_index": 1, "all_ignored": True, "label_smoothing": 0.1, "weight": True},
    "ls0.1": {"label_smoothing": 0.1},
    "ls1": {"label_smoothing": 1.0},
    "ls-weight-ignore": {"label_smoothing": 0.1, "weight": True, "ignore_index": 1},
    "uint8-255": {"uint8": True, "ignore_index": 255},
    "prob": {"prob": True},
    "prob-ls": {"prob": True, "label_smoothing": 0.1},
    "prob-weight": {"prob": True, "weight": True},
    "prob-weight-ls": {"prob": True, "weight": True, "label_smoothing": 0.1},
}


def _cdim(shape) -> int:
    return 0 if len(shape) == 1 else 1


def make_case(shape, opts, dtype, device, key):
    """(args, kwargs, grad_args) for cross_entropy / nll_loss on the given input shape and options."""
    g = seeded(key)
    cd = _cdim(shape)
    C = shape[cd]
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    kwargs = {}
    if opts.get("weight"):
        kwargs["weight"] = (torch.rand(C, generator=g, dtype=torch.float64) + 0.5).to(dtype).to(device)
    if "label_smoothing" in opts:
        kwargs["label_smoothing"] = opts["label_smoothing"]
    if opts.get("prob"):
        t = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), cd).to(dtype).to(device)
        return [x.to(dtype).to(device), t], kwargs, (0, 1)
    tshape = shape[:cd] + shape[cd + 1 :]
    t = torch.randint(0, C, tshape, generator=g)
    if "ignore_index" in opts:
        ii = opts["ignore_index"]
        kwargs["ignore_index"] = ii
        flat = t.reshape(-1)
        flat[::3] = ii  # every third position is ignored
        if opts.get("all_ignored"):
            flat[:] = ii
    if opts.get("uint8"):
        t = t.to(torch.uint8)
    return [x.to(dtype).to(device), t.to(device)], kwargs, (0,)


def _ce_ids():
    for s, shape in SHAPES.items():
        for o, opts in CE_OPTIONS.items():
            # torch rejects uint8 targets with >= 3-D input; that case is in the bad-input battery
            if opts.get("uint8") and len(shape) >= 3:
                continue
            yield pytest.param(shape, opts, id=f"{s}-{o}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("shape", "opts"), list(_ce_ids()))
def test_cross_entropy(shape, opts, device, dtype, reduction):
    args, kwargs, grad_args = make_case(shape, opts, dtype, device, ("ce", shape, repr(opts)))
    kwargs["reduction"] = reduction
    check_parity(kt.cross_entropy, F.cross_entropy, args, kwargs, grad_args=grad_args, what="cross_entropy")


NLL_OPTIONS = ["plain", "weight", "ignore-in-range", "ls-weight-ignore", "all-ignored", "uint8-255"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("option", NLL_OPTIONS)
@pytest.mark.parametrize("shape", ["3x423", "2x5x3x4", "7", "0x5"])
def test_nll_loss(shape, option, device, dtype, reduction):
    opts = {k: v for k, v in CE_OPTIONS[option].items() if k != "label_smoothing"}
    if opts.get("uint8") and len(SHAPES[shape]) >= 3:
        pytest.skip("torch rejects uint8 targets with >= 3-D input")
    args, kwargs, _ = make_case(SHAPES[shape], opts, dtype, device, ("nll", shape, option))
    args[0] = torch.log_softmax(args[0].double(), _cdim(SHAPES[shape])).to(dtype)
    check_parity(kt.nll_loss, F.nll_loss, args, {**kwargs, "reduction": reduction}, what="nll_loss")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("option", ["plain", "weight", "pos_weight", "both"])
@pytest.mark.parametrize("shape", ["3x423", "2x5x3x4", "7", "0x5"])
def test_binary_cross_entropy_with_logits(shape, option, device, dtype, reduction):
    g = seeded("bce", shape, option)
    size = SHAPES[shape]
    to = lambda v: v.to(dtype).to(device)  # noqa: E731
    x = to(torch.randn(size, generator=g, dtype=torch.float64) * 3)
    y = to(torch.rand(size, generator=g, dtype=torch.float64))  # soft labels in [0, 1]
    kwargs = {"reduction": reduction}
    if option in ("weight", "both"):  # broadcast along all but the last dimension
        kwargs["weight"] = to(torch.rand(size[-1:], generator=g, dtype=torch.float64) + 0.5)
    if option in ("pos_weight", "both"):  # pos_weight broadcasts along the last dimension
        kwargs["pos_weight"] = to(torch.rand(size[-1:], generator=g, dtype=torch.float64) * 3)
    f = F.binary_cross_entropy_with_logits
    check_parity(kt.binary_cross_entropy_with_logits, f, [x, y], kwargs, grad_args=(0, 1), what="bce")


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", ["3x423", "2x5x3x4", "7", "0x5"])
def test_kl_div(shape, log_target, device, dtype, reduction):
    g = seeded("kl", shape, log_target)
    size, cd = SHAPES[shape], _cdim(SHAPES[shape])
    logq = torch.log_softmax(torch.randn(size, generator=g, dtype=torch.float64), cd)
    p = torch.softmax(torch.randn(size, generator=g, dtype=torch.float64) * 2, cd)
    p.reshape(-1)[::5] = 0.0  # exact zeros: 0 log 0 = 0
    t = torch.log(p) if log_target else p
    args = [logq.to(dtype).to(device), t.to(dtype).to(device)]
    if log_target:  # -inf log-targets have an undefined target gradient; keep them out of the grad check
        args[1] = args[1].clamp(min=-30)
    kwargs = {"reduction": reduction, "log_target": log_target}
    check_parity(kt.kl_div, F.kl_div, args, kwargs, grad_args=(0, 1), what="kl_div")
