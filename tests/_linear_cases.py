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
    op_db, _ = internal()
    (op,) = [o for o in op_db if o.name == "nn.functional.linear_cross_entropy" and o.variant_test_name == variant]
    return list(op.sample_inputs("cpu", dtype, requires_grad=True))


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
    for k, (g, e) in enumerate(zip(got_grads, expected_grads, strict=True)):
        assert (g is None) == (e is None), f"{what}: gradient {k}: ours {g is not None}, torch {e is not None}"
        if g is not None:
            ref_k = None if reference is None else reference[1][k]
            assert g.dtype == dtype, f"{what}: gradient {k} dtype {g.dtype}"
            assert_close(g, e, atol=tol.atol, rtol=tol.rtol, what=f"{what}: gradient {k}", reference=ref_k)
