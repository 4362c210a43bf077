"""Vocab-parallel cross-entropy on torch.distributed: each rank holds a contiguous range of the classes.

    vocab_parallel_cross_entropy(logits_shard, target, *, group=None, weight=None, ignore_index=-100,
                                 reduction="mean", label_smoothing=0.0)

gives F.cross_entropy's result on the logits gathered in rank order, on every rank, without gathering them
(the shard.* claims, vocab-parallel.md). ``logits_shard`` is (N, C_r, d1..dk) (or (C_r,)): this rank's
classes; ``weight`` this rank's C_r class weights; a class-index ``target`` holds global indices, a
probability target this rank's columns. Shards may be uneven; each one's offset comes from the group.

    check     all_gather of a header (N S, C_r, dtype, target kind, options: 8 int64 per rank): any
              mismatch raises the same error on every rank, before a collective whose sizes could differ
    forward   m = all_reduce(max_j z_j, MAX)                                      (shard.max_of_parts)
              all_reduce(SUM) of the local sums, N S floats each: d = sum_j exp(z_j - m)   (shard.shifted_sum),
              z_t from the one shard that holds it (shard.target_logit), w_t, and for label smoothing
              sum_j w_j u_j and sum_j w_j (shard.weighted_sums); for probabilities sum_j w_j y'_j and
              sum_j w_j y'_j (m - z_j)
    backward  on each shard from its logits and the global m, d, w_t: no communication (shard.local_gradient)

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
import torch.distributed as dist

from kernels import _validate as validate
from kernels._chunking import linear_chunk_rows
from kernels._generated import torch_ce as _ce
from kernels._layout import layout
from kernels.torch._autograd import per_position, reduce, smoothed, weight_row, working_dtype, zero
from kernels.torch._targets import classes, dtype_name, shape_output
from kernels.torch._vocab_linear import LinearShard
from kernels.torch._vocab_linear_probs import LinearProbShard
from kernels.torch._vocab_shards import (
    all_reduce,
    check_range,
    index_rows_from,
    require_group,
    row_max,
    shard_gradient,
    shard_of,
)

__all__ = ["vocab_parallel_cross_entropy", "vocab_parallel_linear_cross_entropy"]


def vocab_parallel_cross_entropy(
    logits_shard, target, *, group=None, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """F.cross_entropy of the logits gathered across ``group`` (rank order), from this rank's shard of the classes.

    Same semantics as torch.nn.functional.cross_entropy: class-index targets (global indices) or probability
    targets (this rank's columns), ``weight`` (this rank's classes), ignore_index, every reduction,
    label_smoothing, (N, C, d1..dk) layouts. Two collectives of N floats per statistic in forward, none in
    backward; the same loss on every rank. Raises on every rank, never hangs, when the ranks disagree.
    """
    require_group("vocab_parallel_cross_entropy", "kernels.torch.cross_entropy")
    dtypes = dtype_name(logits_shard.dtype), dtype_name(target.dtype)
    call = validate.cross_entropy_call(
        logits_shard.shape, target.shape, *dtypes, ignore_index, reduction, label_smoothing
    )  # fmt: skip
    rows, local_classes, positions = layout(tuple(logits_shard.shape))
    if weight is not None:
        validate.weight(tuple(weight.shape), local_classes)
    offset, num_classes = shard_of(
        group, rows * positions, local_classes, logits_shard.dtype, call, weight, logits_shard.device
    )
    z = classes(logits_shard)
    if call.kind == "prob":
        out = _ProbShard.apply(z, classes(target), weight, group, num_classes, call.eps, call.reduction)
        return shape_output(out, logits_shard, call.reduction)
    t = target.reshape(rows, 1, positions).long()
    valid = t != call.ignore_index
    check_range(t, valid, num_classes, call.ignore_index)
    out = _IndexShard.apply(z, t, valid, weight, group, offset, num_classes, call.eps, call.reduction)
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
    as kernels.torch.linear_cross_entropy (kernels/torch/_vocab_linear.py, _vocab_linear_probs.py). Two
    collectives of N floats per statistic in forward; backward all-reduces the input's gradient (N x H), so
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
    offset, num_classes = shard_of(group, rows * positions, local_classes, input.dtype, call, weight, input.device)
    itemsize = torch.finfo(working_dtype(input.dtype)).bits // 8
    chunk = linear_chunk_rows(rows, local_classes * positions, input.shape[1], itemsize)
    w = linear_weight_shard.reshape(local_classes * positions, -1)  # (C_r S, H): row c S + s
    b = None if linear_bias_shard is None else linear_bias_shard.reshape(-1)
    if prob:
        args = (group, num_classes, call.eps, call.reduction, chunk)
        t = target.reshape(rows, local_classes, positions)
        out = LinearProbShard.apply(input, w, b, t, weight, *args)
    else:
        t = target.reshape(rows, 1, positions).long()
        valid = t != call.ignore_index
        check_range(t, valid, num_classes, call.ignore_index)
        args = (t, valid, weight, group, offset, num_classes, call.eps, call.reduction, chunk)
        out = LinearShard.apply(input, w, b, *args)
    return out.reshape(rows, *extra) if call.reduction == "none" else out


class _IndexShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, t, valid, weight, group, offset, num_classes, eps, reduction):
        acc = working_dtype(logits.dtype)
        z = logits.to(acc)
        local = (t >= offset) & (t < offset + z.shape[1]) & valid  # this shard holds the target
        lt = torch.where(local, t - offset, 0)
        m = row_max(z, group, acc)
        w = weight.to(acc) if weight is not None else None
        sums = [_ce.shifted_exp(z, m).sum(1, keepdim=True)]  # d, this shard's part
        sums.append(torch.where(local, z.gather(1, lt), zero(m)))  # z_t where the target is here
        sums.append(torch.where(local, w[lt] if w is not None else torch.ones_like(m), zero(m)))  # w_t likewise
        if eps > 0:  # sum_j w_j u_j and sum_j w_j (shard.weighted_sums)
            u = _ce.base2_shift(z, m)
            sums.append((u * w[None, :, None]).sum(1, keepdim=True) if w is not None else u.sum(1, keepdim=True))
            sums.append(torch.full_like(m, float(w.sum()) if w is not None else float(z.shape[1])))
        total = all_reduce(torch.cat(sums, 1), dist.ReduceOp.SUM, group, "the statistics all-reduce")
        rows, d, wt, sw, den = index_rows_from(total, m, valid, eps, num_classes, reduction)
        ctx.save_for_backward(logits, lt, local, valid, weight, m, d, wt, den)
        ctx.sw, ctx.eps, ctx.reduction, ctx.num_classes = sw, eps, reduction, num_classes
        return reduce(rows, reduction, den, logits.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        logits, lt, local, valid, weight, m, d, wt, den = ctx.saved_tensors
        eps, num_classes, acc = ctx.eps, ctx.num_classes, m.dtype
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, logits.shape, den, valid, acc)  # 0 where ignored
            grad = shard_gradient(logits.to(acc), m, d, wt, ctx.sw, g, lt, local, weight, eps, num_classes)
        return grad.to(logits.dtype), None, None, None, None, None, None, None, None


class _ProbShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, weight, group, num_classes, eps, reduction):
        acc = working_dtype(torch.promote_types(logits.dtype, target.dtype))
        z, y = logits.to(acc), smoothed(target.to(acc), eps, num_classes)
        w_row = weight_row(weight, acc)
        m = row_max(z, group, acc)
        one = torch.ones_like(m)  # d = 1 in the emitted term: w y (m - z), the part before log d
        sums = [_ce.shifted_exp(z, m).sum(1, keepdim=True), (y * w_row).sum(1, keepdim=True)]
        sums.append(_ce.ce_prob_term(z, y, w_row, m, one).sum(1, keepdim=True))
        total = all_reduce(torch.cat(sums, 1), dist.ReduceOp.SUM, group, "the statistics all-reduce")
        d, swy, part = total[:, 0:1], total[:, 1:2], total[:, 2:3]
        rows = part + swy * torch.log(d)  # sum_j w_j y_j ((m - z_j) + log d)
        n, _, s = logits.shape
        ctx.save_for_backward(logits, target, weight, m, d, swy)
        ctx.eps, ctx.reduction, ctx.num_classes, ctx.den = eps, reduction, num_classes, n * s
        dtype = logits.dtype if weight is None else torch.promote_types(logits.dtype, weight.dtype)
        return reduce(rows, reduction, n * s if num_classes else float("nan"), torch.promote_types(dtype, target.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        logits, target, weight, m, d, swy = ctx.saved_tensors
        eps, num_classes, acc = ctx.eps, ctx.num_classes, m.dtype
        need_input, need_target, need_weight = ctx.needs_input_grad[:3]
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, logits.shape, ctx.den, None, acc)
            z, y = logits.to(acc), smoothed(target.to(acc), eps, num_classes)
            w_row = weight_row(weight, acc)
            gi = gt = gw = None
            if need_input:  # (g sum_j w_j y_j / d) exp(z - m) - g w y, with the global sums
                gi = _ce.ce_prob_grad(_ce.shifted_exp(z, m), y, w_row, _ce.ce_prob_coef(g, swy, d), g)
                gi = gi.to(logits.dtype)
            if need_target:  # g (1 - eps) w (lse - z)
                gt = _ce.ce_prob_target_grad(z, w_row, m, d, eps, g).to(target.dtype)
            if need_weight:
                gw = _ce.ce_prob_weight_grad(z, y, m, d, g).sum((0, 2)).to(weight.dtype)
        return gi, gt, gw, None, None, None, None
