"""The emitted Triton helpers (kernels/_generated/triton_ce.py) and the int64 offsets, in Triton's interpreter.

Each @triton.jit helper computes its SymPy expression at random points inside its domain; a helper emitted wrong
(a planted expression) shows up both in the drift check (a diff of triton_ce.py) and in the interpreter's parity
with torch; the row offset is int64 for rows and strides whose product passes 2^31, where the same product in
int32 (the planted form) wraps.
"""

from __future__ import annotations

import importlib.util

import _triton_support as support
import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

from derivations import emission
from derivations.emission import emit, render
from derivations.emission.kernel import WT, ZT, D, M

pytestmark = pytest.mark.triton
kt = support.interpreted()
import triton  # noqa: E402  (after the interpreter is set)
import triton.language as tl  # noqa: E402

from kernels._generated import triton_ce  # noqa: E402
from kernels.triton._offsets import row_start  # noqa: E402


@triton.jit
def _apply(out_ptr, a0, a1, a2, a3, a4, a5, FN: tl.constexpr, ARITY: tl.constexpr, BLOCK: tl.constexpr):
    """out = FN(a0, ..., a_{ARITY-1}) elementwise (the interpreter runs this as Python: any arity)."""
    i = tl.arange(0, BLOCK)
    args = [tl.load(p + i) for p in (a0, a1, a2, a3, a4, a5)[:ARITY]]
    tl.store(out_ptr + i, FN(*args))


def _domain(symbol: sp.Symbol, rng, size: int) -> np.ndarray:
    """Values inside the domain of a kernel argument (as tests/test_emit_kernels.py draws them)."""
    name = symbol.name
    low, high = {"a": (0.01, 1), "d": (1, 5), "eps": (0.01, 1), "num_classes": (1, 10), "cap": (1, 30)}.get(
        name, (-10, 0) if symbol.is_nonpositive else (-3, 3)
    )
    return rng.uniform(low, high, size)


def test_every_emitted_helper_computes_its_sympy_expression():
    rng = np.random.default_rng(7)
    table = [k for k in emission.kernels() if k.family == "ce"]
    assert len(table) > 30
    for k in table:
        values = {a: _domain(a, rng, 8) for a in k.args}
        args = [torch.tensor(v, dtype=torch.float32) for v in values.values()]
        out = torch.empty(8, dtype=torch.float32)
        pad = args + [out] * (6 - len(args))
        _apply[(1,)](out, *pad, FN=getattr(triton_ce, k.name), ARITY=len(args), BLOCK=8)
        points = [{a: float(v[i]) for a, v in zip(values, args, strict=True)} for i in range(8)]
        expected = [float(k.expr.doit().subs(point).evalf(30)) for point in points]
        np.testing.assert_allclose(out.numpy(), expected, rtol=2e-5, atol=1e-6, err_msg=k.name)


def _planted(monkeypatch):
    """The emission with ce_index_loss written wrong: w_t ((m - z_t) + log(d + 1))."""
    table = emission.kernels()
    wrong = [k if k.name != "ce_index_loss" else k.__class__(**{**k.__dict__, "expr": WT * ((M - ZT) + sp.log(D + 1))})
             for k in table]  # fmt: skip
    monkeypatch.setattr(render, "kernels", lambda: wrong)
    return render.render()


def test_a_helper_emitted_wrong_fails_the_drift_check_and_the_parity(monkeypatch, tmp_path):
    files = _planted(monkeypatch)
    diff = emit.compare(files, emit.GENERATED)
    assert "--- kernels/_generated/triton_ce.py" in diff and "+    return wt * (m - zt + tl.log(d + 1))" in diff
    path = tmp_path / "planted_triton_ce.py"
    path.write_text(files["triton_ce.py"], encoding="utf-8")  # @triton.jit reads its source from a file
    spec = importlib.util.spec_from_file_location("planted_triton_ce", path)
    planted = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(planted)
    x, target = torch.randn(8, 20), torch.randint(0, 20, (8,))
    expected = F.cross_entropy(x.double(), target, reduction="none")
    assert support.mismatches(kt.cross_entropy(x, target, reduction="none"), expected, torch.float32) == ""
    monkeypatch.setattr(triton_ce, "ce_index_loss", planted.ce_index_loss)  # what the row kernels call
    assert "8 of 8 elements differ" in support.mismatches(kt.cross_entropy(x, target, reduction="none"), expected,
                                                          torch.float32)  # fmt: skip


@triton.jit
def _offsets(out_ptr, first_row, stride, INT64: tl.constexpr):
    row = tl.program_id(0) + first_row  # int32, as program_id is
    if INT64:
        offset = row_start(row, stride)
    else:  # the planted form: the product in int32
        offset = row * stride
    tl.store(out_ptr + tl.program_id(0), offset)


def test_row_offsets_are_int64_past_two_to_the_31():
    first_row, stride = 70_000, 128_256  # 70000 x 128256 = 8.98e9 > 2^31, both int32 kernel arguments
    out = torch.zeros(3, dtype=torch.int64)
    _offsets[(3,)](out, first_row, stride, INT64=True)
    assert out.tolist() == [(first_row + i) * stride for i in range(3)]
    with np.errstate(over="ignore"):
        _offsets[(3,)](out, first_row, stride, INT64=False)
    assert out.tolist() != [(first_row + i) * stride for i in range(3)]  # the int32 product wraps: caught
