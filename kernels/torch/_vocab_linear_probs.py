"""The vocab-parallel linear head with a probability target (torch backend): each rank holds C_r rows of the
classifier and the target's C_r columns, never its N x C_r logits (chunks of rows, as kernels/torch/_vocab_linear.py).

    pass 1, per chunk   z = x W_r^T + b_r; lse_r = m_r + log d_r, swy_r = sum_j w_j y_j and
                        part_r = sum_j w_j y_j (lse_r - z_j) over this shard's classes (y smoothed over all C)
    the collective      one all_gather of [lse_r, swy_r, part_r]; LSE of the lse_r (shard.lse_of_parts),
                        loss = sum over ranks of part_r + swy_r (LSE - lse_r)     (shard.moved_sum, weighted_sums)
    pass 2, per chunk   z again; dL/dy = g (1 - eps) w (LSE - z), dL/dw += g y (LSE - z),
                        dL/dz = (g swy) exp(z - LSE) - g w y                      (shard.local_gradient)
                        dL/dW_r += g^T x, dL/db_r += sum g, dL/dx += g W_r        (linear.* claims)

As for class indices: 'mean' and 'sum' form the gradients in forward for grad_output = 1 and backward scales
them; 'none' runs pass 2 in backward; backward all-reduces dL/dx, the one collective there.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from kernels._generated import torch_ce as _ce
from kernels.torch import _prob_block as block
from kernels.torch._autograd import no_double_backward, per_position, reduce, smoothed, weight_row, working_dtype
from kernels.torch._linear_chunks import Linear
from kernels.torch._vocab_linear import INSTEAD, NAME
from kernels.torch._vocab_shards import all_reduce, exchange, local_lse, merge_prob, reference


class LinearProbShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, target, weight, group, num_classes, eps, reduction, chunk):
        acc, (n, classes, s) = working_dtype(torch.promote_types(x.dtype, target.dtype)), target.shape
        w_row = weight_row(weight, acc)
        lse_r = torch.full((n, 1, s), -torch.inf, dtype=acc, device=x.device)  # an empty shard keeps -inf
        swy, part = torch.zeros_like(lse_r), torch.zeros_like(lse_r)
        layer = Linear(x, w, b, classes, acc)  # (rows, C_r, S) a chunk at a time
        for r0 in range(0, n if classes else 0, chunk):  # pass 1: this shard's statistics, relative to its lse_r
            r1 = min(n, r0 + chunk)
            z, y = layer.logits(r0, r1), _target(target, r0, r1, eps, num_classes, acc)
            mc, dc, swy[r0:r1] = block.statistics(z, y, w_row)
            lse_r[r0:r1] = lc = local_lse(mc, dc)  # m_r + log d_r
            part[r0:r1] = block.part(z, y, w_row, reference(lc))  # sum w y (lse_r - z)
        rows, lse, swy = merge_prob(exchange([lse_r, swy, part], group))  # sum_j w_j y_j (LSE - z_j)
        den = n * s if num_classes else float("nan")  # torch: the mean over positions, nan when C = 0
        ctx.stats, ctx.options = (lse, torch.ones_like(lse), swy, den), (eps, num_classes, reduction, chunk, group)
        ctx.save_for_backward(x, w, b, target, weight)
        needs = ctx.needs_input_grad[:5]
        ctx.formed = None
        if reduction != "none" and any(needs):
            g = per_position(torch.ones((), dtype=acc, device=x.device), reduction, (n, 1, s), den, None, acc)
            ctx.formed = _gradients((x, w, b, target, weight), ctx.stats, ctx.options, g, needs)
        dtype = x.dtype if weight is None else torch.promote_types(x.dtype, weight.dtype)
        return reduce(rows, reduction, den, torch.promote_types(dtype, target.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        saved = ctx.saved_tensors
        reduction, group = ctx.options[2], ctx.options[4]
        acc = ctx.stats[0].dtype
        needs = ctx.needs_input_grad[:5]
        with torch.no_grad():
            if ctx.formed is None:  # 'none', or a second backward: pass 2 again, with this grad_out
                g = per_position(grad_out, reduction, ctx.stats[0].shape, ctx.stats[3], None, acc)
                grads = _gradients(saved, ctx.stats, ctx.options, g, needs)
            else:
                grads = [None if grad is None else grad * grad_out.to(grad.dtype) for grad in ctx.formed]
                ctx.formed = None
            if grads[0] is not None:  # dL/dx = sum over the ranks of g_r W_r: the full gradient on every rank
                grads[0] = all_reduce(grads[0], dist.ReduceOp.SUM, group, "the input-gradient all-reduce")
        out = [None if grad is None else grad.to(like.dtype) for grad, like in zip(grads, saved, strict=True)]
        out = no_double_backward(NAME, tuple(out), (grad_out, *saved[:2]), instead=INSTEAD)
        return (*out, *([None] * 5))


def _target(target, r0, r1, eps, num_classes, acc):
    """The chunk's smoothed target, (rows, C_r, S): (1 - eps) y + eps / C with C every rank's classes."""
    return smoothed(target[r0:r1].to(acc), eps, num_classes)


def _gradients(saved, stats, options, g, needs):
    """Pass 2: [dL/dx this rank's part, dL/dW_r, dL/db_r, dL/dy, dL/dw] in the working dtype (None where not
    needed) for upstream g per row, the chunks' products accumulated by the linear head's Linear."""
    x, w, b, target, weight = saved
    eps, num_classes, _, chunk, _ = options
    m, d, swy, _ = stats
    acc, n = m.dtype, x.shape[0]
    w_row = weight_row(weight, acc)
    layer = Linear(x, w, b, target.shape[1], acc, tuple(needs[:3]))
    gt = torch.empty(target.shape, dtype=acc, device=x.device) if needs[3] else None
    gw = torch.zeros(target.shape[1:2], dtype=acc, device=x.device) if needs[4] and weight is not None else None
    for r0 in range(0, n if target.shape[1] else 0, chunk):  # an empty shard adds nothing
        r1 = min(n, r0 + chunk)
        ix = slice(r0, r1)
        z, y = layer.logits(r0, r1), _target(target, r0, r1, eps, num_classes, acc)
        gt_c = None if gt is None else gt[ix]
        block.target_and_weight_grads(z, y, w_row, m[ix], d[ix], g[ix], eps, gt_c, gw)  # before z is overwritten
        e = _ce.shifted_exp(z, m[ix])
        _ce.ce_prob_grad_into(z, e, y, w_row, _ce.ce_prob_coef(g[ix], swy[ix], d[ix]), g[ix])  # over z
        if any(needs[:3]):
            layer.accumulate(z, r0, r1)  # dL/dx = g W_r, dL/dW_r += g^T x, dL/db_r += sum g
    gx, gwr, gb = layer.gx, layer.gw, layer.gb
    return [gx, gwr, gb, gt, gw]
