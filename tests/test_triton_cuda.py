"""kernels.triton on a CUDA device: the full parity grid against torch.nn.functional in float64, the switch,
the range check and int64 offsets at N C > 2^31. Skipped without CUDA (run by scripts/device_check.sh).

    C in (3, 423, 1000, 32000, 128256) x dtype (float32, float16, bfloat16) x options x reduction,
    probability targets, (N, C, d1, d2) inputs, z-loss and soft-capping, the overwrite variant,
    linear_cross_entropy, kernels.torch with VCE_TRITON=1
"""

from __future__ import annotations

import _triton_support as support
import pytest
import torch
import torch.nn.functional as F

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.triton,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
SHAPES = ((512, 3), (512, 423), (512, 1000), (256, 32000), (64, 128256))
DTYPES = (torch.float32, torch.float16, torch.bfloat16)
OPTIONS = {
    "plain": {},
    "weight+ignore": {"weight": True, "ignore_index": True},
    "all": {"weight": True, "ignore_index": True, "label_smoothing": 0.1},
}
# On the device a bfloat16 store rounds to nearest: the same 1-ulp bound as the interpreter's truncation holds.


@pytest.fixture(scope="module")
def kt():
    pytest.importorskip("triton", reason="triton is not installed (pip install triton==3.9.0)")
    import kernels.triton

    assert not kernels.triton._runtime.INTERPRETING, "TRITON_INTERPRET=1 is set on a GPU machine: unset it"
    return kernels.triton


def _inputs(shape, options, dtype, prob=False):
    gen = torch.Generator().manual_seed(0)
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
        target.view(-1)[::5] = -100
    if options.get("label_smoothing"):
        kwargs["label_smoothing"] = options["label_smoothing"]
    cuda = {k: v.cuda() if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    return x.cuda(), target.cuda(), cuda


def _check(fn, x, target, kwargs, reduction, dtype, **extra):
    x = x.clone().requires_grad_()
    loss = fn(x, target, reduction=reduction, **kwargs, **extra)
    upstream = torch.rand(loss.shape, generator=torch.Generator().manual_seed(1)).cuda() + 0.5
    (grad,) = torch.autograd.grad(loss, x, upstream.to(loss.dtype))
    x64 = x.detach().double().requires_grad_()
    wide = {k: v.double() if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    expected = F.cross_entropy(x64, target.double() if target.is_floating_point() else target, reduction=reduction,
                               **wide)  # fmt: skip
    support.assert_close(loss, expected, dtype, "loss")
    support.assert_close(grad, torch.autograd.grad(expected, x64, upstream.double())[0], dtype, "gradient")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}x{c}" for n, c in SHAPES])
def test_parity_grid(kt, shape, dtype, option, reduction):
    _check(kt.cross_entropy, *_inputs(shape, OPTIONS[option], dtype), reduction, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(256, 32000), (8, 50, 16, 3)], ids=["2d", "k-dim"])
def test_probability_targets(kt, shape, dtype):
    _check(kt.cross_entropy, *_inputs(shape, OPTIONS["all"], dtype, prob=True), "mean", dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_k_dimensional_class_indices(kt, dtype):
    _check(kt.cross_entropy, *_inputs((8, 1000, 4, 3), OPTIONS["all"], dtype), "none", dtype)


def test_overwrite_matches_cross_entropy(kt):
    x, target, kwargs = _inputs((512, 32000), OPTIONS["all"], torch.bfloat16)
    leaf = x.clone().requires_grad_()
    kt.cross_entropy_overwrite_logits(leaf * 1, target, **kwargs).backward()
    ref = x.clone().requires_grad_()
    kt.cross_entropy(ref, target, **kwargs).backward()
    support.assert_close(leaf.grad, ref.grad.float(), torch.bfloat16, "gradient")


def test_linear_cross_entropy(kt):
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(1024, 256, generator=gen).cuda(), (torch.randn(32000, 256, generator=gen) / 16).cuda()
    target = torch.randint(0, 32000, (1024,), generator=gen).cuda()
    args = [x.clone().requires_grad_(), w.clone().requires_grad_()]
    loss = kt.linear_cross_entropy(*args, target, label_smoothing=0.1)
    grads = torch.autograd.grad(loss, args)
    wide = [t.double().requires_grad_() for t in (x, w)]
    expected = F.cross_entropy(F.linear(*wide), target, label_smoothing=0.1)
    support.assert_close(loss, expected, torch.float32, "loss")
    for got, want in zip(grads, torch.autograd.grad(expected, wide), strict=True):
        support.assert_close(got, want, torch.float32, "gradient")


def test_an_out_of_range_target_is_an_index_error_before_any_launch(kt):
    with pytest.raises(IndexError, match="out of bounds"):
        kt.cross_entropy(torch.randn(4, 10, device="cuda"), torch.tensor([0, 1, 10, 2], device="cuda"))


def test_the_switch_sends_cuda_calls_to_triton(kt, monkeypatch):
    import kernels.torch as ktorch

    calls = []
    real = kt.cross_entropy
    monkeypatch.setattr(kt, "cross_entropy", lambda *a, **k: calls.append(1) or real(*a, **k))
    x, target, _ = _inputs((64, 1000), {}, torch.float32)
    monkeypatch.setenv("VCE_TRITON", "1")
    torch.testing.assert_close(ktorch.cross_entropy(x, target), F.cross_entropy(x, target))
    assert calls == [1]
    monkeypatch.delenv("VCE_TRITON")
    ktorch.cross_entropy(x, target)
    assert calls == [1]  # off again


def test_int64_offsets_past_two_to_the_31(kt):
    """16800 x 128256 bfloat16 logits: 2.15e9 elements, the last rows start past 2^31."""
    n, c = 16800, 128256
    if torch.cuda.get_device_properties(0).total_memory < 3 * n * c * 2:
        pytest.skip("needs about 13 GB of device memory")
    x = torch.randn(n, c, device="cuda", dtype=torch.bfloat16)
    target = torch.randint(0, c, (n,), device="cuda")
    x.requires_grad_()
    loss = kt.cross_entropy(x, target, reduction="none")
    loss.sum().backward()
    rows = torch.tensor([0, n // 2, n - 2, n - 1], device="cuda")
    x64 = x.detach()[rows].double().requires_grad_()
    expected = F.cross_entropy(x64, target[rows], reduction="none")
    expected.sum().backward()
    support.assert_close(loss[rows], expected, torch.bfloat16, "loss")
    support.assert_close(x.grad[rows], x64.grad, torch.bfloat16, "gradient")
