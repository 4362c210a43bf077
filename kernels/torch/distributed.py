"""Vocab-parallel cross-entropy on torch.distributed: each rank holds a contiguous range of the classes.

    vocab_parallel_cross_entropy(logits_shard, target, *, group=None, weight=None, ignore_index=-100,
                                 reduction="mean", label_smoothing=0.0)

gives F.cross_entropy's result on the logits gathered in rank order, on every rank, without gathering them
(the shard.* claims, vocab-parallel.md). ``logits_shard`` is (N, C_r, d1..dk) (or (C_r,)): this rank's
classes; ``weight`` this rank's C_r class weights; a class-index ``target`` holds global indices, a
probability target this rank's columns. Shards may be uneven; each one's offset comes from the group.

    check     all_gather of a header (N S, C_r, dtype, target kind, options, sum_j w_j: 9 int64 per rank): any
              mismatch raises the same error on every rank, before a collective whose sizes could differ
    forward   one all_gather of k values per position: this rank's lse_r (shard.shifted_sum), z_t from the one
              shard that holds it (shard.target_logit), w_t with weights, and for label smoothing or a
              probability target the row sums relative to lse_r; every rank merges them in rank order:
              LSE = LSE of the lse_r (shard.lse_of_parts), the sums moved to LSE and added (shard.moved_sum,
              shard.weighted_sums) (kernels/torch/_vocab_logits.py)
    backward  on each shard from its logits and the global LSE, w_t: no communication (shard.local_gradient)

    vocab_parallel_linear_cross_entropy(input, linear_weight_shard, target, *, linear_bias_shard=None, ...)

does the same for a linear head whose classifier rows are split, never holding the N x C_r logits
(kernels/torch/_vocab_linear.py, and for probability targets _vocab_linear_probs.py); its backward
all-reduces the input's gradient.

The arithmetic is the emitted kernels/_generated/torch_ce.py, as in kernels.torch.cross_entropy. Every
collective waits at most ``TIMEOUT``; a rank that does not arrive makes the others raise, not hang.
"""

from __future__ import annotations

import math

import torch

from kernels import _validate as validate
from kernels._chunking import linear_chunk_rows
from kernels._layout import layout
from kernels.torch._autograd import working_dtype
from kernels.torch._targets import classes, dtype_name, shape_output
from kernels.torch._vocab_linear import LinearShard
from kernels.torch._vocab_linear_probs import LinearProbShard
from kernels.torch._vocab_logits import IndexShard, ProbShard
from kernels.torch._vocab_shards import check_range, require_group, shard_of

__all__ = ["vocab_parallel_cross_entropy", "vocab_parallel_linear_cross_entropy"]


