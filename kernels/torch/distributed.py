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

The arithmetic is the emitted kernels/_generated/torch_ce.py, as in kernels.torch.cross_entropy. Every
collective waits at most ``TIMEOUT``; a rank that does not arrive makes the others raise, not hang.
"""

from __future__ import annotations

import datetime

import torch
import torch.distributed as dist

from kernels import _validate as validate
from kernels._generated import torch_ce as _ce
from kernels._layout import layout
from kernels.torch._autograd import per_position, reduce, smoothed, weight_row, working_dtype, zero
from kernels.torch._targets import classes, dtype_name, shape_output

__all__ = ["vocab_parallel_cross_entropy"]

#: How long a rank waits for the others at each collective.
TIMEOUT = datetime.timedelta(seconds=60)
_DTYPES = {torch.float64: 1, torch.float32: 2, torch.float16: 3, torch.bfloat16: 4}
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _wait(work, what: str) -> None:
    try:
        work.wait(timeout=TIMEOUT)
    except RuntimeError as exc:
        raise RuntimeError(
            f"vocab_parallel_cross_entropy: {what} did not complete within {TIMEOUT.total_seconds():.0f} s on every "
            f"rank of the group (a rank that never calls it, or a dead rank): {exc}"
        ) from exc


def _all_reduce(tensor, op, group, what):
    _wait(dist.all_reduce(tensor, op=op, group=group, async_op=True), what)
    return tensor


def _shard(group, header: list[int]) -> tuple[int, int]:
    """(offset, C): this rank's first class and the number of classes, after every rank's header is compared."""
    size = dist.get_world_size(group)
    mine = torch.tensor(header, dtype=torch.int64)
    every = [torch.empty_like(mine) for _ in range(size)]
    _wait(dist.all_gather(every, mine, group=group, async_op=True), "the header check")
    rows = torch.stack(every).tolist()
    names = ("N x positions", "", "dtype", "target kind", "ignore_index", "label_smoothing", "reduction", "weight")
    for field, name in enumerate(names):
        if field != 1 and len({r[field] for r in rows}) > 1:
            raise RuntimeError(
                f"vocab_parallel_cross_entropy: the ranks disagree on {name}: "
                f"{[r[field] for r in rows]} by rank; every rank must pass the same rows, target, options and dtype"
            )
    sizes = [r[1] for r in rows]
    rank = dist.get_rank(group)
    return sum(sizes[:rank]), sum(sizes)


def vocab_parallel_cross_entropy(
    logits_shard, target, *, group=None, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """F.cross_entropy of the logits gathered across ``group`` (rank order), from this rank's shard of the classes.

    Same semantics as torch.nn.functional.cross_entropy: class-index targets (global indices) or probability
    targets (this rank's columns), ``weight`` (this rank's classes), ignore_index, every reduction,
    label_smoothing, (N, C, d1..dk) layouts. Two collectives of N floats per statistic in forward, none in
    backward; the same loss on every rank. Raises on every rank, never hangs, when the ranks disagree.
    """
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(
            "vocab_parallel_cross_entropy needs an initialised process group: call "
            "torch.distributed.init_process_group(...) first (or use kernels.torch.cross_entropy on one device)"
        )
    dtypes = dtype_name(logits_shard.dtype), dtype_name(target.dtype)
    call = validate.cross_entropy_call(
        logits_shard.shape, target.shape, *dtypes, ignore_index, reduction, label_smoothing
    )  # fmt: skip
    rows, local_classes, positions = layout(tuple(logits_shard.shape))
    if weight is not None:
        validate.weight(tuple(weight.shape), local_classes)
    header = [rows * positions, local_classes, _DTYPES.get(logits_shard.dtype, 0), int(call.kind == "prob")]
    header += [call.ignore_index, round(call.eps * 1e9), _REDUCTIONS[call.reduction], int(weight is not None)]
    offset, num_classes = _shard(group, header)
    z = classes(logits_shard)
    if call.kind == "prob":
        out = _ProbShard.apply(z, classes(target), weight, group, num_classes, call.eps, call.reduction)
        return shape_output(out, logits_shard, call.reduction)
    t = target.reshape(rows, 1, positions).long()
    valid = t != call.ignore_index
    if t.numel():
        bad = valid & ((t < 0) | (t >= num_classes))
        if bool(bad.any()):  # every rank holds the same target: each raises the same error
            raise validate.out_of_range(int(t[bad][0]), num_classes, call.ignore_index)
    out = _IndexShard.apply(z, t, valid, weight, group, offset, num_classes, call.eps, call.reduction)
    return shape_output(out, logits_shard, call.reduction)


def _row_max(z, group, acc):
    """m = max_j z_j over every shard (MAX all-reduce); -inf rows (no classes here) take the others'."""
    local = z.amax(1, keepdim=True) if z.shape[1] else torch.full((z.shape[0], 1, z.shape[2]), -torch.inf, dtype=acc)
    return _all_reduce(local.contiguous(), dist.ReduceOp.MAX, group, "the row-max all-reduce")


