"""Autograd functions for the elementwise losses: BCE with logits and kl_div (torch backend).

The math is the emitted kernels/_generated/torch_binary.py and torch_kl.py; this file broadcasts,
reduces ('mean' and 'batchmean' divide by a count) and routes gradients. Each function saves only
references to its inputs.
"""

from __future__ import annotations

import torch

from kernels._generated import torch_binary as _bce
from kernels._generated import torch_kl as _kl
from kernels.torch._autograd import no_double_backward, reduce, upstream, working_dtype


def _sum_to(grad: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """Undo broadcasting: sum a gradient back to the shape (and dtype) of the tensor it belongs to."""
    if grad is None:
        return None
    return grad.sum_to_size(like.shape).to(like.dtype) if grad.shape != like.shape else grad.to(like.dtype)


class BinaryCrossEntropyWithLogits(torch.autograd.Function):
    """w [(1 - y) z + (1 + (p_w - 1) y) softplus(-z)], elementwise, then reduced."""

    @staticmethod
    def forward(ctx, logits, target, weight, pos_weight, reduction, dtype):
        acc = working_dtype(dtype)
        z, y = logits.to(acc), target.to(acc)
        w = weight.to(acc) if weight is not None else 1.0
        if pos_weight is None:
            loss = _bce.bce_loss(z, y, w)
        else:
            loss = _bce.bce_loss_pos_weight(z, y, w, pos_weight.to(acc))
        ctx.save_for_backward(logits, target, weight, pos_weight)
        ctx.reduction, ctx.count = reduction, logits.numel()
        return reduce(loss, reduction, ctx.count, dtype)

    @staticmethod
    def backward(ctx, grad_out):
        logits, target, weight, pos_weight = ctx.saved_tensors
        acc = working_dtype(grad_out.dtype)
        need_input, need_target = ctx.needs_input_grad[:2]
        with torch.no_grad():
            g = upstream(grad_out, ctx.reduction, ctx.count, acc)
            z, y = logits.to(acc), target.to(acc)
            w = weight.to(acc) if weight is not None else 1.0
            gi = gt = None
            if pos_weight is None:
                gi = _bce.bce_grad(z, y, w, g) if need_input else None  # g w (sigmoid(z) - y)
                gt = _bce.bce_target_grad(z, w, g) if need_target else None  # -g w z
            else:
                pw = pos_weight.to(acc)
                gi = _bce.bce_grad_pos_weight(z, y, w, pw, g) if need_input else None
                gt = _bce.bce_target_grad_pos_weight(z, w, pw, g) if need_target else None
            gi, gt = _sum_to(gi, logits), _sum_to(gt, target)
        gi, gt = no_double_backward("binary_cross_entropy_with_logits", (gi, gt), (logits, target))
        return gi, gt, None, None, None, None


class KLDiv(torch.autograd.Function):
    """Pointwise p (log p - x) with 0 where p = 0 (or exp(lp) (lp - x) for a log target), then reduced."""

    @staticmethod
    def forward(ctx, logq, target, log_target, reduction, count, dtype):
        acc = working_dtype(dtype)
        x, t = logq.to(acc), target.to(acc)
        terms = _kl.kl_div_log_target_term(x, t) if log_target else _kl.kl_div_term(x, t)
        ctx.save_for_backward(logq, target)
        ctx.log_target, ctx.reduction, ctx.count = log_target, reduction, count
        return reduce(terms, reduction, count, dtype)

    @staticmethod
    def backward(ctx, grad_out):
        logq, target = ctx.saved_tensors
        acc = working_dtype(grad_out.dtype)
        need_input, need_target = ctx.needs_input_grad[:2]
        with torch.no_grad():
            g = upstream(grad_out, ctx.reduction, ctx.count, acc)
            x, t = logq.to(acc), target.to(acc)
            shape = torch.broadcast_shapes(x.shape, t.shape)
            gi = gt = None
            if ctx.log_target:
                gi = _kl.kl_div_log_target_grad(t, g) if need_input else None  # -g exp(lp)
                gt = _kl.kl_div_log_target_target_grad(x, t, g) if need_target else None  # g exp(lp) (lp - x + 1)
            else:
                gi = _kl.kl_div_grad(t, g) if need_input else None  # -g p
                gt = _kl.kl_div_target_grad(x, t, g) if need_target else None  # g (log p + 1 - x)
                if gt is not None:  # at p = 0 torch's xlogy gradient is 0/0 = nan (the one-sided limit is -inf)
                    gt = torch.where(t == 0, torch.full((), float("nan"), dtype=acc, device=t.device), gt)
            gi = _sum_to(gi.expand(shape), logq) if gi is not None else None
            gt = _sum_to(gt.expand(shape), target) if gt is not None else None
        gi, gt = no_double_backward("kl_div", (gi, gt), (logq, target))
        return gi, gt, None, None, None, None
