"""nll_loss on (N, C, S) log-probabilities (torch backend): -w_t x_t, gathered (kernel.nll_loss).

The gradient is -g w_t at the target index only (kernel.nll_grad), scattered into zeros: never a one-hot.
"""

from __future__ import annotations

import torch

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import no_double_backward, per_position, reduce, target_weight, working_dtype, zero


class NllLoss(torch.autograd.Function):
    """nll_loss on log-probabilities (N, C, S); ``safe_target`` (N, 1, S) holds ignored positions as 0."""

    @staticmethod
    def forward(ctx, logp, safe_target, valid, weight, reduction):
        acc = working_dtype(logp.dtype)
        wt = target_weight(safe_target, valid, weight, acc)
        xt = logp.gather(1, safe_target).to(acc)  # x_t, gathered
        losses = torch.where(valid, _ce.nll_loss_term(xt, wt), zero(wt))
        den = wt.sum()
        ctx.save_for_backward(safe_target, valid, weight, den)
        ctx.reduction, ctx.shape, ctx.dtype = reduction, logp.shape, logp.dtype
        return reduce(losses, reduction, den, logp.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        safe_target, valid, weight, den = ctx.saved_tensors
        acc = working_dtype(ctx.dtype)
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, ctx.shape, den, valid, acc)
            wt = target_weight(safe_target, valid, weight, acc)
            grad = torch.zeros(ctx.shape, dtype=ctx.dtype, device=safe_target.device)
            grad.scatter_(1, safe_target, _ce.nll_grad_at_target(g, wt).to(ctx.dtype))  # -g w_t at k = t only
        (grad,) = no_double_backward("nll_loss", (grad,), (grad_out,))
        return grad, None, None, None, None
