"""kernels.triton's other functions and its edges, in Triton's interpreter on CPU tensors: the overwrite variant,
nll_loss, linear_cross_entropy against torch's in float64, the errors (device, dtype, out-of-range targets before
any launch, triton missing) and kernels.torch's opt-in switch (off by default; CPU calls never leave torch).
"""

from __future__ import annotations

import subprocess
import sys

import _triton_support as support
import pytest
import torch
import torch.nn.functional as F

import kernels.torch as ktorch

pytestmark = pytest.mark.triton
kt = support.interpreted()
F32 = torch.float32


@pytest.mark.parametrize(("shape", "dtype"), [((16, 300), F32), ((16, 300), torch.bfloat16), ((4, 30, 6), F32)])
def test_the_overwrite_variant_writes_the_gradient_over_the_logits(shape, dtype):
    gen = torch.Generator().manual_seed(0)
    x = (3 * torch.randn(shape, generator=gen)).to(dtype)
    target = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=gen)
    target.view(-1)[::4] = -100
    leaf = x.clone().requires_grad_()
    logits = leaf * 1  # the logits a model would produce; the leaf keeps its values
    loss = kt.cross_entropy_overwrite_logits(logits, target, label_smoothing=0.1)
    loss.backward(torch.tensor(2.0, dtype=dtype))
    x64 = x.double().requires_grad_()
    expected = F.cross_entropy(x64, target, label_smoothing=0.1)
    (grad,) = torch.autograd.grad(expected * 2, x64)
    support.assert_close(loss, expected, dtype, "loss")
    support.assert_close(leaf.grad, grad, dtype, "gradient")
    support.assert_close(logits.detach(), grad, dtype, "the logits now hold the gradient")


def test_the_overwrite_variant_refuses_what_it_would_break():
    with pytest.raises(RuntimeError, match=r"nn\.Parameter"):
        kt.cross_entropy_overwrite_logits(torch.nn.Parameter(torch.randn(3, 5)), torch.tensor([0, 1, 2]))
    logits = torch.randn(3, 5, requires_grad=True).tanh()  # tanh saved its output for its backward
    with pytest.raises(RuntimeError, match="saved it for its own backward"):
        kt.cross_entropy_overwrite_logits(logits, torch.tensor([0, 1, 2]))
    loss = kt.cross_entropy_overwrite_logits(torch.randn(3, 5, requires_grad=True) * 1, torch.tensor([0, 1, 2]))
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="backward ran twice"):
        loss.backward()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(reduction):
    gen = torch.Generator().manual_seed(0)
    logp = torch.log_softmax(torch.randn(20, 37, generator=gen), 1).requires_grad_()
    target, weight = torch.randint(0, 37, (20,), generator=gen), torch.rand(37, generator=gen) + 0.5
    target[::3] = -100
    loss = kt.nll_loss(logp, target, weight, reduction=reduction)
    (grad,) = torch.autograd.grad(loss.sum(), logp)
    x64 = logp.detach().double().requires_grad_()
    expected = F.nll_loss(x64, target, weight.double(), reduction=reduction)
    support.assert_close(loss, expected, F32, "loss")
    support.assert_close(grad, torch.autograd.grad(expected.sum(), x64)[0], F32, "gradient")