class _IndexShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, t, valid, weight, group, offset, num_classes, eps, reduction):
        acc = working_dtype(logits.dtype)
        z = logits.to(acc)
        local = (t >= offset) & (t < offset + z.shape[1]) & valid  # this shard holds the target
        lt = torch.where(local, t - offset, 0)
        m = _row_max(z, group, acc)
        w = weight.to(acc) if weight is not None else None
        sums = [_ce.shifted_exp(z, m).sum(1, keepdim=True)]  # d, this shard's part
        sums.append(torch.where(local, z.gather(1, lt), zero(m)))  # z_t where the target is here
        sums.append(torch.where(local, w[lt] if w is not None else torch.ones_like(m), zero(m)))  # w_t likewise
        if eps > 0:  # sum_j w_j u_j and sum_j w_j (shard.weighted_sums)
            u = _ce.base2_shift(z, m)
            sums.append((u * w[None, :, None]).sum(1, keepdim=True) if w is not None else u.sum(1, keepdim=True))
            sums.append(torch.full_like(m, float(w.sum()) if w is not None else float(z.shape[1])))
        total = _all_reduce(torch.cat(sums, 1), dist.ReduceOp.SUM, group, "the statistics all-reduce")
        d, zt, wt = total[:, 0:1], total[:, 1:2], total[:, 2:3]
        nll = torch.where(valid, _ce.ce_index_loss(zt, wt, m, d), zero(d))
        sw = None
        if eps > 0:
            swu, sw = total[:, 3:4], total[:, 4:5]
            smooth = torch.where(valid, _ce.ce_smooth_row(sw, d, swu), zero(d))
            rows = _ce.ce_smoothed_loss(nll, smooth, eps, num_classes)
        else:
            rows = nll
        den = wt.sum()
        if eps > 0 and reduction == "mean":
            rows = rows * (den / den)  # nan where every kept weight is 0, as torch's nll mean is 0/0
        ctx.save_for_backward(logits, lt, local, valid, weight, m, d, wt, den)
        ctx.sw, ctx.eps, ctx.reduction, ctx.num_classes = sw, eps, reduction, num_classes
        return reduce(rows, reduction, den, logits.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        logits, lt, local, valid, weight, m, d, wt, den = ctx.saved_tensors
        eps, num_classes, acc = ctx.eps, ctx.num_classes, m.dtype
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, logits.shape, den, valid, acc)  # 0 where ignored
            sw = ctx.sw if ctx.sw is not None else (weight.to(acc).sum() if weight is not None else float(num_classes))
            a = _ce.ce_grad_coef(g, wt, sw, eps, num_classes, d)  # g ((1 - eps) w_t + eps sw / C) / d
            e = _ce.shifted_exp(logits.to(acc), m)  # exp(z - m), global m: shard.local_gradient
            w_row = weight_row(weight, acc)
            if eps > 0:
                grad = _ce.ce_grad_dense_smooth(e, w_row, a, _ce.ce_grad_smooth_coef(g, eps, num_classes))
            else:
                grad = _ce.ce_grad_dense(e, a)
            at_target = torch.where(local, _ce.ce_grad_at_target(g, wt, eps), zero(a))  # only the owning shard
            grad = grad.scatter_add(1, lt, at_target)
        return grad.to(logits.dtype), None, None, None, None, None, None, None, None


class _ProbShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, weight, group, num_classes, eps, reduction):
        acc = working_dtype(torch.promote_types(logits.dtype, target.dtype))
        z, y = logits.to(acc), smoothed(target.to(acc), eps, num_classes)
        w_row = weight_row(weight, acc)
        m = _row_max(z, group, acc)
        one = torch.ones_like(m)  # d = 1 in the emitted term: w y (m - z), the part before log d
        sums = [_ce.shifted_exp(z, m).sum(1, keepdim=True), (y * w_row).sum(1, keepdim=True)]
        sums.append(_ce.ce_prob_term(z, y, w_row, m, one).sum(1, keepdim=True))
        total = _all_reduce(torch.cat(sums, 1), dist.ReduceOp.SUM, group, "the statistics all-reduce")
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
