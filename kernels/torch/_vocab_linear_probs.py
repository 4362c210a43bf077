"""The vocab-parallel linear head with a probability target (torch backend): each rank holds C_r rows of the
classifier and the target's C_r columns, never its N x C_r logits (chunks of rows, as kernels/torch/_vocab_linear.py).

    pass 1, per chunk   z = x W_r^T + b_r; m_r, d_r (shifted by m_r), swy_r = sum_j w_j y_j and
                        part_r = sum_j w_j y_j (m_r - z_j) over this shard's classes (y smoothed over all C)
    collective 1        m = max over ranks of m_r                                          (shard.max_of_parts)
    rescale             d_r exp(m_r - m), part_r + swy_r (m - m_r): the same global shift  (shard.shifted_sum)
    collective 2        one SUM of [d, swy, part]; loss = part + swy log d                (shard.weighted_sums)
    pass 2, per chunk   z again; dL/dy = g (1 - eps) w (lse - z), dL/dw += g y (lse - z),
                        dL/dz = (g swy / d) exp(z - m) - g w y                            (shard.local_gradient)
                        dL/dW_r += g^T x, dL/db_r += sum g, dL/dx += g W_r                (linear.* claims)

As for class indices: 'mean' and 'sum' form the gradients in forward for grad_output = 1 and backward scales
them; 'none' runs pass 2 in backward; backward all-reduces dL/dx, the one collective there.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import per_position, reduce, smoothed, weight_row, working_dtype
from kernels.torch._linear_chunks import Linear
from kernels.torch._vocab_shards import all_reduce


class LinearProbShard(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, target, weight, group, num_classes, eps, reduction, chunk):
        acc, (n, classes, s) = working_dtype(torch.promote_types(x.dtype, target.dtype)), target.shape
        w_row = weight_row(weight, acc)
        m_r, d_r, swy, part = (torch.zeros((n, 1, s), dtype=acc, device=x.device) for _ in range(4))
        layer = Linear(x, w, b, classes, acc)  # (rows, C_r, S) a chunk at a time
        for r0 in range(0, n, chunk):  # pass 1: this shard's statistics, shifted by its own maxima
            r1 = min(n, r0 + chunk)
            z, y = layer.logits(r0, r1), _target(target, r0, r1, eps, num_classes, acc)
            m_r[r0:r1] = mc = z.amax(1, keepdim=True)
            d_r[r0:r1] = _ce.shifted_exp(z, mc).sum(1, keepdim=True)
            swy[r0:r1] = (y * w_row).sum(1, keepdim=True)
            one = torch.ones_like(mc)  # d = 1 in the emitted term: w y (m_r - z), the part before log d
            part[r0:r1] = _ce.ce_prob_term(z, y, w_row, mc, one).sum(1, keepdim=True)
        m = all_reduce(m_r.clone(), dist.ReduceOp.MAX, group, "the row-max all-reduce")
        sums = [d_r * _ce.shifted_exp(m_r, m), swy, part + swy * (m - m_r)]  # on the global shift m
        total = all_reduce(torch.cat(sums, 1), dist.ReduceOp.SUM, group, "the statistics all-reduce")
        d, swy, part = total[:, 0:1], total[:, 1:2], total[:, 2:3]
        rows = part + swy * torch.log(d)  # sum_j w_j y_j ((m - z_j) + log d)
        den = n * s if num_classes else float("nan")  # torch: the mean over positions, nan when C = 0
        ctx.stats, ctx.options = (m, d, swy, den), (eps, num_classes, reduction, chunk, group)
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
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        ix = slice(r0, r1)
        z, y = layer.logits(r0, r1), _target(target, r0, r1, eps, num_classes, acc)
        if gt is not None:  # g (1 - eps) w (lse - z), before z is overwritten
            gt[ix] = _ce.ce_prob_target_grad(z, w_row, m[ix], d[ix], eps, g[ix])
        if gw is not None:  # g y (lse - z), summed over the rows and positions
            gw += _ce.ce_prob_weight_grad(z, y, m[ix], d[ix], g[ix]).sum((0, 2))
        e = _ce.shifted_exp(z, m[ix])
        _ce.ce_prob_grad_into(z, e, y, w_row, _ce.ce_prob_coef(g[ix], swy[ix], d[ix]), g[ix])  # over z
        if any(needs[:3]):
            layer.accumulate(z, r0, r1)  # dL/dx = g W_r, dL/dW_r += g^T x, dL/db_r += sum g
    gx, gwr, gb = layer.gx, layer.gw, layer.gb
    return [gx, gwr, gb, gt, gw]