@pytest.mark.parametrize(
    ("prob", "reduction", "options"),
    [(False, "mean", {"weight": True, "ls": 0.1}), (False, "none", {}), (True, "sum", {"ls": 0.2})],
    ids=["indices-mean-weight-ls", "indices-none", "probabilities-sum-ls"],
)
def test_linear_cross_entropy_in_chunks(prob, reduction, options, monkeypatch):
    monkeypatch.setattr(kt._runtime, "INTERPRET_BLOCK", 128)
    gen = torch.Generator().manual_seed(0)
    n, h, c = 40, 16, 300
    x, w, b = torch.randn(n, h, generator=gen), torch.randn(c, h, generator=gen) / 4, torch.randn(c, generator=gen)
    target = torch.softmax(torch.randn(n, c, generator=gen), 1) if prob else torch.randint(0, c, (n,), generator=gen)
    if not prob:
        target[::6] = -100
    kwargs = {"weight": torch.rand(c, generator=gen) + 0.5} if options.get("weight") else {}
    chunks = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=16)  # three chunks
    args = [t.clone().requires_grad_() for t in (x, w, b)]
    loss = kt.linear_cross_entropy(args[0], args[1], target, linear_bias=args[2], reduction=reduction,
                                   label_smoothing=options.get("ls", 0.0), options=chunks, **kwargs)  # fmt: skip
    grads = torch.autograd.grad(loss.sum(), args)
    wide = [t.double().requires_grad_() for t in (x, w, b)]
    wide_kwargs = {k: v.double() for k, v in kwargs.items()}
    expected = F.cross_entropy(F.linear(*wide), target.double() if prob else target, reduction=reduction,
                               label_smoothing=options.get("ls", 0.0), **wide_kwargs)  # fmt: skip
    support.assert_close(loss, expected, F32, "loss")
    for got, want, name in zip(grads, torch.autograd.grad(expected.sum(), wide), "xWb", strict=True):
        support.assert_close(got, want, F32, f"d loss / d {name}")


def test_out_of_range_targets_raise_before_any_launch(monkeypatch):
    def launched(*args, **kwargs):
        raise AssertionError("a kernel was launched")

    monkeypatch.setattr(kt._launch, "index_forward", launched)
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        kt.cross_entropy(torch.randn(3, 5), torch.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match="out of bounds"):
        kt.nll_loss(torch.randn(3, 5), torch.tensor([0, -1, 1]))


def test_a_device_or_dtype_the_kernels_cannot_run_is_refused_with_the_fix(monkeypatch):
    with pytest.raises(TypeError, match=r"float64 in float64"):
        kt.cross_entropy(torch.randn(3, 5, dtype=torch.float64), torch.tensor([0, 1, 2]))
    monkeypatch.setattr(kt._runtime, "INTERPRETING", False)  # as if imported without TRITON_INTERPRET=1
    with pytest.raises(RuntimeError, match=r"TRITON_INTERPRET=1 was set after kernels\.triton was imported"):
        kt.cross_entropy(torch.randn(3, 5), torch.tensor([0, 1, 2]))
    monkeypatch.setattr(kt._runtime.triton.knobs.runtime, "interpret", False)
    with pytest.raises(RuntimeError, match=r"runs on CUDA tensors.*x\.cuda\(\).*kernels\.torch.*TRITON_INTERPRET=1"):
        kt.cross_entropy(torch.randn(3, 5), torch.tensor([0, 1, 2]))


def test_without_triton_the_import_names_the_fix():
    code = "import sys; sys.modules['triton'] = None\ntry:\n import kernels.triton\nexcept ImportError as e: print(e)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install triton==3.9.0" in done.stdout and "kernels.torch" in done.stdout, done.stdout + done.stderr


def test_the_switch_is_off_by_default_read_at_call_time_and_never_takes_cpu_tensors(monkeypatch):
    from kernels.torch import _triton_switch as switch

    monkeypatch.delenv("VCE_TRITON", raising=False)
    x = torch.randn(4, 6)
    assert switch.triton_backend(x) is None  # off by default
    monkeypatch.setenv("VCE_TRITON", "1")
    assert switch.triton_backend(x) is None  # on, but CPU tensors stay on torch
    monkeypatch.setattr(kt, "cross_entropy", lambda *a, **k: pytest.fail("a CPU call went to kernels.triton"))
    torch.testing.assert_close(
        ktorch.cross_entropy(x, torch.tensor([0, 1, 2, 3])), F.cross_entropy(x, torch.tensor([0, 1, 2, 3]))
    )
    assert ktorch.use_triton(False) is None and switch.triton_backend(x) is None
    assert ktorch.use_triton(None) is False