def vocab_parallel_cross_entropy(
    logits_shard, target, *, group=None, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """F.cross_entropy of the logits gathered across ``group`` (rank order), from this rank's shard of the classes.

    Same semantics as torch.nn.functional.cross_entropy: class-index targets (global indices) or probability
    targets (this rank's columns), ``weight`` (this rank's classes), ignore_index, every reduction,
    label_smoothing, (N, C, d1..dk) layouts. Forward: a header check and one all-gather of N floats per
    statistic; none in backward; the same loss on every rank. Raises on every rank, never hangs, when the ranks
    disagree.
    """
    require_group("vocab_parallel_cross_entropy", "kernels.torch.cross_entropy")
    dtypes = dtype_name(logits_shard.dtype), dtype_name(target.dtype)
    call = validate.cross_entropy_call(
        logits_shard.shape, target.shape, *dtypes, ignore_index, reduction, label_smoothing
    )  # fmt: skip
    rows, local_classes, positions = layout(tuple(logits_shard.shape))
    if weight is not None:
        validate.weight(tuple(weight.shape), local_classes)
    shards = shard_of(group, rows * positions, local_classes, logits_shard.dtype, call, weight, logits_shard.device)
    z = classes(logits_shard)
    if call.kind == "prob":
        out = ProbShard.apply(z, classes(target), weight, group, shards.num_classes, call.eps, call.reduction)
        return shape_output(out, logits_shard, call.reduction)
    t = target.reshape(rows, 1, positions).long()
    valid = t != call.ignore_index
    check_range(t, valid, shards.num_classes, call.ignore_index)
    out = IndexShard.apply(z, t, valid, weight, group, shards, call.eps, call.reduction)
    return shape_output(out, logits_shard, call.reduction)


def vocab_parallel_linear_cross_entropy(
    input,
    linear_weight_shard,
    target,
    *,
    linear_bias_shard=None,
    group=None,
    weight=None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
):
    """F.linear_cross_entropy with the classifier's rows split across ``group``: this rank holds
    ``linear_weight_shard`` (C_r, H), or (C_r, d1, ..., dk, H), and ``linear_bias_shard`` (C_r, d1, ..., dk), its
    classes in rank order; ``input`` (N, H) is the same on every rank, and so is a class-index ``target``
    (N, d1, ..., dk); a probability target is this rank's columns (N, C_r, d1, ..., dk), as ``weight`` is its
    C_r class weights. No rank holds its N x C_r logits: chunks of rows,
    as kernels.torch.linear_cross_entropy (kernels/torch/_vocab_linear.py, _vocab_linear_probs.py). Forward:
    a header check and one all-gather of N floats per statistic; backward all-reduces the input's gradient (N x H), so
    every rank gets all of it. The gradients reach input, the weight and bias shards, and a probability
    target's and its class weights' columns.
    """
    require_group("vocab_parallel_linear_cross_entropy", "kernels.torch.linear_cross_entropy")
    w_shape = tuple(linear_weight_shard.shape)
    if input.dim() != 2 or len(w_shape) < 2 or input.shape[1] != w_shape[-1]:
        raise RuntimeError(
            f"vocab_parallel_linear_cross_entropy: expected input (N, H) and linear_weight_shard (C_r, H) or "
            f"(C_r, d1, ..., dk, H), got {tuple(input.shape)} and {w_shape}"
        )
    rows, local_classes, extra = input.shape[0], w_shape[0], w_shape[1:-1]
    positions = math.prod(extra)
    prob = target.dtype.is_floating_point
    if tuple(target.shape) != ((rows, local_classes, *extra) if prob else (rows, *extra)):
        raise RuntimeError(
            f"vocab_parallel_linear_cross_entropy: expected class indices of shape {(rows, *extra)} or this rank's "
            f"columns of a probability target, {(rows, local_classes, *extra)}; got {tuple(target.shape)}"
        )
    if linear_bias_shard is not None and tuple(linear_bias_shard.shape) != w_shape[:-1]:
        raise RuntimeError(
            f"vocab_parallel_linear_cross_entropy: linear_bias_shard must be {w_shape[:-1]}, this rank's rows of "
            f"the bias, got {tuple(linear_bias_shard.shape)}"
        )
    dtypes = dtype_name(input.dtype), dtype_name(target.dtype)
    call = validate.cross_entropy_call(
        (rows, local_classes, *extra), target.shape, *dtypes, ignore_index, reduction, label_smoothing
    )
    if weight is not None:
        validate.weight(tuple(weight.shape), local_classes)
    shards = shard_of(group, rows * positions, local_classes, input.dtype, call, weight, input.device)
    itemsize = torch.finfo(working_dtype(input.dtype)).bits // 8
    chunk = linear_chunk_rows(rows, local_classes * positions, input.shape[1], itemsize)
    w = linear_weight_shard.reshape(local_classes * positions, w_shape[-1])  # (C_r S, H): row c S + s
    b = None if linear_bias_shard is None else linear_bias_shard.reshape(-1)
    if prob:
        args = (group, shards.num_classes, call.eps, call.reduction, chunk)
        t = target.reshape(rows, local_classes, positions)
        out = LinearProbShard.apply(input, w, b, t, weight, *args)
    else:
        t = target.reshape(rows, 1, positions).long()
        valid = t != call.ignore_index
        check_range(t, valid, shards.num_classes, call.ignore_index)
        args = (t, valid, weight, group, shards, call.eps, call.reduction, chunk)
        out = LinearShard.apply(input, w, b, *args)
    return out.reshape(rows, *extra) if call.reduction == "none" else out
