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

import _distributed_common as common
import torch
import torch.distributed as dist
import torch.nn.functional as F
from _distributed_common import C, compare, compare_index, inputs, shard
from _distributed_edges import counted, double_backward, in_small_blocks, masked_case, planted, with_split
from _distributed_linear import linear_case, linear_prob_all_columns, linear_prob_case, linear_spatial_case

from kernels.torch import _vocab_shards
from kernels.torch import distributed as vp


def index_case(options, shape=(6, C)):
    def case(rank, world):
        z, t, w, _ = inputs(shape)
        return compare_index(z, t, w, options, rank, world)

    return case


def prob_case_of(reduction="sum", shape=(6, C)):
    """Probability targets with class weights and label smoothing 0.1: the loss and the gradients of the logits,
    the target and the weights against F.cross_entropy of the whole."""

    def case(rank, world):
        z, _, w, p = inputs(shape)
        full, target, weight = z.clone().requires_grad_(), p.clone().requires_grad_(), w.clone().requires_grad_()
        ref = F.cross_entropy(full, target, weight, label_smoothing=0.1, reduction=reduction)
        g = torch.linspace(0.5, 1.5, ref.numel(), dtype=ref.dtype).reshape(ref.shape)  # a non-uniform upstream
        refs = torch.autograd.grad(ref, (full, target, weight), g)
        mine = [shard(x, rank, world, d).clone().requires_grad_() for x, d in ((z, 1), (p, 1), (w, 0))]
        out = vp.vocab_parallel_cross_entropy(
            mine[0], mine[1], weight=mine[2], label_smoothing=0.1, reduction=reduction
        )
        grads = torch.autograd.grad(out, mine, g)
        theirs = [shard(refs[0], rank, world), shard(refs[1], rank, world), shard(refs[2], rank, world, 0)]
        return compare(out, ref, grads, theirs)

    return case


prob_case = prob_case_of()


def out_of_range(rank, world):
    z, t, _, _ = inputs()
    t[2] = C  # one past the last class of the last shard
    vp.vocab_parallel_cross_entropy(shard(z, rank, world), t)


def mismatched_rows(rank, world):
    z, t, _, _ = inputs()
    rows = 6 if rank == 0 else 5
    vp.vocab_parallel_cross_entropy(shard(z, rank, world)[:rows], t[:rows])


def mismatched_dtypes(rank, world):
    z, t, _, _ = inputs()
    mine = shard(z, rank, world)
    vp.vocab_parallel_cross_entropy(mine if rank == 0 else mine.float(), t)


def absent_rank(rank, world):
    _vocab_shards.TIMEOUT = datetime.timedelta(seconds=3)
    z, t, _, _ = inputs()
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
    "empty-shard-index": with_split(
        {2: [0, C], 3: [2, 0, C - 2]}, index_case({"weight": True, "ignore_index": -100, "label_smoothing": 0.2})
    ),
    "prob-blocks-spatial-none": in_small_blocks(prob_case_of("none", shape=(3, C, 4))),
    "prob-blocks-mean": in_small_blocks(prob_case_of("mean", shape=(40, C))),
    "empty-shard-prob": with_split({2: [C, 0], 3: [0, 6, C - 6]}, prob_case),
    "empty-shard-linear": with_split({2: [0, C], 3: [5, 0, C - 5]}, linear_case({"label_smoothing": 0.1})),
    "masked-weight-mean": masked_case({"weight": True, "ignore_index": -100}),
    "masked-smooth-none": masked_case({"label_smoothing": 0.1, "reduction": "none"}),
    "counted": counted,
    "planted-unmoved-smooth": planted(index_case({"ignore_index": -100, "label_smoothing": 0.1, "reduction": "sum"})),
    "planted-unmoved-prob": planted(prob_case),
    "double-backward": double_backward,
    "out-of-range": out_of_range,
    "mismatched-rows": mismatched_rows,
    "mismatched-dtypes": mismatched_dtypes,
    "linear-prob-all-columns": linear_prob_all_columns,
    "absent-rank": absent_rank,
}


def on_cuda(rank, world):
    """NCCL, one GPU per rank: the value cases with every tensor on this rank's device, as CUDA users call it."""
    common.DEVICE = torch.device("cuda", rank)
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
