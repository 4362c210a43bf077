"""What the vocab-parallel losses share (torch backend): the header check, the one exchange of row statistics,
their merge, and the gradient of a shard's block (kernels/torch/distributed.py).

    header     all_gather of 9 int64 per rank (N S, C_r, dtype, target kind, ignore_index, smoothing, reduction,
               weight, and the bits of sum_j w_j over the rank's classes): a mismatch raises the same error on
               every rank, before any collective whose sizes could differ (gloo aborts the process on those)
    exchange   all_gather of k values per position and rank: lse_r = m_r + log d_r, the rank's LSE of its part of
               the row (shard.shifted_sum with its own m_r), and its sums relative to c_r = lse_r
    merge      LSE = LSE over the ranks of lse_r (shard.lse_of_parts); a sum relative to c_r moves to the global
               LSE by adding (sum_j q_j)(LSE - c_r) (shard.moved_sum), then the ranks' sums add (shard.weighted_sums)
    loss       w_t (LSE - z_t) (kernel.ce_index_loss with m = LSE, d = 1), mixed with smoothing's
               sum_j w_j (LSE - z_j): each rank sends its sw_r log d_r - ln 2 swu_r (kernel.ce_smooth_term)
    gradient   a e - b w - (1 - eps) w_t [k = t] on the shard, e = exp(z - LSE), from its logits and the global
               LSE, w_t, sum_j w_j (kernel.ce_smoothed_grad, shard.local_gradient)

Every collective waits at most ``TIMEOUT``: a rank that never arrives makes the others raise, not hang.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

import torch
import torch.distributed as dist

from kernels import _validate as validate
from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import weight_row, zero

#: How long a rank waits for the others at each collective.
TIMEOUT = datetime.timedelta(seconds=60)
_DTYPES = {torch.float64: 1, torch.float32: 2, torch.float16: 3, torch.bfloat16: 4}
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
_FIELDS = ("N x positions", "", "dtype", "target kind", "ignore_index", "label_smoothing", "reduction", "weight", "")


class Shards(NamedTuple):
    """What the header tells each rank: its first class, C (every rank's classes), each rank's sum_j w_j."""

    offset: int
    num_classes: int
    weight_sums: list[float]


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


def _gather(mine: torch.Tensor, group, what: str) -> torch.Tensor:
    """(P, *mine.shape): every rank's ``mine`` in rank order, the same on every rank."""
    every = [torch.empty_like(mine) for _ in range(dist.get_world_size(group))]
    _wait(dist.all_gather(every, mine, group=group, async_op=True), what)
    return torch.stack(every)


def require_group(name: str, alternative: str) -> None:
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(
            f"{name} needs an initialised process group: call torch.distributed.init_process_group(...) first "
            f"(or use {alternative} on one device)"
        )


def shard_of(group, positions: int, local_classes: int, dtype, call, weight, device) -> Shards:
    """This rank's Shards, after every rank's header agrees. The header lives where the inputs do: NCCL groups
    gather CUDA tensors only."""
    weight_sum = float(weight.double().sum()) if weight is not None else float(local_classes)
    bits = torch.tensor([weight_sum], dtype=torch.float64).view(torch.int64).item()  # the float64, exactly
    header = [positions, local_classes, _DTYPES.get(dtype, 0), int(call.kind == "prob"), call.ignore_index]
    header += [round(call.eps * 1e9), _REDUCTIONS[call.reduction], int(weight is not None), bits]
    rows = _gather(torch.tensor(header, dtype=torch.int64, device=device), group, "the header check").tolist()
    for field, name in enumerate(_FIELDS):
        if name and len({r[field] for r in rows}) > 1:
            raise RuntimeError(
                f"vocab_parallel_cross_entropy: the ranks disagree on {name}: "
                f"{[r[field] for r in rows]} by rank; every rank must pass the same rows, target, options and dtype"
            )
    sizes, rank = [r[1] for r in rows], dist.get_rank(group)
    sums = torch.tensor([r[8] for r in rows], dtype=torch.int64).view(torch.float64).tolist()
    return Shards(sum(sizes[:rank]), sum(sizes), sums)


def check_range(t, valid, num_classes: int, ignore_index: int) -> None:
    """IndexError for a kept target outside [0, C): every rank holds the same target, so each raises it."""
    if t.numel():
        bad = valid & ((t < 0) | (t >= num_classes))
        if bool(bad.any()):
            raise validate.out_of_range(int(t[bad][0]), num_classes, ignore_index)


def local_lse(m, d):
    """lse_r = m_r + log d_r, this rank's LSE of its part of each row; -inf where that part is all -inf."""
    return torch.where(m == -torch.inf, m, _ce.lse(m, d))


def reference(lse_r):
    """c_r, the shift a rank's sums are taken relative to: its lse_r, or 0 where lse_r = -inf."""
    return torch.where(lse_r == -torch.inf, zero(lse_r), lse_r)


def exchange(columns, group) -> torch.Tensor:
    """The one collective of forward: every rank's statistics, each (N, 1, S), as (P, N, k, S) in rank order."""
    return _gather(torch.cat(columns, 1).contiguous(), group, "the statistics all-gather")


def merge_lse(parts):
    """LSE of each row, (N, 1, S), from the ranks' lse_r, (P, N, 1, S): shard.lse_of_parts, shifted by their max."""
    top = parts.amax(0)
    top = torch.where(top == -torch.inf, zero(top), top)  # every part -inf: LSE = log 0 = -inf
    return _ce.lse(top, _ce.shifted_exp(parts, top).sum(0))


def moved_sum(sums, coefficients, shifts, lse):
    """sum over ranks of sums_r + coefficients_r (LSE - c_r): each rank's sum_j q_j (c_r - z_j) moved to the
    global LSE (shard.moved_sum), then added (shard.weighted_sums)."""
    return (sums + coefficients * (lse - shifts)).sum(0)


def weight_sums(shards: Shards, like) -> torch.Tensor:
    """Each rank's sum_j w_j as (P, 1, 1, 1) in ``like``'s dtype and device."""
    return torch.tensor(shards.weight_sums, dtype=like.dtype, device=like.device)[:, None, None, None]


def index_rows(lse, zt, wt, smooth, valid, eps, num_classes, reduction):
    """(rows, den) from the merged statistics: w_t (LSE - z_t) (kernel.ce_index_loss with m = LSE, d = 1), with
    label smoothing mixed with ``smooth`` = sum_j w_j (LSE - z_j) over every rank's classes."""
    nll = torch.where(valid, _ce.ce_index_loss(zt, wt, lse, torch.ones_like(lse)), zero(lse))
    rows = nll
    if eps > 0:
        rows = _ce.ce_smoothed_loss(nll, torch.where(valid, smooth, zero(lse)), eps, num_classes)
    den = wt.sum()
    if eps > 0 and reduction == "mean":
        rows = rows * (den / den)  # nan where every kept weight is 0, as torch's nll mean is 0/0
    return rows, den


def merge_index(parts, shards: Shards, valid, weighted: bool, eps, reduction):
    """(rows, LSE, w_t, den) of class-index targets from the exchanged [lse_r, z_t, (w_t), (smooth_r)]."""
    lse = merge_lse(parts[:, :, 0:1])
    zt = parts[:, :, 1:2].sum(0)  # exactly one rank sent z_t, the others 0 (shard.target_logit)
    wt = parts[:, :, 2:3].sum(0) if weighted else valid.to(lse.dtype)
    smooth = None
    if eps > 0:  # sum_j w_j (LSE - z_j) over every rank's classes
        smooth = moved_sum(parts[:, :, -1:], weight_sums(shards, lse), reference(parts[:, :, 0:1]), lse)
    rows, den = index_rows(lse, zt, wt, smooth, valid, eps, shards.num_classes, reduction)
    return rows, lse, wt, den


def merge_prob(parts):
    """(rows, LSE, sum_j w_j y_j) of probability targets from the exchanged [lse_r, swy_r, part_r]: the row loss
    sum_j w_j y_j (LSE - z_j) over every rank's classes."""
    lse, swy = merge_lse(parts[:, :, 0:1]), parts[:, :, 1:2].sum(0)
    return moved_sum(parts[:, :, 2:3], parts[:, :, 1:2], reference(parts[:, :, 0:1]), lse), lse, swy


def shard_gradient(z, lse, wt, sw, g, lt, local, weight, eps, num_classes):
    """d loss / dz of a block of this shard's logits z (working dtype, (rows, C_r, S)), for the upstream g;
    ``sw`` is sum_j w_j over every rank's classes."""
    one = torch.ones_like(lse)
    a = _ce.ce_grad_coef(g, wt, sw, eps, num_classes, one)  # g ((1 - eps) w_t + eps sw / C), d = 1
    e = _ce.shifted_exp(z, lse)  # exp(z - LSE), the global LSE: shard.local_gradient
    if eps > 0:
        grad = _ce.ce_grad_dense_smooth(e, weight_row(weight, z.dtype), a, _ce.ce_grad_smooth_coef(g, eps, num_classes))
    else:
        grad = _ce.ce_grad_dense(e, a)
    at_target = torch.where(local, _ce.ce_grad_at_target(g, wt, eps), zero(a))  # only the owning shard
    return grad.scatter_add(1, lt, at_target)
