"""What the spawned ranks of tests/test_distributed.py share: the classes, their split, where tensors go, the check.

``DEVICE`` is where the cases put their tensors (drawn on the CPU from fixed seeds): the CPU for gloo, each
rank's GPU for NCCL (set by tests/_distributed_workers.py's ``on_cuda``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kernels.torch import distributed as vp

C = 11  # classes in all, split unevenly over the ranks
DEVICE = torch.device("cpu")
SPLIT = None  # a case's own split by world size (an empty shard), else the uneven one below


def sizes(world):
    return (SPLIT or {1: [C], 2: [4, 7], 3: [2, 6, 3]})[world]


def shard(x, rank, world, dim=1):
    bounds = [0, *torch.cumsum(torch.tensor(sizes(world)), 0).tolist()]
    return x.narrow(dim, bounds[rank], bounds[rank + 1] - bounds[rank])


def _off(a, b) -> float:
    """The largest |a - b|, with equal infinities counted as 0 and a nan anywhere as nan."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return torch.where(a == b, 0.0, (a - b).abs()).max().item() if a.numel() else 0.0  # an empty shard's grad


def compare(ours, theirs, grads_ours, grads_theirs) -> dict:
    offs = [_off(ours, theirs)] + [_off(a, b) for a, b in zip(grads_ours, grads_theirs, strict=True)]
    return {"worst": torch.tensor(offs).max().item()}  # nan if any is nan (Python's max would drop it)


def kw(options):
    return {k: v for k, v in options.items() if k != "weight"}


def inputs(shape=(6, C)):
    g = torch.Generator().manual_seed(7)
    z = torch.randn(*shape, generator=g, dtype=torch.float64) * 3
    t = torch.randint(0, C, (shape[0], *shape[2:]), generator=g)
    t.view(-1)[::4] = -100
    w = torch.rand(C, generator=g, dtype=torch.float64) + 0.5
    p = torch.softmax(torch.randn(*shape, generator=g, dtype=torch.float64), 1)
    d = DEVICE
    return z.to(d), t.to(d), w.to(d), p.to(d)


def compare_index(z, t, w, options, rank, world) -> dict:
    """This rank's vocab-parallel loss and logits gradient for index targets against F.cross_entropy of the
    whole logits (``w`` used where options["weight"] is set)."""
    full = z.clone().requires_grad_()
    ref = F.cross_entropy(full, t, w if options.get("weight") else None, **kw(options))
    (ref_grad,) = torch.autograd.grad(ref.sum(), full)
    mine = shard(z, rank, world).clone().requires_grad_()
    local_w = shard(w, rank, world, 0) if options.get("weight") else None
    out = vp.vocab_parallel_cross_entropy(mine, t, weight=local_w, **kw(options))
    (grad,) = torch.autograd.grad(out.sum(), mine)
    return compare(out, ref, [grad], [shard(ref_grad, rank, world)])
