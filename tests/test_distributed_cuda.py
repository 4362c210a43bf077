"""Vocab-parallel cross-entropy on NCCL, one GPU per rank (scripts/device_check.sh runs it; it skips without CUDA).

NCCL refuses two ranks on one GPU ("Duplicate GPU detected"), so a world of P ranks needs P devices: one GPU
runs P = 1 (the header, the collectives and every tensor on the device, through NCCL), and P = 2 and 3 run
where the machine has the GPUs. Each rank runs tests/_distributed_workers.py's value cases on its device
(index targets with weights, ignore_index, smoothing, 'none' and a spatial layout; probability targets; the
linear head with index and probability targets) against F.cross_entropy / F.linear_cross_entropy on the
gathered tensors, within 1e-12 in float64.
"""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
from test_distributed import _spawn

pytestmark = [pytest.mark.cuda, pytest.mark.distributed]


@pytest.mark.parametrize("world", [1, 2, 3])
def test_nccl_gives_the_unsharded_loss_and_gradients(world, tmp_path):
    if not torch.cuda.is_available() or not dist.is_nccl_available():
        pytest.skip("needs a CUDA device and NCCL")
    if torch.cuda.device_count() < world:
        pytest.skip(f"NCCL needs one GPU per rank: {world} ranks, {torch.cuda.device_count()} GPU(s)")
    for rank, result in enumerate(_spawn("on-cuda", world, tmp_path, timeout=180, backend="nccl")):
        assert "ok" in result, f"rank {rank}: {result.get('trace')}"
        assert result["ok"]["worst"] <= 1e-12, f"rank {rank}: {result['ok']['cases']}"
