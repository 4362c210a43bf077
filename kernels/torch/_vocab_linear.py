"""The vocab-parallel linear head (torch backend): each rank holds C_r rows of the classifier, never its N x C_r
logits, chunks of rows at a time as kernels.torch.linear_cross_entropy does.

    pass 1, per chunk   z = x W_r^T + b_r; this shard's lse_r = m_r + log d_r (shard.shifted_sum), z_t where the
                        target is here, w_t likewise, and with smoothing sum_j w_j (lse_r - z_j)
    the collective      one all_gather of those; every rank merges them in rank order: LSE of the lse_r
                        (shard.lse_of_parts), the sums moved to LSE and added (kernels/torch/_vocab_shards.py)
    pass 2, per chunk   z again; g = dL/dz = a exp(z - LSE) - ... (shard.local_gradient); dL/dW_r += g^T x,
                        dL/db_r += sum g, dL/dx += g W_r                                    (linear.* claims)

For 'mean' and 'sum' pass 2 runs in forward for grad_output = 1 and backward scales its results; for 'none'
backward runs it with the per-row grad_output. dL/dx is a sum over the ranks' classes: backward all-reduces it
(N x H floats, the one collective in backward), so every rank's input gets the full gradient, as
F.linear_cross_entropy's would.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import no_double_backward, per_position, reduce, working_dtype, zero
from kernels.torch._linear_chunks import Linear
from kernels.torch._row_pass import class_dot
from kernels.torch._vocab_shards import all_reduce, exchange, local_lse, merge_index, reference, shard_gradient

NAME = "distributed.vocab_parallel_linear_cross_entropy"
INSTEAD = "torch.nn.functional.linear_cross_entropy with the whole classifier"


class LinearShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, t, valid, weight, group, shards, eps, reduction, chunk):
        acc, (n, _, s) = working_dtype(x.dtype), t.shape
        classes = w.shape[0] // s  # W_r is (C_r S, H): S positions per class (a K-dimensional weight)
        local = (t >= shards.offset) & (t < shards.offset + classes) & valid  # this shard holds the target
        lt = torch.where(local, t - shards.offset, 0)
        columns = _statistics(x, w, b, lt, local, weight, eps, acc, chunk)
        rows, lse, wt, den = merge_index(exchange(columns, group), shards, valid, weight is not None, eps, reduction)
        ctx.stats = (lse, wt, sum(shards.weight_sums), den)
        ctx.save_for_backward(x, w, b, lt, local, valid, weight)
        ctx.options = (eps, shards.num_classes, reduction, chunk, group)
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
                g = per_position(grad_out, reduction, valid.shape, ctx.stats[3], valid, acc)
                gx, gw, gb = _gradients((x, w, b, lt, local, weight), ctx.stats, ctx.options, g, needs)
            else:
                gx, gw, gb = (None if grad is None else grad * grad_out.to(grad.dtype) for grad in ctx.formed)
                ctx.formed = None
            if gx is not None:  # dL/dx = sum over the ranks of g_r W_r: the full gradient on every rank
                gx = all_reduce(gx, dist.ReduceOp.SUM, group, "the input-gradient all-reduce")
        out = [None if grad is None else grad.to(like.dtype) for grad, like in ((gx, x), (gw, w), (gb, b))]
        out = no_double_backward(NAME, tuple(out), (grad_out, x, w), instead=INSTEAD)
        return (*out, *([None] * 9))


def _statistics(x, w, b, lt, local, weight, eps, acc, chunk):
    """Pass 1: this shard's [lse_r, z_t, (w_t), (sum_j w_j (lse_r - z_j))], each (N, 1, S), a chunk of rows at a
    time; an empty shard sends lse_r = -inf and zeros."""
    n, s = lt.shape[0], lt.shape[2]
    classes = w.shape[0] // s
    wv = weight.to(acc) if weight is not None else None
    lse_r = torch.full((n, 1, s), -torch.inf, dtype=acc, device=x.device)  # an empty shard keeps -inf
    zt = torch.zeros_like(lse_r)
    smooth = torch.zeros_like(zt) if eps > 0 else None
    layer = Linear(x, w, b, classes, acc)  # z = x W_r^T + b_r a chunk at a time, (rows, C_r, S)
    sw_r = float(wv.sum()) if wv is not None else float(classes)
    for r0 in range(0, n if classes else 0, chunk):
        r1 = min(n, r0 + chunk)
        z = layer.logits(r0, r1)
        mc = z.amax(1, keepdim=True)
        lse_r[r0:r1] = lc = local_lse(mc, _ce.shifted_exp(z, mc).sum(1, keepdim=True))  # m_r + log d_r
        zt[r0:r1] = torch.where(local[r0:r1], z.gather(1, lt[r0:r1]), zero(mc))
        if eps > 0:  # sum_j w_j (c_r - z_j) = -ln 2 sum_j w_j (z_j - c_r) / ln 2, c_r = lse_r
            swu = class_dot(_ce.base2_shift(z, reference(lc)), wv)
            smooth[r0:r1] = _ce.ce_smooth_row(sw_r, torch.ones_like(lc), swu)
    columns = [lse_r, zt]
    if wv is not None:
        columns.append(torch.where(local, wv[lt], zero(zt)))
    return columns + ([smooth] if eps > 0 else [])


def _gradients(saved, stats, options, g, needs):
    """Pass 2: (dL/dx this rank's part, dL/dW_r, dL/db_r) in the working dtype for upstream g per row, the chunks'
    products accumulated by the linear head's own Linear (kernels/torch/_linear_chunks.py)."""
    x, w, b, lt, local, weight = saved
    eps, num_classes, _, chunk, _ = options
    lse, wt, sw, _ = stats
    n = x.shape[0]
    classes = w.shape[0] // lt.shape[2]
    layer = Linear(x, w, b, classes, working_dtype(x.dtype), tuple(needs))
    for r0 in range(0, n if classes else 0, chunk):  # an empty shard adds nothing
        r1 = min(n, r0 + chunk)
        ix = slice(r0, r1)
        z = layer.logits(r0, r1)
        grad = shard_gradient(z, lse[ix], wt[ix], sw, g[ix], lt[ix], local[ix], weight, eps, num_classes)
        layer.accumulate(grad, r0, r1)  # dL/dx = g W_r, dL/dW_r += g^T x, dL/db_r += sum g
    return layer.gx, layer.gw, layer.gb
