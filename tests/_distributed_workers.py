"""What each spawned rank of tests/test_distributed.py runs: gloo on 127.0.0.1, one JSON file of results per rank.

``run(rank, world, port, folder, case)`` sets up the group, calls ``CASES[case](rank, world)`` and writes what
it returns (or the exception's type and message) to ``folder/<rank>.json``.
"""

from __future__ import annotations

import datetime
import json
import os
import time
import traceback

import torch
import torch.distributed as dist
import torch.nn.functional as F

from kernels.torch import _vocab_shards
from kernels.torch import distributed as vp

C = 11  # classes in all, split unevenly over the ranks
DEVICE = torch.device("cpu")  # where the cases put their tensors (drawn on the CPU, from fixed seeds)


def sizes(world):
    return {1: [C], 2: [4, 7], 3: [2, 6, 3]}[world]


def shard(x, rank, world, dim=1):
    bounds = [0, *torch.cumsum(torch.tensor(sizes(world)), 0).tolist()]
    return x.narrow(dim, bounds[rank], bounds[rank + 1] - bounds[rank])


def _inputs(shape=(6, C)):
    g = torch.Generator().manual_seed(7)
    z = torch.randn(*shape, generator=g, dtype=torch.float64) * 3
    t = torch.randint(0, C, (shape[0], *shape[2:]), generator=g)
    t.view(-1)[::4] = -100
    w = torch.rand(C, generator=g, dtype=torch.float64) + 0.5
    p = torch.softmax(torch.randn(*shape, generator=g, dtype=torch.float64), 1)
    return z.to(DEVICE), t.to(DEVICE), w.to(DEVICE), p.to(DEVICE)


def _compare(ours, theirs, grads_ours, grads_theirs) -> dict:
    worst = (ours - theirs).abs().max().item()
    for a, b in zip(grads_ours, grads_theirs, strict=True):
        worst = max(worst, (a - b).abs().max().item())
    return {"worst": worst}


def index_case(options, shape=(6, C)):
    def case(rank, world):
        z, t, w, _ = _inputs(shape)
        full = z.clone().requires_grad_()
        ref = F.cross_entropy(full, t, w if options.get("weight") else None, **_kw(options))
        (ref_grad,) = torch.autograd.grad(ref.sum(), full)
        mine = shard(z, rank, world).clone().requires_grad_()
        local_w = shard(w, rank, world, 0) if options.get("weight") else None
        out = vp.vocab_parallel_cross_entropy(mine, t, weight=local_w, **_kw(options))
        (grad,) = torch.autograd.grad(out.sum(), mine)
        return _compare(out, ref, [grad], [shard(ref_grad, rank, world)])

    return case


def prob_case(rank, world):
    z, _, w, p = _inputs()
    full, target, weight = z.clone().requires_grad_(), p.clone().requires_grad_(), w.clone().requires_grad_()
    ref = F.cross_entropy(full, target, weight, label_smoothing=0.1, reduction="sum")
    refs = torch.autograd.grad(ref, (full, target, weight))
    mine = [shard(x, rank, world, d).clone().requires_grad_() for x, d in ((z, 1), (p, 1), (w, 0))]
    out = vp.vocab_parallel_cross_entropy(mine[0], mine[1], weight=mine[2], label_smoothing=0.1, reduction="sum")
    grads = torch.autograd.grad(out, mine)
    return _compare(
        out, ref, grads, [shard(refs[0], rank, world), shard(refs[1], rank, world), shard(refs[2], rank, world, 0)]
    )


def linear_case(options):
    def case(rank, world):
        g = torch.Generator().manual_seed(11)
        x = torch.randn(9, 5, generator=g, dtype=torch.float64)
        w = torch.randn(C, 5, generator=g, dtype=torch.float64)
        b = torch.randn(C, generator=g, dtype=torch.float64) * 0.1
        t = torch.randint(0, C, (9,), generator=g)
        t[::3] = -100
        cw = torch.rand(C, generator=g, dtype=torch.float64) + 0.5
        x, w, b, t, cw = (v.to(DEVICE) for v in (x, w, b, t, cw))
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
        return _compare(out, ref, grads, [refs[0], shard(refs[1], rank, world, 0), shard(refs[2], rank, world, 0)])

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
        x, w, b, p, cw = (v.to(DEVICE) for v in (x, w, b, p, cw))
        full = [v.clone().requires_grad_() for v in (x, w, b, p, cw)]
        weight = full[4] if options.get("weight") else None
        kw = _kw(options)
        ref = F.linear_cross_entropy(full[0], full[1], full[3], linear_bias=full[2], weight=weight, **kw)
        leaves = full[:4] + ([full[4]] if weight is not None else [])
        upstream = torch.rand(ref.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64) + 0.5
        upstream = upstream.to(DEVICE)
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
        return _compare(out, ref, grads, wanted)

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
        x, w, b, cw, t = (v.to(DEVICE) for v in (x, w, b, cw, t))
        prob = kind == "prob"
        full = [v.clone().requires_grad_() for v in (x, w, b)] + ([t.clone().requires_grad_()] if prob else [])
        target = full[3] if prob else t
        kw = {"label_smoothing": 0.1, "reduction": "none", **({} if prob else {"ignore_index": -100})}
        ref = F.linear_cross_entropy(full[0], full[1], target, linear_bias=full[2], weight=cw, **kw)
        upstream = torch.rand(ref.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64) + 0.5
        upstream = upstream.to(DEVICE)
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
        return _compare(out, ref, grads, wanted)

    return case


