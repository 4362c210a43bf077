"""The linear-head cases of tests/test_distributed.py (tests/_distributed_workers.py runs them on each rank):
index and probability targets, a K-dimensional classifier, and a full-width target that must raise.
"""

from __future__ import annotations

import _distributed_common as common
import torch
import torch.nn.functional as F
from _distributed_common import C, shard

from kernels.torch import distributed as vp


def linear_case(options):
    def case(rank, world):
        g = torch.Generator().manual_seed(11)
        x = torch.randn(9, 5, generator=g, dtype=torch.float64)
        w = torch.randn(C, 5, generator=g, dtype=torch.float64)
        b = torch.randn(C, generator=g, dtype=torch.float64) * 0.1
        t = torch.randint(0, C, (9,), generator=g)
        t[::3] = -100
        cw = torch.rand(C, generator=g, dtype=torch.float64) + 0.5
        x, w, b, t, cw = (v.to(common.DEVICE) for v in (x, w, b, t, cw))
        full = [v.clone().requires_grad_() for v in (x, w, b)]
        kw = {k: v for k, v in options.items() if k != "weight"}
        ref = F.linear_cross_entropy(
            full[0], full[1], t, linear_bias=full[2], weight=cw if options.get("weight") else None, **kw
        )
        refs = torch.autograd.grad(ref.sum(), full)
        mine = [
            x.clone().requires_grad_(),
            shard(w, rank, world, 0).clone().requires_grad_(),
            shard(b, rank, world, 0).clone().requires_grad_(),
        ]
        local_w = shard(cw, rank, world, 0) if options.get("weight") else None
        out = vp.vocab_parallel_linear_cross_entropy(
            mine[0], mine[1], t, linear_bias_shard=mine[2], weight=local_w, **kw
        )
        grads = torch.autograd.grad(out.sum(), mine)
        return common.compare(
            out, ref, grads, [refs[0], shard(refs[1], rank, world, 0), shard(refs[2], rank, world, 0)]
        )

    return case


def linear_prob_case(options):
    """A probability target on the linear head: every rank holds the target's and the class weights' columns,
    and gets their gradients, with those of x, W_r and b_r."""

    def case(rank, world):
        g = torch.Generator().manual_seed(13)
        x = torch.randn(9, 5, generator=g, dtype=torch.float64)
        w = torch.randn(C, 5, generator=g, dtype=torch.float64)
        b = torch.randn(C, generator=g, dtype=torch.float64) * 0.1
        p = torch.softmax(torch.randn(9, C, generator=g, dtype=torch.float64), 1)
        cw = torch.rand(C, generator=g, dtype=torch.float64) + 0.5
        x, w, b, p, cw = (v.to(common.DEVICE) for v in (x, w, b, p, cw))
        full = [v.clone().requires_grad_() for v in (x, w, b, p, cw)]
        weight = full[4] if options.get("weight") else None
        kw = common.kw(options)
        ref = F.linear_cross_entropy(full[0], full[1], full[3], linear_bias=full[2], weight=weight, **kw)
        leaves = full[:4] + ([full[4]] if weight is not None else [])
        upstream = torch.rand(ref.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64) + 0.5
        upstream = upstream.to(common.DEVICE)
        refs = torch.autograd.grad(ref, leaves, upstream)
        mine = [x.clone()] + [shard(v, rank, world, d).clone() for v, d in ((w, 0), (b, 0), (p, 1), (cw, 0))]
        mine = [v.requires_grad_() for v in mine]
        local_w = mine[4] if weight is not None else None
        out = vp.vocab_parallel_linear_cross_entropy(
            mine[0], mine[1], mine[3], linear_bias_shard=mine[2], weight=local_w, **kw
        )
        grads = torch.autograd.grad(out, mine[:4] + ([mine[4]] if weight is not None else []), upstream)
        wanted = [
            refs[0],
            *(shard(r, rank, world, d) for r, d in zip(refs[1:], (0, 0, 1, 0)[: len(refs) - 1], strict=True)),
        ]
        return common.compare(out, ref, grads, wanted)

    return case


def linear_spatial_case(kind):
    """A K-dimensional classifier (C, 2, H): logits (N, C, 2), targets (N, 2) or (N, C, 2), each rank its classes'
    rows of W (C_r, 2, H) and b (C_r, 2), weights, smoothing and (for indices) ignore_index."""

    def case(rank, world):
        g = torch.Generator().manual_seed(17)
        x = torch.randn(7, 5, generator=g, dtype=torch.float64)
        w = torch.randn(C, 2, 5, generator=g, dtype=torch.float64)
        b = torch.randn(C, 2, generator=g, dtype=torch.float64) * 0.1
        cw = torch.rand(C, generator=g, dtype=torch.float64) + 0.5
        if kind == "index":
            t = torch.randint(0, C, (7, 2), generator=g)
            t[::3, 1] = -100
        else:
            t = torch.softmax(torch.randn(7, C, 2, generator=g, dtype=torch.float64), 1)
        x, w, b, cw, t = (v.to(common.DEVICE) for v in (x, w, b, cw, t))
        prob = kind == "prob"
        full = [v.clone().requires_grad_() for v in (x, w, b)] + ([t.clone().requires_grad_()] if prob else [])
        target = full[3] if prob else t
        kw = {"label_smoothing": 0.1, "reduction": "none", **({} if prob else {"ignore_index": -100})}
        ref = F.linear_cross_entropy(full[0], full[1], target, linear_bias=full[2], weight=cw, **kw)
        upstream = torch.rand(ref.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64) + 0.5
        upstream = upstream.to(common.DEVICE)
        refs = torch.autograd.grad(ref, full, upstream)
        mine = [x.clone()] + [shard(v, rank, world, 0).clone() for v in (w, b)]
        mine += [shard(t, rank, world, 1).clone()] if prob else []
        mine = [v.requires_grad_() for v in mine]
        out = vp.vocab_parallel_linear_cross_entropy(
            mine[0], mine[1], mine[3] if prob else t, linear_bias_shard=mine[2], weight=shard(cw, rank, world, 0), **kw
        )
        grads = torch.autograd.grad(out, mine, upstream)
        wanted = [refs[0], shard(refs[1], rank, world, 0), shard(refs[2], rank, world, 0)]
        wanted += [shard(refs[3], rank, world, 1)] if prob else []
        return common.compare(out, ref, grads, wanted)

    return case


def linear_prob_all_columns(rank, world):
    x, w = torch.randn(4, 5, dtype=torch.float64), torch.randn(C, 5, dtype=torch.float64)
    p = torch.softmax(torch.randn(4, C, dtype=torch.float64), 1)  # every column, not this rank's
    vp.vocab_parallel_linear_cross_entropy(x, shard(w, rank, world, 0), p)
