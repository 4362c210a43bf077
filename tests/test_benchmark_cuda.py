"""On a GPU: the benchmark's CUDA path times by CUDA events and holds the memory goals exactly
(torch.cuda.max_memory_allocated). Skipped without a CUDA device; scripts/device_check.sh runs it."""

from __future__ import annotations

import math

import pytest
import torch

from benchmarks import memory, timing

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

N, C = 2048, 32000  # 262 MB of float32 logits: the working blocks are 1/24 of them


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_cuda_timing_gives_a_ratio_for_every_method(dtype):
    methods, passes = ["ours", "ours_inplace"], ["forward", "forward_backward"]
    times = timing.ratios(N, C, {}, methods, passes, rounds=1, device="cuda", dtype=dtype)
    assert all(math.isfinite(v) and v > 0 for v in times.values()), times


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize(
    ("method", "pass_", "limit"),
    [
        ("ours", "forward", 0.05),
        ("ours", "forward_grad", 0.05),
        ("ours", "forward_backward", 1.0),
        ("ours_inplace", "forward_backward", 0.05),
    ],
)
def test_cuda_memory_goals(method, pass_, limit, dtype):
    spec = {"method": method, "pass": pass_, "n": N, "c": C, "options": {}, "device": "cuda", "dtype": dtype}
    assert memory.measure(spec) <= limit + 0.01, spec


def test_cuda_measurement_sees_the_reference_allocations():
    """F.cross_entropy keeps its log-probabilities and allocates two gradients (about 3 L): a measurement
    that reads 0 for it would pass every goal above without meaning anything."""
    spec = {"method": "torch", "pass": "forward_backward", "n": N, "c": C, "options": {}, "device": "cuda"}
    assert memory.measure(spec) >= 2.0
