"""What the spawned ranks of tests/test_distributed.py share: the classes, their split, where tensors go, the check.

``DEVICE`` is where the cases put their tensors (drawn on the CPU from fixed seeds): the CPU for gloo, each
rank's GPU for NCCL (set by tests/_distributed_workers.py's ``on_cuda``).
"""

from __future__ import annotations

import torch

C = 11  # classes in all, split unevenly over the ranks
DEVICE = torch.device("cpu")


def sizes(world):
    return {1: [C], 2: [4, 7], 3: [2, 6, 3]}[world]


def shard(x, rank, world, dim=1):
    bounds = [0, *torch.cumsum(torch.tensor(sizes(world)), 0).tolist()]
    return x.narrow(dim, bounds[rank], bounds[rank + 1] - bounds[rank])


def compare(ours, theirs, grads_ours, grads_theirs) -> dict:
    worst = (ours - theirs).abs().max().item()
    for a, b in zip(grads_ours, grads_theirs, strict=True):
        worst = max(worst, (a - b).abs().max().item())
    return {"worst": worst}


def kw(options):
    return {k: v for k, v in options.items() if k != "weight"}
