"""cross_entropy with class probabilities on (N, C, S) logits (torch backend).

The math is the emitted kernels/_generated/torch_ce.py; this file slices ~1 MiB blocks and reduces.
Forward saves the per-position statistics m = max_j z_j and d = sum_j exp(z_j - m) (lse = m + log d)
and sum_j w_j y_j, with references to the inputs, which are alive anyway: never an N x C tensor of
log-probabilities. Backward, block by block (kernel.ce_prob_grad, ce_prob_target_grad, ce_prob_weight_grad):

    d/dz_k = (g sum_j w_j y_j / d) exp(z_k - m) - g w_k y_k
    d/dy_k = g (1 - eps) w_k (lse - z_k),      d/dw_k = sum over rows of g y_k (lse - z_k)
"""

from __future__ import annotations

import torch

from kernels._blocks import blocks
from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import no_double_backward, per_position, reduce, smoothed, weight_row, working_dtype


class CrossEntropyProb(torch.autograd.Function):
    """cross_entropy with class probabilities (any real values, as torch accepts them)."""

    @staticmethod
    def forward(ctx, logits, target, weight, eps, reduction, dtype):
        n, num_classes, s = logits.shape
        acc = working_dtype(dtype)
        m = torch.empty((n, 1, s), dtype=acc, device=logits.device)
        d, swy, losses = torch.empty_like(m), torch.empty_like(m), torch.empty_like(m)
        w_row = weight_row(weight, acc)
        if num_classes == 0:  # an empty sum over classes: every position's loss is 0 (torch: mean = nan)
            for t in (m, d, swy, losses):
                t.zero_()
        x, p = logits.detach(), target.detach()  # block views without autograd's view tracking
        for ix in blocks(n, num_classes, s, torch.finfo(acc).bits // 8) if num_classes else ():
            z, y = x[ix].to(acc), smoothed(p[ix].to(acc), eps, num_classes)
            m[ix] = mb = z.amax(1, keepdim=True)  # m = max_j z_j
            d[ix] = db = _ce.shifted_exp(z, mb).sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
            losses[ix] = _ce.ce_prob_term(z, y, w_row, mb, db).sum(1, keepdim=True)  # sum w y ((m - z) + log d)
            swy[ix] = (y * w_row).sum(1, keepdim=True)  # sum_j w_j y_j, a row sum
        den = n * s if num_classes else float("nan")  # mean over positions (torch: nan when C = 0)
        ctx.save_for_backward(logits, target, weight, m, d, swy)
        ctx.eps, ctx.reduction, ctx.den = eps, reduction, den
        return reduce(losses, reduction, den, dtype)

    @staticmethod
    def backward(ctx, grad_out):
        logits, target, weight, m, d, swy = ctx.saved_tensors
        eps, (n, num_classes, s), acc = ctx.eps, logits.shape, swy.dtype
        need_input, need_target, need_weight = ctx.needs_input_grad[:3]
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, logits.shape, ctx.den, None, acc)
            w_row = weight_row(weight, acc)
            gi = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device) if need_input else None
            gt = torch.empty(target.shape, dtype=target.dtype, device=target.device) if need_target else None
            gw = torch.zeros((num_classes,), dtype=acc, device=logits.device) if need_weight else None
            x, p = logits.detach(), target.detach()  # block views without autograd's view tracking
            for ix in blocks(n, num_classes, s, torch.finfo(acc).bits // 8):
                z, y = x[ix].to(acc), smoothed(p[ix].to(acc), eps, num_classes)
                gb, mb, db = g[ix], m[ix], d[ix]
                if need_input:  # (g sum_j w_j y_j / d) exp(z - m) - g w y
                    e = _ce.shifted_exp(z, mb)  # exp(z - m)
                    gi[ix] = _ce.ce_prob_grad(e, y, w_row, _ce.ce_prob_coef(gb, swy[ix], db), gb)
                if need_target:  # g (1 - eps) w (lse - z)
                    gt[ix] = _ce.ce_prob_target_grad(z, w_row, mb, db, eps, gb)
                if need_weight:  # summed over rows and positions: g y (lse - z)
                    gw += _ce.ce_prob_weight_grad(z, y, mb, db, gb).sum((0, 2))
            gw = gw.to(weight.dtype) if need_weight else None
        gi, gt, gw = no_double_backward("cross_entropy", (gi, gt, gw), (logits, target, weight))
        return gi, gt, gw, None, None, None
