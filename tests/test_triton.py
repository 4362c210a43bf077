"""kernels.triton against torch.nn.functional.cross_entropy in float64, on CPU tensors in Triton's interpreter.

The grid: C in (3, 423, 1000, 32000) (32000 with 4 rows crossing 8 tiles of 4096; 423 crossing 2 tiles of 256),
every option (weight, ignore_index, label_smoothing, each reduction, probability targets, (N, C, d1, d2) inputs,
the z-loss and soft-capping against their float64 definition), each dtype (float32, float16, bfloat16), forward
and backward with a random upstream gradient, against the float64 oracle on the float64 upcast of the same
input. Tolerances per dtype: tests/_triton_support.py. About 40 s on two cores.
"""

from __future__ import annotations

import _triton_support as support
import pytest
import torch
import torch.nn.functional as F

pytestmark = pytest.mark.triton
kt = support.interpreted()
DTYPES = (torch.float32, torch.float16, torch.bfloat16)
#: (rows, C, the interpreter's tile): one tile with padding, two tiles, one full tile, eight tiles.
SHAPES = ((64, 3, 4), (32, 423, 256), (16, 1000, 1024), (4, 32000, 4096))
OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore": {"ignore_index": True},
    "smoothing": {"label_smoothing": 0.2},
    "all": {"weight": True, "ignore_index": True, "label_smoothing": 0.1},
}


@pytest.fixture
def block(monkeypatch):
    return lambda size: monkeypatch.setattr(kt._runtime, "INTERPRET_BLOCK", size)


def inputs(shape, options, dtype, prob=False, seed=0):
    """Logits of ``dtype`` (N, C, ...), targets (every 5th position ignore_index=7 with ``ignore_index``) and kwargs."""
    gen = torch.Generator().manual_seed(seed)
    c = shape[1]
    x = (3 * torch.randn(shape, generator=gen)).to(dtype)
    if prob:
        target = torch.softmax(torch.randn(shape, generator=gen), 1).to(dtype)
    else:
        target = torch.randint(0, c, (shape[0], *shape[2:]), generator=gen)
    kwargs = {}
    if options.get("weight"):
        kwargs["weight"] = (torch.rand(c, generator=gen) + 0.5).to(dtype)
    if options.get("ignore_index") and not prob:
        target.view(-1)[::5] = 7 % c if c > 7 else -100
        kwargs["ignore_index"] = 7 % c if c > 7 else -100
    if options.get("label_smoothing"):
        kwargs["label_smoothing"] = options["label_smoothing"]
    return x, target, kwargs


def check(x, target, kwargs, reduction, dtype, loss_fn=None, reference=None):
    """Loss and d loss / d x for a random upstream gradient, against the float64 oracle."""
    x = x.clone().requires_grad_()
    loss = (loss_fn or kt.cross_entropy)(x, target, reduction=reduction, **kwargs)
    upstream = torch.rand(loss.shape, generator=torch.Generator().manual_seed(1)) + 0.5
    (grad,) = torch.autograd.grad(loss, x, upstream.to(loss.dtype))
    x64 = x.detach().double().requires_grad_()
    wide = {k: (v.double() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    t64 = target.double() if target.is_floating_point() else target
    expected = (reference or F.cross_entropy)(x64, t64, reduction=reduction, **wide)
    (expected_grad,) = torch.autograd.grad(expected, x64, upstream.double())
    assert loss.dtype == dtype
    support.assert_close(loss, expected, dtype, "loss")
    support.assert_close(grad, expected_grad, dtype, "gradient")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("option", list(OPTIONS))
def test_every_option_and_reduction_with_class_indices(option, reduction, block):
    block(256)
    check(*inputs((32, 423), OPTIONS[option], torch.float32), reduction, torch.float32)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("rows", "c", "tile"), SHAPES, ids=[f"{n}x{c}" for n, c, _ in SHAPES])
def test_every_shape_and_dtype_with_all_options(rows, c, tile, dtype, block):
    block(tile)
    check(*inputs((rows, c), OPTIONS["all"], dtype), "mean", dtype)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_k_dimensional_input(reduction, block):
    block(32)
    check(*inputs((4, 37, 3, 5), OPTIONS["all"], torch.float32), reduction, torch.float32)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("option", ["plain", "all"])
def test_probability_targets(option, reduction, block):
    block(256)
    check(*inputs((24, 423), OPTIONS[option], torch.float32, prob=True), reduction, torch.float32)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_probability_targets_k_dimensional_in_every_dtype(dtype, block):
    block(32)
    check(*inputs((3, 50, 4), OPTIONS["all"], dtype, prob=True), "mean", dtype)


def test_probability_targets_and_weights_get_their_gradients(block):
    block(64)
    x, y, kwargs = inputs((8, 100), {"weight": True, "label_smoothing": 0.1}, torch.float32, prob=True)
    y.requires_grad_()
    ours = torch.autograd.grad(kt.cross_entropy(x.requires_grad_(), y, **kwargs), (x, y))
    y64 = y.detach().double().requires_grad_()
    x64 = x.detach().double().requires_grad_()
    loss = F.cross_entropy(x64, y64, weight=kwargs["weight"].double(), label_smoothing=0.1)
    for got, want in zip(ours, torch.autograd.grad(loss, (x64, y64)), strict=True):
        support.assert_close(got, want, torch.float32, "gradient")


def _with_extras(z_loss, cap):
    """The float64 definition: F.cross_entropy of c tanh(z / c), plus s lse^2 averaged over the counted positions."""

    def reference(x, target, reduction, **kwargs):
        capped = cap * torch.tanh(x / cap)
        loss = F.cross_entropy(capped, target, reduction=reduction, **kwargs)
        terms = z_loss * torch.logsumexp(capped, 1) ** 2
        if not target.is_floating_point():
            kept = target != kwargs.get("ignore_index", -100)
            terms = torch.where(kept, terms, 0)
            count = kept.sum()
        else:
            count = terms.numel()
        return loss + (terms if reduction == "none" else terms.sum() / (count if reduction == "mean" else 1))

    return reference


@pytest.mark.parametrize("prob", [False, True], ids=["indices", "probabilities"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_z_loss_and_soft_capping(prob, reduction, block):
    block(128)
    x, target, kwargs = inputs((16, 300), OPTIONS["all"], torch.float32, prob=prob)

    def ours(*args, **kw):
        return kt.cross_entropy(*args, **kw, lse_square_scale=1e-2, softcap=5.0)

    check(x, target, kwargs, reduction, torch.float32, ours, _with_extras(1e-2, 5.0))
