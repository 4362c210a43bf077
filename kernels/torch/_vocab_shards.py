"""What the vocab-parallel losses share (torch backend): the header check, bounded collectives, the loss of a
row from the all-reduced statistics, and the gradient of a shard's block (kernels/torch/distributed.py).

    header     all_gather of 8 int64 per rank (N S, C_r, dtype, target kind, ignore_index, smoothing,
               reduction, weight): a mismatch raises the same error on every rank, before any collective whose
               sizes could differ (gloo aborts the process on those)
    loss       w_t ((m - z_t) + log d), smoothed with sw log d - ln 2 swu, from the summed statistics
               (kernel.ce_index_loss, kernel.ce_smooth_term, shard.shifted_sum, shard.weighted_sums)
    gradient   a e - b w - (1 - eps) w_t [k = t] on the shard, from its logits and the global m, d, w_t
               (kernel.ce_smoothed_grad, shard.local_gradient)

Every collective waits at most ``TIMEOUT``: a rank that never arrives makes the others raise, not hang.
"""

from __future__ import annotations

import datetime

import torch
import torch.distributed as dist

from kernels import _validate as validate
from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import weight_row, zero

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


def all_reduce(tensor, op, group, what):
    _wait(dist.all_reduce(tensor, op=op, group=group, async_op=True), what)
    return tensor


def _shard(group, header: list[int], device) -> tuple[int, int]:
    """(offset, C): this rank's first class and the number of classes, after every rank's header is compared.
    The header lives where the inputs do: NCCL groups reduce CUDA tensors only."""
    size = dist.get_world_size(group)
    mine = torch.tensor(header, dtype=torch.int64, device=device)
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


def row_max(z, group, acc):
    """m = max_j z_j over every shard (MAX all-reduce); -inf rows (no classes here) take the others'."""
    local = (
        z.amax(1, keepdim=True)
        if z.shape[1]
        else torch.full((z.shape[0], 1, z.shape[2]), -torch.inf, dtype=acc, device=z.device)
    )
    return all_reduce(local.contiguous(), dist.ReduceOp.MAX, group, "the row-max all-reduce")


def require_group(name: str, alternative: str) -> None:
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(
            f"{name} needs an initialised process group: call torch.distributed.init_process_group(...) first "
            f"(or use {alternative} on one device)"
        )


def shard_of(group, positions: int, local_classes: int, dtype, call, weight, device) -> tuple[int, int]:
    """(offset, C) of this rank's classes, after every rank's header agrees (``_shard``)."""
    header = [positions, local_classes, _DTYPES.get(dtype, 0), int(call.kind == "prob"), call.ignore_index]
    header += [round(call.eps * 1e9), _REDUCTIONS[call.reduction], int(weight is not None)]
    return _shard(group, header, device)


def check_range(t, valid, num_classes: int, ignore_index: int) -> None:
    """IndexError for a kept target outside [0, C): every rank holds the same target, so each raises it."""
    if t.numel():
        bad = valid & ((t < 0) | (t >= num_classes))
        if bool(bad.any()):
            raise validate.out_of_range(int(t[bad][0]), num_classes, ignore_index)


def index_rows_from(total, m, valid, eps, num_classes, reduction):
    """(rows, d, wt, sw, den) from the summed statistics [d, z_t, w_t, (swu, sw)] of each position."""
    d, zt, wt = total[:, 0:1], total[:, 1:2], total[:, 2:3]
    nll = torch.where(valid, _ce.ce_index_loss(zt, wt, m, d), zero(d))
    sw = None
    rows = nll
    if eps > 0:
        swu, sw = total[:, 3:4], total[:, 4:5]
        smooth = torch.where(valid, _ce.ce_smooth_row(sw, d, swu), zero(d))
        rows = _ce.ce_smoothed_loss(nll, smooth, eps, num_classes)
    den = wt.sum()
    if eps > 0 and reduction == "mean":
        rows = rows * (den / den)  # nan where every kept weight is 0, as torch's nll mean is 0/0
    return rows, d, wt, sw, den


def shard_gradient(z, m, d, wt, sw, g, lt, local, weight, eps, num_classes):
    """d loss / dz of a block of this shard's logits z (working dtype, (rows, C_r, S)), for the upstream g."""
    acc = z.dtype
    if sw is None:
        sw = weight.to(acc).sum() if weight is not None else float(num_classes)
    a = _ce.ce_grad_coef(g, wt, sw, eps, num_classes, d)  # g ((1 - eps) w_t + eps sw / C) / d
    e = _ce.shifted_exp(z, m)  # exp(z - m), the global m: shard.local_gradient
    if eps > 0:
        grad = _ce.ce_grad_dense_smooth(e, weight_row(weight, acc), a, _ce.ce_grad_smooth_coef(g, eps, num_classes))
    else:
        grad = _ce.ce_grad_dense(e, a)
    at_target = torch.where(local, _ce.ce_grad_at_target(g, wt, eps), zero(a))  # only the owning shard
    return grad.scatter_add(1, lt, at_target)