def _kw(options):
    return {k: v for k, v in options.items() if k != "weight"}


def out_of_range(rank, world):
    z, t, _, _ = _inputs()
    t[2] = C  # one past the last class of the last shard
    vp.vocab_parallel_cross_entropy(shard(z, rank, world), t)


def mismatched_rows(rank, world):
    z, t, _, _ = _inputs()
    rows = 6 if rank == 0 else 5
    vp.vocab_parallel_cross_entropy(shard(z, rank, world)[:rows], t[:rows])


def mismatched_dtypes(rank, world):
    z, t, _, _ = _inputs()
    mine = shard(z, rank, world)
    vp.vocab_parallel_cross_entropy(mine if rank == 0 else mine.float(), t)


def linear_prob_all_columns(rank, world):
    x, w = torch.randn(4, 5, dtype=torch.float64), torch.randn(C, 5, dtype=torch.float64)
    p = torch.softmax(torch.randn(4, C, dtype=torch.float64), 1)  # every column, not this rank's
    vp.vocab_parallel_linear_cross_entropy(x, shard(w, rank, world, 0), p)


def absent_rank(rank, world):
    _vocab_shards.TIMEOUT = datetime.timedelta(seconds=3)
    z, t, _, _ = _inputs()
    if rank == world - 1:  # the last rank never calls, and stays alive until the others have given up
        time.sleep(8)
        return {"called": False}
    vp.vocab_parallel_cross_entropy(shard(z, rank, world), t)
    return {"called": True}


CASES = {
    "plain-mean": index_case({}),
    "weight-ignore-smooth-mean": index_case({"weight": True, "ignore_index": -100, "label_smoothing": 0.2}),
    "weight-ignore-none": index_case({"weight": True, "ignore_index": -100, "reduction": "none"}),
    "smooth-sum": index_case({"ignore_index": -100, "label_smoothing": 0.1, "reduction": "sum"}),
    "spatial-weight-mean": index_case({"weight": True, "ignore_index": -100}, shape=(3, C, 4)),
    "prob-weight-smooth-sum": prob_case,
    "linear-mean": linear_case({"ignore_index": -100}),
    "linear-weight-smooth-mean": linear_case({"weight": True, "ignore_index": -100, "label_smoothing": 0.2}),
    "linear-none": linear_case({"ignore_index": -100, "reduction": "none"}),
    "linear-prob-weight-smooth-mean": linear_prob_case({"weight": True, "label_smoothing": 0.2}),
    "linear-prob-none": linear_prob_case({"reduction": "none"}),
    "linear-spatial-index": linear_spatial_case("index"),
    "linear-spatial-prob": linear_spatial_case("prob"),
    "out-of-range": out_of_range,
    "mismatched-rows": mismatched_rows,
    "mismatched-dtypes": mismatched_dtypes,
    "linear-prob-all-columns": linear_prob_all_columns,
    "absent-rank": absent_rank,
}


def on_cuda(rank, world):
    """NCCL, one GPU per rank: the value cases with every tensor on this rank's device, as CUDA users call it."""
    global DEVICE
    DEVICE = torch.device("cuda", rank)
    worst = {name: CASES[name](rank, world)["worst"] for name in CUDA_CASES}
    return {"worst": max(worst.values()), "cases": worst}


CUDA_CASES = ["weight-ignore-smooth-mean", "weight-ignore-none", "spatial-weight-mean", "prob-weight-smooth-sum",
              "linear-weight-smooth-mean", "linear-none", "linear-prob-weight-smooth-mean", "linear-spatial-index",
              "linear-spatial-prob"]  # fmt: skip
CASES["on-cuda"] = on_cuda


def run(rank, world, port, folder, case, backend="gloo"):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    if backend == "nccl":
        torch.cuda.set_device(rank)
    dist.init_process_group(backend, rank=rank, world_size=world, timeout=datetime.timedelta(seconds=20))
    try:
        result = {"ok": CASES[case](rank, world)}
    except Exception as exc:
        result = {"error": type(exc).__name__, "message": str(exc), "trace": traceback.format_exc()[-800:]}
    with open(os.path.join(folder, f"{rank}.json"), "w") as f:
        json.dump(result, f)
    if case != "absent-rank":
        dist.destroy_process_group()
