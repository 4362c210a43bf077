"""What the Triton interpreter tests share: kernels.triton imported under TRITON_INTERPRET=1, and the oracle check.

``interpreted()`` imports kernels.triton with TRITON_INTERPRET=1, which tests/conftest.py sets before anything
imports triton (torch._dynamo does) wherever torch sees no CUDA device: Triton reads it when it decorates a kernel,
its own library (tl.max) included, and when a kernel calls a helper. Where triton was imported for a GPU it skips,
as it does, with the reason, where triton is not installed. ``assert_close`` compares with a float64 oracle and
reports how many elements mismatch and where, with tolerances per dtype:

    float32    rtol 1e-5, atol 1e-6 x the largest |expected|       (float32 arithmetic)
    float16    rtol 2^-10 (1 ulp), atol as float32's                (float32 arithmetic, one rounding)
    bfloat16   rtol 2^-7 (1 ulp), atol as float32's                 (the interpreter's stores truncate)
"""

from __future__ import annotations

import importlib
import os
import sys

import pytest
import torch

RTOL = {torch.float32: 1e-5, torch.float16: 2.0**-10, torch.bfloat16: 2.0**-7}


def _interpreted(fn) -> bool:
    return type(fn).__name__ == "InterpretedFunction"


def interpreted():
    """kernels.triton, its kernels decorated for Triton's interpreter (CPU tensors)."""
    if "triton" in sys.modules and not _interpreted(sys.modules["triton"].language.max):
        pytest.skip(  # triton's own @jit library (tl.max, tl.sum) was decorated for a GPU; it cannot be re-imported
            "triton was imported before TRITON_INTERPRET=1 was set (tests/conftest.py sets it where torch sees no "
            "CUDA device): the interpreter tests skip; tests/test_triton_cuda.py runs the kernels on a GPU",
            allow_module_level=True,
        )
    os.environ["TRITON_INTERPRET"] = "1"  # read when kernels are decorated and again when helpers are called
    pytest.importorskip("triton", reason="triton is not installed (pip install triton==3.9.0)")
    module = importlib.import_module("kernels.triton")
    assert module._runtime.INTERPRETING and _interpreted(sys.modules["triton"].language.max)
    return module


def mismatches(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype) -> str:
    """'' when every element is within the dtype's tolerance, else how many are not and the worst ones."""
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    if a.shape != e.shape:
        return f"shape {tuple(a.shape)} != {tuple(e.shape)}"
    atol = 1e-6 * float(e.abs().max()) if e.numel() else 0.0
    bad = ~((a - e).abs() <= atol + RTOL[dtype] * e.abs()) & ~(a.isnan() & e.isnan())
    if not bool(bad.any()):
        return ""
    where = bad.nonzero()[:3].tolist()
    worst = [(tuple(i), float(a[tuple(i)]), float(e[tuple(i)])) for i in where]
    return f"{int(bad.sum())} of {bad.numel()} elements differ ({dtype}, atol {atol:.2g}); first: {worst}"


def assert_close(actual, expected, dtype, what=""):
    found = mismatches(actual, expected, dtype)
    assert not found, f"{what}: {found}"
