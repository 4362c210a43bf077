"""How the linear_cross_entropy tests run a case: PyTorch's own sample inputs, fresh leaves, one comparison.

`torch_samples(variant, dtype)` yields the SampleInputs of OpInfo `nn.functional.linear_cross_entropy`
(variant '', 'chunked' or 'chunked_none'); `compare(ours, sample, what)` runs ours and torch's reference
path (options=None) on fresh copies with one fixed random upstream gradient and holds the loss and every
gradient (input, linear_weight, linear_bias, a probability target) to tests/_compare.py's tolerance of the
dtype: torch itself in float64; in lower precision, torch in float64 on the same rounded inputs, with
torch's own result in the dtype as the bar ours must clear.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F
from _compare import TOLERANCES, assert_close


def internal():
    """torch.testing._internal's op and module databases (they need expecttest, a test extra)."""
    try:
        import expecttest  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("expecttest is missing in CI: pip install -e .[test] installs it")
        pytest.skip("expecttest is not installed: torch.testing._internal needs it (pip install -e .[test])")
    from torch.testing._internal import common_methods_invocations, common_modules

    return common_methods_invocations.op_db, common_modules.module_db


def torch_samples(variant: str, dtype: torch.dtype):
    """The OpInfo's sample inputs, drawn from a fixed seed (they come from the global generator), so a run
    does not depend on which tests drew random numbers before it."""
    op_db, _ = internal()
    (op,) = [o for o in op_db if o.name == "nn.functional.linear_cross_entropy" and o.variant_test_name == variant]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return list(op.sample_inputs("cpu", dtype, requires_grad=True))


def _magnitudes(input, linear_weight, target, kwargs) -> list:
    """For each gradient ``run`` returns, the sum of its products' magnitudes, in float64 (None: compared
    elementwise): with G = dL/dz of z = x W^T + b, |G| |W| for dL/dx, |G|^T |x| for dL/dW, sum |G| for dL/db."""
    bias = kwargs.get("linear_bias")
    x, w = input.detach().double(), linear_weight.detach().double()
    tgt = target.detach().double() if target.is_floating_point() else target
    z = F.linear(x, w, None if bias is None else bias.detach().double()).requires_grad_()
    ce = {k: v for k, v in kwargs.items() if k in ("weight", "reduction", "label_smoothing", "ignore_index")}
    ce = {**ce, "weight": None if ce.get("weight") is None else ce["weight"].double()}
    if ce.get("ignore_index") is None:
        ce["ignore_index"] = -100
    out = F.cross_entropy(z, tgt, **ce)
    (g,) = torch.autograd.grad(out, z, _upstream(out, torch.float64))
    g, x, w = g.abs(), x.abs(), w.abs()
    gm, xm = g.reshape(-1, w.shape[0]), x.reshape(-1, w.shape[1])
    sizes = []
    for leaf, size in ((input, g @ w), (linear_weight, gm.T @ xm), (target, None), (bias, gm.sum(0))):
        if isinstance(leaf, torch.Tensor) and leaf.is_floating_point():  # run() makes every float a leaf
            sizes.append(size)
    return sizes


def _upstream(out: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The upstream gradient of every run: fixed random values in [0.5, 1.5), rounded to the case's dtype."""
    g = torch.rand(out.shape, generator=torch.Generator().manual_seed(99), dtype=torch.float64) + 0.5
    return g.to(dtype).to(out.dtype)


def run(fn, input, linear_weight, target, kwargs, dtype=None):  # dtype: run in it (the oracle's float64)
    """fn(...) on fresh leaves (cast to ``dtype``); returns the loss and the gradients of every leaf (None if none)."""

    def leaf(t):
        if t is None or not isinstance(t, torch.Tensor):
            return t
        t = t.detach() if dtype is None or not t.is_floating_point() else t.detach().to(dtype)
        return t.requires_grad_() if t.is_floating_point() else t

    kwargs = {
        k: leaf(v) if k != "weight" else (None if v is None else v.detach().to(dtype or v.dtype))
        for k, v in kwargs.items()
    }
    args = [leaf(input), leaf(linear_weight), leaf(target)]
    out = fn(*args, **kwargs)
    leaves = [a for a in (*args, kwargs.get("linear_bias")) if isinstance(a, torch.Tensor) and a.requires_grad]
    grads = torch.autograd.grad(out, leaves, _upstream(out, input.dtype), allow_unused=True) if leaves else ()
    return out.detach(), list(grads)


def compare(ours, input, linear_weight, target, kwargs, what: str) -> None:
    """ours(...) against F.linear_cross_entropy(..., options=None): value, shape, dtype and every gradient."""
    dtype = input.dtype
    tol = TOLERANCES[dtype]
    reference_kwargs = {**kwargs, "options": None}
    got, got_grads = run(ours, input, linear_weight, target, kwargs)
    ref, ref_grads = run(F.linear_cross_entropy, input, linear_weight, target, reference_kwargs)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (
        f"{what}: {got.shape} {got.dtype}, torch {ref.shape} {ref.dtype}"
    )
    expected, expected_grads, reference = ref, ref_grads, None
    if tol.oracle:
        reference = (ref, ref_grads)
        expected, expected_grads = run(
            F.linear_cross_entropy, input, linear_weight, target, reference_kwargs, torch.float64
        )
    assert_close(
        got, expected, atol=tol.atol, rtol=tol.rtol, what=f"{what}: loss", reference=reference and reference[0]
    )
    assert len(got_grads) == len(expected_grads), f"{what}: {len(got_grads)} gradients, torch {len(expected_grads)}"
    sizes = _magnitudes(input, linear_weight, target, kwargs) if linear_weight.dim() == 2 else [None] * len(got_grads)
    for k, (g, e) in enumerate(zip(got_grads, expected_grads, strict=True)):
        assert (g is None) == (e is None), f"{what}: gradient {k}: ours {g is not None}, torch {e is not None}"
        if g is not None:
            ref_k = None if reference is None else reference[1][k]
            assert g.dtype == dtype, f"{what}: gradient {k} dtype {g.dtype}"
            what_k, size = f"{what}: gradient {k}", sizes[k]
            assert_close(g, e, atol=tol.atol, rtol=tol.rtol, what=what_k, reference=ref_k, scale=size)
