"""linear_cross_entropy in blocks of classes (kernels/torch/_class_blocks.py), the path a head whose whole rows do
not fit takes: with the plan's budgets shrunk (kernels/_chunking.py), every case here runs in chunks of 4 rows by
2 or 3 classes, and must give torch's reference path (options=None) within 1e-12 in float64 for every target
kind, option, reduction and K-dimensional weight; PyTorch's own sample inputs in every dtype at tests/_compare.py's
tolerance; the z-loss and soft-capping against their definition. A merge that drops the blocks' rescaling
exp(m_b - m) must fail. At the benchmark's shapes the plan keeps whole rows where 32 of them fit in 12 MiB
and passes blocks of at most 2 MiB where they do not; off the CPU it keeps whole rows.
"""

from __future__ import annotations

import pytest
import torch
from _compare import DTYPES, seeded
from _linear_cases import compare, torch_samples
from test_linear_parity import GRID, _case
from test_lm_extras import GRID as EXTRAS_GRID
from test_lm_extras import _against_reference
from test_lm_extras import _case as _extras_case

import kernels._chunking as chunking
import kernels.torch as kt
from kernels.torch import _chunked_op, _class_blocks


@pytest.fixture
def blocks(monkeypatch):
    """Budgets for 4 rows by 24 bytes of float64 classes per position (3 classes at S = 1), whole rows never;
    returns the list of (chunk, width) of every blocked pass, so that a test can see the path ran."""
    monkeypatch.setattr(chunking, "LINEAR_CHUNK_BYTES", 1)
    monkeypatch.setattr(chunking, "FORWARD_BYTES", 1)
    monkeypatch.setattr(chunking, "BLOCK_ROWS", 4)
    monkeypatch.setattr(chunking, "CLASS_BLOCK_BYTES", 4 * 24)
    passes = []
    real = _class_blocks.run_blocks

    def spy(layer, targets, chunk, width, scales=None):
        passes.append((chunk, width))
        return real(layer, targets, chunk, width, scales)

    monkeypatch.setattr(_chunked_op, "run_blocks", spy)
    return passes


@pytest.mark.parametrize("shape, reduction, kind, extra, bias", GRID)
def test_grid_in_blocks_of_classes(blocks, shape, reduction, kind, extra, bias):
    x, w, target, kwargs = _case(shape, kind, extra, bias)
    kwargs["reduction"] = reduction
    compare(kt.linear_cross_entropy, x, w, target, kwargs, f"{shape} {reduction} {kind} {extra} bias={bias}")
    assert blocks and all(width < shape[2] for _, width in blocks), f"the blocked path did not run: {blocks}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_sample_inputs_in_blocks(blocks, dtype):
    samples = [s for s in torch_samples("", dtype) if s.kwargs.get("options") is None]
    assert len(samples) > 20, "PyTorch's sample inputs went missing"
    for number, s in enumerate(samples):
        (linear_weight, target), kwargs = s.args, dict(s.kwargs)
        what = f"sample {number}: input {tuple(s.input.shape)}, weight {tuple(linear_weight.shape)}, {kwargs}"
        compare(kt.linear_cross_entropy, s.input, linear_weight, target, kwargs, what)
    assert blocks, "no sample took the blocked path"


@pytest.mark.parametrize("reduction, kind, lm, extra, s", EXTRAS_GRID)
def test_z_loss_and_softcap_in_blocks(blocks, reduction, kind, lm, extra, s):
    logits, target, kwargs = _extras_case(kind, extra, s, "blocks")
    n, c = logits.shape[:2]
    x = torch.randn(n, 4, generator=seeded("x", s), dtype=torch.float64)
    w = torch.randn((c, 4) if s == 1 else (c, s, 4), generator=seeded("w", s), dtype=torch.float64)
    kwargs.update(reduction=reduction, **lm)
    shaped = lambda x, w: (x @ w.reshape(-1, 4).T).reshape(logits.shape)  # noqa: E731
    _against_reference(kt.linear_cross_entropy, [x, w], shaped, target, kwargs, f"{reduction} {kind} {lm}")
    assert blocks, "the blocked path did not run"


def test_a_merge_without_the_blocks_rescaling_fails(blocks, monkeypatch):
    def unscaled(parts, m):  # planted: d = sum_b d_b, each on its own shift m_b, as if m_b were m
        return torch.ones_like(real(parts, m))

    real = _class_blocks._shift
    x, w, target, kwargs = _case((7, 5, 11, 1), "index", {}, False)
    x, w = x * 4, w * 4  # rows whose blocks' maxima differ
    monkeypatch.setattr(_class_blocks, "_shift", unscaled)
    with pytest.raises(AssertionError):
        compare(kt.linear_cross_entropy, x, w, target, kwargs, "planted: no rescaling")


def test_the_plan_at_the_benchmark_shapes():
    whole = chunking.LINEAR_CHUNK_BYTES // (32000 * 4)  # 98 rows of 128 000 bytes in 12 MiB
    assert chunking.linear_plan(2048, 32000, 1, 4, True) == (whole, 32000)
    rows, width = chunking.linear_plan(512, 128256, 1, 4, True)  # 32 whole rows would be 16 MiB: blocks
    assert width < 128256 and rows * width * 4 <= chunking.CLASS_BLOCK_BYTES
    for shape in ((2048, 32000), (512, 128256)):  # the loss alone: blocks of at most 2 MiB
        rows, width = chunking.linear_plan(*shape, 1, 4, False)
        assert rows * width * 4 <= chunking.FORWARD_BYTES, (shape, rows, width)
    assert chunking.linear_plan(50, 11, 1, 8, False) == (50, 11)  # a small head: one chunk of whole rows
    assert chunking.linear_plan(512, 128256, 1, 4, True, "cuda") == (32, 128256)  # off the CPU: whole rows
