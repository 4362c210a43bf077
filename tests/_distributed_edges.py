"""The edge cases of tests/test_distributed.py (tests/_distributed_workers.py runs them on each rank): an empty
shard, a rank whose part of some rows is all -inf, a shard passed in many small blocks, a double backward that
must raise, and the collectives each call makes, counted by wrapping torch.distributed's.
"""

from __future__ import annotations

import _distributed_common as common
import torch
import torch.distributed as dist
from _distributed_common import C, compare_index, inputs, shard

from kernels.torch import distributed as vp


def with_split(split, case):
    """``case`` with the classes split as ``split`` gives by world size (an empty shard, say)."""

    def run_split(rank, world):
        common.SPLIT = split
        try:
            return case(rank, world)
        finally:
            common.SPLIT = None

    return run_split


def in_small_blocks(case, size=64):
    """``case`` with blocks of about ``size`` bytes (kernels/_blocks.BLOCK_BYTES): the probability path on given
    logits then takes a shard a few rows, or one row's positions, at a time; it must run more than one block."""

    def run_small(rank, world):
        from kernels import _blocks
        from kernels.torch import _vocab_logits

        right, original, counts = _blocks.BLOCK_BYTES, _vocab_logits.blocks, []

        def counting(*args, **kwargs):
            found = list(original(*args, **kwargs))
            counts.append(len(found))
            return found

        _blocks.BLOCK_BYTES, _vocab_logits.blocks = size, counting
        try:
            result = case(rank, world)
        finally:
            _blocks.BLOCK_BYTES, _vocab_logits.blocks = right, original
        assert counts and min(counts) > 1, f"the shard was not passed in blocks: {counts}"
        return result

    return run_small


def masked_case(options):
    """Rows 1 and 4 are -inf on every class of rank 0 (a masked part of the vocabulary), their targets elsewhere:
    that rank's part of the row has no LSE (-inf), and the merged loss and gradients must still be torch's."""

    def case(rank, world):
        z, t, w, _ = inputs()
        first = common.sizes(world)[0]
        z[[1, 4], :first] = -torch.inf
        t[[1, 4]] = C - 1
        return compare_index(z, t, w, options, rank, world)

    return case


def double_backward(rank, world):
    z, t, _, _ = inputs()
    mine = shard(z, rank, world).clone().requires_grad_()
    (grad,) = torch.autograd.grad(vp.vocab_parallel_cross_entropy(mine, t), mine, create_graph=True)
    torch.autograd.grad(grad.sum(), mine)


def counted(rank, world):
    """The collectives each call makes, in forward and in backward, with the values each rank sends."""
    calls = []
    originals = {name: getattr(dist, name) for name in ("all_gather", "all_reduce")}

    def counting(name):
        def call(*args, **kwargs):
            tensor = args[1] if name == "all_gather" else args[0]
            calls.append([name, tensor.numel()])
            return originals[name](*args, **kwargs)

        return call

    for name in originals:
        setattr(dist, name, counting(name))
    try:
        z, t, w, p = inputs()
        g = torch.Generator().manual_seed(3)
        x = torch.randn(6, 5, generator=g, dtype=torch.float64).requires_grad_()  # its gradient is all-reduced
        cls = torch.randn(C, 5, generator=g, dtype=torch.float64)
        runs = {
            "index": lambda a: vp.vocab_parallel_cross_entropy(
                a, t, weight=shard(w, rank, world, 0), label_smoothing=0.1
            ),
            "prob": lambda a: vp.vocab_parallel_cross_entropy(a, shard(p, rank, world)),
            "linear": lambda a: vp.vocab_parallel_linear_cross_entropy(x, a, t, label_smoothing=0.1),
        }
        found = {}
        for kind, call in runs.items():
            mine = shard(cls if kind == "linear" else z, rank, world, 0 if kind == "linear" else 1)
            mine = mine.clone().requires_grad_()
            calls.clear()
            out = call(mine)
            forward = list(calls)
            calls.clear()
            out.backward()
            found[kind] = {"forward": forward, "backward": list(calls)}
        return found
    finally:
        for name, original in originals.items():
            setattr(dist, name, original)


def planted(case):
    """``case`` with a wrong merge planted: each rank's sums added as sent, never moved from its own lse_r to the
    global LSE. The comparison must then fail, or the value cases could not."""

    def run_planted(rank, world):
        from kernels.torch import _vocab_shards

        right = _vocab_shards.moved_sum
        _vocab_shards.moved_sum = lambda sums, coefficients, shifts, lse: sums.sum(0)
        try:
            return case(rank, world)
        finally:
            _vocab_shards.moved_sum = right

    return run_planted
