"""A linear head in blocks of classes (torch backend): rows whose whole logits would not fit are passed a
block of the classifier at a time, so no buffer holds more than one block (kernels/_chunking.py's plan).

For a chunk of rows x_c and each block b of classes (W_b, b_b), z_b = x_c W_b^T + b_b, capped:

    pass 1, every b   m_b, d_b = sum_{j in b} exp(z_j - m_b), and z_t where t is in b, swu_b (index targets)
                      or swy_b = sum w y, part_b = sum w y (m_b - z) (probabilities)
    merge             m = max_b m_b                                                      (shard.max_of_parts)
                      d = sum_b d_b exp(m_b - m)                                          (shard.shifted_sum)
                      swu = sum_b swu_b + sw_b (m_b - m) / ln 2, part = sum_b part_b + swy_b (m - m_b),
                      z_t from the one block that holds it          (shard.weighted_sums, shard.target_logit)
    pass 2, every b   z_b again; dL/dz_b from its logits and the chunk's m, d alone   (shard.local_gradient)
                      dL/dx_c += g_b W_b,  dL/dW_b += g_b^T x_c,  dL/db_b += sum g_b

The blocks are the vocab-parallel shards of kernels/torch/distributed.py inside one process: the same
claims (vocab-parallel.md) make the merged statistics those of the whole row. The loss terms then follow
from the merged statistics as for whole rows (kernels/torch/_chunk_targets.py). Pass 2 runs only when a
gradient is formed: four matmuls instead of three, for a buffer of one block instead of one chunk of rows.
"""

from __future__ import annotations

import torch

from kernels._generated import torch_ce as _ce
from kernels.torch import _prob_block as block
from kernels.torch._autograd import smoothed, weight_row, zero
from kernels.torch._ce_indices import index_terms
from kernels.torch._chunk_targets import IndexTargets, _capped
from kernels.torch._row_pass import RowStatistics, row_pass


def spans(num_classes: int, width: int):
    """(c0, c1) of each block of ``width`` classes."""
    return [(c0, min(num_classes, c0 + width)) for c0 in range(0, num_classes, width)]


def run_blocks(layer, targets, chunk: int, width: int, scales=None) -> None:
    """Every chunk of rows in blocks of ``width`` classes: pass 1 and the merge give the loss terms; with
    ``scales`` = (g, g_z) per position, pass 2 hands each block's gradient to ``layer.accumulate_block``."""
    blocks = spans(layer.num_classes, width)
    index = isinstance(targets, IndexTargets)
    first, second = (_index_block, _index_gradient) if index else (_prob_block, _prob_gradient)
    for r0 in range(0, layer.rows, chunk):
        r1 = min(layer.rows, r0 + chunk)
        parts = []
        for c0, c1 in blocks:
            z = layer.block(r0, r1, c0, c1)
            _capped(z, targets.extras, False)
            parts.append(first(targets, z, slice(r0, r1), c0, c1))
        row = (_index_merge if index else _prob_merge)(targets, parts, slice(r0, r1))
        if scales is None:
            continue
        for c0, c1 in blocks:
            z = layer.block(r0, r1, c0, c1)
            factor = _capped(z, targets.extras, True)
            second(targets, z, row, slice(r0, r1), c0, c1, *scales)
            if factor is not None:
                z.mul_(factor)  # dL/dz = dL/dz' (1 - (z' / c)^2)
            layer.accumulate_block(z, r0, r1, c0, c1)


def _shift(parts, m):
    """exp(m_b - m) of each block, 0 for a block whose row is all -inf (its d_b is nan)."""
    m_b = torch.cat([p[0] for p in parts], 1)
    scale = _ce.shifted_exp(m_b, m)  # exp(m_b - m)
    return torch.where(torch.isneginf(m_b), zero(scale), scale)


def _merged_sum(parts, m):
    """d = sum_b d_b exp(m_b - m): every block's shifted sum on the one shift m (shard.shifted_sum)."""
    scale = _shift(parts, m)
    d_b = torch.cat([p[1] for p in parts], 1)
    return torch.where(scale == 0, zero(d_b), d_b * scale).sum(1, keepdim=True)


def _merged_max(parts):
    return torch.cat([p[0] for p in parts], 1).amax(1, keepdim=True)  # m = max_b m_b


def _local(t, ix, c0, c1):
    """(holds, lt): where this block holds the target, and the target's index in the block (0 elsewhere)."""
    safe = t.safe_target[ix]
    holds = (safe >= c0) & (safe < c1)
    return holds, torch.where(holds, safe - c0, 0)


def _index_block(t, z, ix, c0, c1):
    """(m_b, d_b, z_t here or 0, swu_b or None, sw_b) of index targets on one block."""
    holds, lt = _local(t, ix, c0, c1)
    wb = None if t.weight is None else t.weight[c0:c1]
    stats = row_pass(z, lt, wb, t.eps, z.dtype)
    sw_b = float(c1 - c0) if wb is None else wb.to(z.dtype).sum()  # sum_{j in b} w_j
    return stats.m, stats.d, torch.where(holds, stats.zt, zero(stats.zt)), stats.swu, sw_b


