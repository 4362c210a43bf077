"""Vocab-parallel cross-entropy on given logits (torch backend): this rank's shard (N, C_r, S) of the classes.

forward    this shard's row statistics in one pass of ~1 MiB blocks, as kernels.torch.cross_entropy's
           (kernels/torch/_row_pass.py): m_r, d_r, z_t, swu_r; then one all_gather of lse_r = m_r + log d_r,
           z_t where the target is here, w_t likewise (with weights) and sw_r log d_r - ln 2 swu_r
           = sum_j w_j (lse_r - z_j) (label smoothing); probability targets, in ~1 MiB blocks of the shard
           (kernels/torch/_prob_block.py), send lse_r, sum_j w_j y_j and sum_j w_j y_j (lse_r - z_j). Every
           rank merges them in rank order (kernels/torch/_vocab_shards.py).
backward   the shard's gradient block by block from its logits and the global LSE, w_t, sum_j w_j
           (kernels/torch/_ce_gradient.py's ``recompute`` with m = LSE, d = 1; probability targets: the same
           blocks as forward, kernel.ce_prob_grad with the global sum_j w_j y_j): no communication.
"""

from __future__ import annotations

import torch

from kernels._blocks import blocks
from kernels._generated import torch_ce as _ce
from kernels.torch import _prob_block as block
from kernels.torch._autograd import no_double_backward, per_position, reduce, smoothed, weight_row, working_dtype, zero
from kernels.torch._ce_gradient import GradientCoefficients, recompute
from kernels.torch._row_pass import class_dot, row_pass
from kernels.torch._vocab_shards import exchange, local_lse, merge_index, merge_prob, reference

_NAME, _INSTEAD = "distributed.vocab_parallel_cross_entropy", "torch.nn.functional.cross_entropy on gathered logits"


def _index_statistics(logits, lt, local, weight, eps, acc):
    """This shard's [lse_r, z_t, (w_t), (sum_j w_j (lse_r - z_j))], each (N, 1, S), for the exchange."""
    n, classes, s = logits.shape
    if classes == 0:  # an empty shard: LSE of nothing is -inf, every sum is 0
        lse_r = torch.full((n, 1, s), -torch.inf, dtype=acc, device=logits.device)
        return [lse_r, *([torch.zeros_like(lse_r)] * (1 + (weight is not None) + (eps > 0)))]
    m, d, swu, zt = row_pass(logits, lt, weight, eps, acc)
    lse_r = local_lse(m, d)
    columns = [lse_r, torch.where(local, zt, zero(lse_r))]
    if weight is not None:
        columns.append(torch.where(local, weight.to(acc)[lt], zero(lse_r)))
    if eps > 0:
        sw_r = weight.to(acc).sum() if weight is not None else float(classes)
        smooth = _ce.ce_smooth_row(sw_r, d, swu)  # sum_j w_j (m_r + log d_r - z_j) (kernel.ce_smooth_term)
        dead = m == -torch.inf  # this part of the row is all -inf: its sum is taken relative to c_r = 0
        if bool(dead.any()):
            w = weight.to(acc) if weight is not None else None
            smooth = torch.where(dead, class_dot(-logits.to(acc), w), smooth)
        columns.append(smooth)
    return columns


class IndexShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, t, valid, weight, group, shards, eps, reduction):
        acc = working_dtype(logits.dtype)
        local = (t >= shards.offset) & (t < shards.offset + logits.shape[1]) & valid  # this shard holds the target
        lt = torch.where(local, t - shards.offset, 0)
        parts = exchange(_index_statistics(logits, lt, local, weight, eps, acc), group)  # (P, N, k, S)
        rows, lse, wt, den = merge_index(parts, shards, valid, weight is not None, eps, reduction)
        ctx.save_for_backward(logits, lt, local, valid, weight, lse, wt, den)
        ctx.sw, ctx.eps, ctx.reduction, ctx.num_classes = sum(shards.weight_sums), eps, reduction, shards.num_classes
        return reduce(rows, reduction, den, logits.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        logits, lt, local, valid, weight, lse, wt, den = ctx.saved_tensors
        acc = lse.dtype
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, logits.shape, den, valid, acc)  # 0 where ignored
            sw = torch.tensor(ctx.sw, dtype=acc, device=lse.device)  # sum_j w_j over every rank's classes
            coef = GradientCoefficients(g, lt, wt, weight, ctx.eps, ctx.num_classes, acc, sw=sw, owned=local)
            if logits.shape[1]:  # exp(z - LSE) block by block, straight into the gradient
                grad = recompute(logits, lse, coef.row_coefficient(torch.ones_like(lse)), coef, acc)
            else:
                grad = torch.zeros_like(logits)
        (grad,) = no_double_backward(_NAME, (grad,), (grad_out, logits), instead=_INSTEAD)
        return grad, None, None, None, None, None, None, None


class ProbShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, weight, group, num_classes, eps, reduction):
        acc = working_dtype(torch.promote_types(logits.dtype, target.dtype))
        w_row = weight_row(weight, acc)
        n, _, s = logits.shape
        lse_r = torch.full((n, 1, s), -torch.inf, dtype=acc, device=logits.device)  # an empty shard keeps -inf
        swy, part = torch.zeros_like(lse_r), torch.zeros_like(lse_r)
        for ix in _blocks(logits, acc):  # ~1 MiB of the shard at a time: never a whole-shard temporary
            z, y = logits[ix].to(acc), smoothed(target[ix].to(acc), eps, num_classes)
            m, d, swy[ix] = block.statistics(z, y, w_row)
            lse_r[ix] = lc = local_lse(m, d)  # m_r + log d_r
            part[ix] = block.part(z, y, w_row, reference(lc))  # sum w y (lse_r - z), relative to lse_r
        rows, lse, swy = merge_prob(exchange([lse_r, swy, part], group))
        ctx.save_for_backward(logits, target, weight, lse, swy)
        ctx.eps, ctx.reduction, ctx.num_classes, ctx.den = eps, reduction, num_classes, n * s
        dtype = logits.dtype if weight is None else torch.promote_types(logits.dtype, weight.dtype)
        return reduce(rows, reduction, n * s if num_classes else float("nan"), torch.promote_types(dtype, target.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        logits, target, weight, lse, swy = ctx.saved_tensors
        eps, num_classes, acc = ctx.eps, ctx.num_classes, lse.dtype
        need_input, need_target, need_weight = ctx.needs_input_grad[:3]
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, logits.shape, ctx.den, None, acc)
            w_row, one = weight_row(weight, acc), torch.ones_like(lse)  # m = LSE, d = 1: the global statistics
            gi = torch.empty_like(logits) if need_input else None
            gt = torch.empty_like(target) if need_target else None
            gw = torch.zeros(logits.shape[1], dtype=acc, device=logits.device) if need_weight else None
            for ix in _blocks(logits, acc):
                z, y = logits[ix].to(acc), smoothed(target[ix].to(acc), eps, num_classes)
                gb, lb, ob = g[ix], lse[ix], one[ix]
                if need_input:  # (g sum_j w_j y_j) exp(z - LSE) - g w y, with the global sums
                    gi[ix] = _ce.ce_prob_grad(_ce.shifted_exp(z, lb), y, w_row, _ce.ce_prob_coef(gb, swy[ix], ob), gb)
                block.target_and_weight_grads(z, y, w_row, lb, ob, gb, eps, None if gt is None else gt[ix], gw)
            gw = None if gw is None else gw.to(weight.dtype)
        gi, gt, gw = no_double_backward(_NAME, (gi, gt, gw), (grad_out, logits, target), instead=_INSTEAD)
        return gi, gt, gw, None, None, None, None


def _blocks(logits, acc):
    """The ~1 MiB blocks of the shard (N, C_r, S) in the working dtype; none for an empty shard."""
    n, classes, s = logits.shape
    return blocks(n, classes, s, torch.finfo(acc).bits // 8) if classes else ()
