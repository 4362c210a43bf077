"""The vocab-parallel linear head (torch backend): each rank holds C_r rows of the classifier, never its N x C_r
logits, chunks of rows at a time as kernels.torch.linear_cross_entropy does.

    pass 1, per chunk   z = x W_r^T + b_r; this shard's m_r, d_r (shifted by m_r), z_t, and with smoothing swu_r
    collective 1        m = max over ranks of m_r                                          (shard.max_of_parts)
    rescale             d_r exp(m_r - m), swu_r + sw_r (m_r - m) / ln 2: the same global shift (shard.shifted_sum)
    collective 2        one SUM of [d, z_t, w_t, swu, sw]                                  (shard.weighted_sums)
    pass 2, per chunk   z again; g = dL/dz (kernels/torch/_vocab_shards.py); dL/dW_r += g^T x, dL/db_r += sum g,
                        dL/dx += g W_r                                                     (linear.* claims)

For 'mean' and 'sum' pass 2 runs in forward for grad_output = 1 and backward scales its results; for 'none'
backward runs it with the per-row grad_output. dL/dx is a sum over the ranks' classes: backward all-reduces it
(N x H floats, the one collective in backward), so every rank's input gets the full gradient, as
F.linear_cross_entropy's would.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import per_position, reduce, working_dtype, zero
from kernels.torch._linear_chunks import Linear
from kernels.torch._row_pass import class_dot
from kernels.torch._vocab_shards import all_reduce, index_rows_from, shard_gradient


class LinearShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, t, valid, weight, group, offset, num_classes, eps, reduction, chunk):
        acc, (n, _, s) = working_dtype(x.dtype), t.shape
        classes = w.shape[0] // s  # W_r is (C_r S, H): S positions per class (a K-dimensional weight)
        local = (t >= offset) & (t < offset + classes) & valid  # this shard holds the target
        lt = torch.where(local, t - offset, 0)
        wv = weight.to(acc) if weight is not None else None
        m_r, d_r, zt = (torch.zeros((n, 1, s), dtype=acc, device=x.device) for _ in range(3))
        swu_r = torch.zeros_like(m_r)
        layer = Linear(x, w, b, classes, acc)  # z = x W_r^T + b_r a chunk at a time, (rows, C_r, S)
        for r0 in range(0, n, chunk):  # pass 1: this shard's statistics, shifted by its own maxima
            r1 = min(n, r0 + chunk)
            z = layer.logits(r0, r1)
            m_r[r0:r1] = mc = z.amax(1, keepdim=True)
            d_r[r0:r1] = _ce.shifted_exp(z, mc).sum(1, keepdim=True)
            zt[r0:r1] = torch.where(local[r0:r1], z.gather(1, lt[r0:r1]), zero(mc))
            if eps > 0:
                swu_r[r0:r1] = class_dot(_ce.base2_shift(z, mc), wv)  # sum_j w_j (z_j - m_r) / ln 2
        m = all_reduce(m_r.clone(), dist.ReduceOp.MAX, group, "the row-max all-reduce")
        sums = [d_r * _ce.shifted_exp(m_r, m), zt]  # d_r exp(m_r - m): the global shift
        sums.append(torch.where(local, wv[lt] if wv is not None else torch.ones_like(m), zero(m)))
        if eps > 0:
            sw_r = float(wv.sum()) if wv is not None else float(classes)
            sums += [swu_r + sw_r * _ce.base2_shift(m_r, m), torch.full_like(m, sw_r)]
        total = all_reduce(torch.cat(sums, 1), dist.ReduceOp.SUM, group, "the statistics all-reduce")
        rows, d, wt, sw, den = index_rows_from(total, m, valid, eps, num_classes, reduction)
        ctx.stats = (m, d, wt, sw, den)
        ctx.save_for_backward(x, w, b, lt, local, valid, weight)
        ctx.options = (eps, num_classes, reduction, chunk, group)
        needs = ctx.needs_input_grad[:3]
        ctx.formed = None
        if reduction != "none" and any(needs):
            ones = torch.ones((), dtype=acc, device=x.device)
            saved = (x, w, b, lt, local, weight)
            g = per_position(ones, reduction, (n, 1, s), den, valid, acc)
            ctx.formed = _gradients(saved, ctx.stats, ctx.options, g, needs)
        return reduce(rows, reduction, den, x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        x, w, b, lt, local, valid, weight = ctx.saved_tensors
        reduction, group = ctx.options[2], ctx.options[4]
        acc, needs = working_dtype(x.dtype), ctx.needs_input_grad[:3]
        with torch.no_grad():
            if ctx.formed is None:  # 'none', or a second backward: pass 2 again, with this grad_out
                g = per_position(grad_out, reduction, valid.shape, ctx.stats[4], valid, acc)
                gx, gw, gb = _gradients((x, w, b, lt, local, weight), ctx.stats, ctx.options, g, needs)
            else:
                gx, gw, gb = (None if grad is None else grad * grad_out.to(grad.dtype) for grad in ctx.formed)
                ctx.formed = None
            if gx is not None:  # dL/dx = sum over the ranks of g_r W_r: the full gradient on every rank
                gx = all_reduce(gx, dist.ReduceOp.SUM, group, "the input-gradient all-reduce")
        out = [None if grad is None else grad.to(like.dtype) for grad, like in ((gx, x), (gw, w), (gb, b))]
        return (*out, *([None] * 9))


def _gradients(saved, stats, options, g, needs):
    """Pass 2: (dL/dx this rank's part, dL/dW_r, dL/db_r) in the working dtype for upstream g per row, the chunks'
    products accumulated by the linear head's own Linear (kernels/torch/_linear_chunks.py)."""
    x, w, b, lt, local, weight = saved
    eps, num_classes, _, chunk, _ = options
    m, d, wt, sw, _ = stats
    n = x.shape[0]
    layer = Linear(x, w, b, w.shape[0] // lt.shape[2], working_dtype(x.dtype), tuple(needs))
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        ix = slice(r0, r1)
        z = layer.logits(r0, r1)
        grad = shard_gradient(z, m[ix], d[ix], wt[ix], sw if sw is None else sw[ix], g[ix], lt[ix], local[ix],
                              weight, eps, num_classes)  # fmt: skip
        layer.accumulate(grad, r0, r1)  # dL/dx = g W_r, dL/dW_r += g^T x, dL/db_r += sum g
    return layer.gx, layer.gw, layer.gb