def _index_merge(t, parts, ix):
    """The chunk's statistics from its blocks' (shard.*), and its loss terms; returns (m, d, sw) for pass 2."""
    m = _merged_max(parts)
    d = _merged_sum(parts, m)
    zt = torch.stack([p[2] for p in parts]).sum(0)  # z_t: every block but one adds 0
    swu = None
    if t.eps > 0:  # sum_b swu_b + sw_b (m_b - m) / ln 2: every block's sum on the shift m
        swu = sum(p[3] + p[4] * _ce.base2_shift(p[0], m) for p in parts)
    nll, smooth = index_terms(RowStatistics(m, d, swu, zt), t.wt[ix], t.valid[ix], t.weight, t.eps, t.num_classes)
    t.nll[ix] = nll
    if smooth is not None:
        t.smooth[ix] = smooth
    t._z_loss(ix, m, d)
    sw = t.weight.to(d.dtype).sum() if t.weight is not None else float(t.num_classes)  # sum_j w_j, every class
    return m, d, sw


def _index_gradient(t, z, row, ix, c0, c1, g, gz=None):
    """dL/dz_b = a exp(z - m) - b w, then -g (1 - eps) w_t at the target where this block holds it, over z."""
    m, d, sw = row
    acc = z.dtype
    gb, wt = g[ix], t.wt[ix]
    a = _ce.ce_grad_coef(gb, wt, sw, t.eps, t.num_classes, d)  # g ((1 - eps) w_t + eps sw / C) / d
    if gz is not None:  # the z-loss: 2 g_z s lse / d
        a = a + _ce.ce_z_loss_coef(gz[ix], t.extras.z_loss, m, d)
    e = _ce.shifted_exp_into(z, z, m)  # exp(z - m) with the chunk's m, over z
    if t.eps > 0:
        w_row = weight_row(None if t.weight is None else t.weight[c0:c1], acc)
        w_row = torch.as_tensor(w_row, dtype=acc, device=z.device)
        _ce.ce_grad_dense_smooth_into(z, e, w_row, a, _ce.ce_grad_smooth_coef(gb, t.eps, t.num_classes))
    else:
        _ce.ce_grad_dense_into(z, e, a)
    holds, lt = _local(t, ix, c0, c1)
    at_target = _ce.ce_grad_at_target(gb, wt, t.eps)  # -g (1 - eps) w_t
    z.scatter_add_(1, lt, torch.where(holds, at_target, zero(at_target)))


def _prob_inputs(t, ix, c0, c1, acc):
    y = smoothed(t.target[ix, c0:c1].to(acc), t.eps, t.num_classes)  # the smoothed target over every class
    return y, weight_row(None if t.weight is None else t.weight[c0:c1], acc)


def _prob_block(t, z, ix, c0, c1):
    """(m_b, d_b, swy_b, part_b) of a probability target on one block, part_b = sum w y (m_b - z)."""
    y, w_row = _prob_inputs(t, ix, c0, c1, z.dtype)
    m, d, swy = block.statistics(z, y, w_row)
    return m, d, swy, block.part(z, y, w_row, m)


def _prob_merge(t, parts, ix):
    """sum_j w_j y_j ((m - z_j) + log d) from the blocks' parts; returns (m, d, swy) for pass 2."""
    m = _merged_max(parts)
    d = _merged_sum(parts, m)
    swy = sum(p[2] for p in parts)  # sum_j w_j y_j
    part = sum(p[3] + p[2] * (m - p[0]) for p in parts)  # sum_j w_j y_j (m - z_j)
    t.nll[ix] = part + swy * torch.log(d)
    t._z_loss(ix, m, d)
    return m, d, swy


def _prob_gradient(t, z, row, ix, c0, c1, g, gz=None):
    """dL/dy, dL/dw of the block, then dL/dz_b = a exp(z - m) - g w y over z, with the chunk's m, d, swy."""
    m, d, swy = row
    acc = z.dtype
    gb = g[ix]
    y, w_row = _prob_inputs(t, ix, c0, c1, acc)
    gt = None if t.gt is None else t.gt[ix, c0:c1]
    gw = None if t.gw is None else t.gw[c0:c1]
    block.target_and_weight_grads(z, y, w_row, m, d, gb, t.eps, gt, gw)  # before z is overwritten
    a = _ce.ce_prob_coef(gb, swy, d)  # g sum_j w_j y_j / d
    if gz is not None:
        a = a + _ce.ce_z_loss_coef(gz[ix], t.extras.z_loss, m, d)
    e = _ce.shifted_exp(z, m)
    _ce.ce_prob_grad_into(z, e, y, w_row, a, gb)  # a exp(z - m) - g w y, over z
