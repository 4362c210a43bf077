"""Autograd functions for the elementwise losses: BCE with logits and kl_div (torch backend).

The math is the emitted kernels/_generated/torch_binary.py and torch_kl.py; this file broadcasts,
reduces ('mean' and 'batchmean' divide by a count) and routes gradients. Each function saves only
references to its inputs. Backward is the emitted gradient in differentiable torch operations (so a
second derivative is autograd's derivative of it), jvp the same gradient along the tangents; the classes
without jvp are what torch.compile traces (kernels/torch/_ops.py).
"""

from __future__ import annotations

import torch

from kernels._generated import torch_binary as _bce
from kernels._generated import torch_kl as _kl
from kernels.torch._autograd import reduce, upstream, working_dtype
from kernels.torch._ops import traced


def _sum_to(grad: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """Undo broadcasting: sum a gradient back to the shape (and dtype) of the tensor it belongs to."""
    if grad is None:
        return None
    return grad.sum_to_size(like.shape).to(like.dtype) if grad.shape != like.shape else grad.to(like.dtype)


def _bce_grads(logits, target, weight, pos_weight, g, needs, acc):
    """(d/dz, d/dy) of the elementwise BCE times g (None where not needed), in ``acc``, not yet summed to shape."""
    z, y = logits.to(acc), target.to(acc)
    w = weight.to(acc) if weight is not None else 1.0
    if pos_weight is None:
        gi = _bce.bce_grad(z, y, w, g) if needs[0] else None  # g w (sigmoid(z) - y)
        gt = _bce.bce_target_grad(z, w, g) if needs[1] else None  # -g w z
        return gi, gt
    pw = pos_weight.to(acc)
    gi = _bce.bce_grad_pos_weight(z, y, w, pw, g) if needs[0] else None
    gt = _bce.bce_target_grad_pos_weight(z, w, pw, g) if needs[1] else None
    return gi, gt


class _BinaryFirstOrder(torch.autograd.Function):
    """w [(1 - y) z + (1 + (p_w - 1) y) softplus(-z)], elementwise, then reduced."""

    generate_vmap_rule = True

    @staticmethod
    def forward(logits, target, weight, pos_weight, reduction, dtype):
        acc = working_dtype(dtype)
        z, y = logits.to(acc), target.to(acc)
        w = weight.to(acc) if weight is not None else 1.0
        if pos_weight is None:
            loss = _bce.bce_loss(z, y, w)
        else:
            loss = _bce.bce_loss_pos_weight(z, y, w, pos_weight.to(acc))
        return reduce(loss, reduction, logits.numel(), dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        logits, target, weight, pos_weight, reduction, _ = inputs
        ctx.save_for_backward(logits, target, weight, pos_weight)
        ctx.save_for_forward(logits, target, weight, pos_weight)
        ctx.reduction, ctx.count = reduction, logits.numel()

    @staticmethod
    def backward(ctx, grad_out):
        logits, target, weight, pos_weight = ctx.saved_tensors
        acc = working_dtype(grad_out.dtype)
        g = upstream(grad_out, ctx.reduction, ctx.count, acc)
        # differentiable torch operations: under create_graph autograd differentiates the emitted gradient
        gi, gt = _bce_grads(logits, target, weight, pos_weight, g, ctx.needs_input_grad[:2], acc)
        return _sum_to(gi, logits), _sum_to(gt, target), None, None, None, None


class BinaryCrossEntropyWithLogits(_BinaryFirstOrder):
    @staticmethod
    def jvp(ctx, tz, ty, *_):
        logits, target, weight, pos_weight = ctx.saved_tensors
        acc = working_dtype(torch.promote_types(logits.dtype, target.dtype))
        one = torch.ones((), dtype=acc, device=logits.device)
        needs = (tz is not None, ty is not None)
        terms = _bce_grads(logits, target, weight, pos_weight, one, needs, acc)
        out = sum((term * t.to(acc) for term, t in zip(terms, (tz, ty), strict=True) if t is not None), 0)
        return reduce(out, ctx.reduction, ctx.count, logits.dtype)  # the reduction of d loss / d x along v


def _kl_grads(logq, target, log_target, g, needs, acc):
    """(d/dx, d/dtarget) of the pointwise KL term times g (None where not needed), broadcast, in ``acc``."""
    x, t = logq.to(acc), target.to(acc)
    shape = torch.broadcast_shapes(x.shape, t.shape)
    gi = gt = None
    if log_target:
        gi = _kl.kl_div_log_target_grad(t, g) if needs[0] else None  # -g exp(lp)
        gt = _kl.kl_div_log_target_target_grad(x, t, g) if needs[1] else None  # g exp(lp) (lp - x + 1)
    else:
        gi = _kl.kl_div_grad(t, g) if needs[0] else None  # -g p
        gt = _kl.kl_div_target_grad(x, t, g) if needs[1] else None  # g (log p + 1 - x)
        if gt is not None:  # at p = 0 torch's xlogy gradient is 0/0 = nan (the one-sided limit is -inf)
            gt = torch.where(t == 0, torch.full((), float("nan"), dtype=acc, device=t.device), gt)
    return tuple(None if grad is None else grad.expand(shape) for grad in (gi, gt))


class _KLDivFirstOrder(torch.autograd.Function):
    """Pointwise p (log p - x) with 0 where p = 0 (or exp(lp) (lp - x) for a log target), then reduced."""

    generate_vmap_rule = True

    @staticmethod
    def forward(logq, target, log_target, reduction, count, dtype):
        acc = working_dtype(dtype)
        x, t = logq.to(acc), target.to(acc)
        terms = _kl.kl_div_log_target_term(x, t) if log_target else _kl.kl_div_term(x, t)
        return reduce(terms, reduction, count, dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        logq, target, log_target, reduction, count, _ = inputs
        ctx.save_for_backward(logq, target)
        ctx.save_for_forward(logq, target)
        ctx.log_target, ctx.reduction, ctx.count = log_target, reduction, count

    @staticmethod
    def backward(ctx, grad_out):
        logq, target = ctx.saved_tensors
        acc = working_dtype(grad_out.dtype)
        g = upstream(grad_out, ctx.reduction, ctx.count, acc)
        # differentiable torch operations: under create_graph autograd differentiates the emitted gradient
        gi, gt = _kl_grads(logq, target, ctx.log_target, g, ctx.needs_input_grad[:2], acc)
        return _sum_to(gi, logq), _sum_to(gt, target), None, None, None, None


class KLDiv(_KLDivFirstOrder):
    @staticmethod
    def jvp(ctx, tx, tt, *_):
        logq, target = ctx.saved_tensors
        acc = working_dtype(torch.promote_types(logq.dtype, target.dtype))
        one = torch.ones((), dtype=acc, device=logq.device)
        terms = _kl_grads(logq, target, ctx.log_target, one, (tx is not None, tt is not None), acc)
        out = sum((term * t.to(acc) for term, t in zip(terms, (tx, tt), strict=True) if t is not None), 0)
        return reduce(out, ctx.reduction, ctx.count, logq.dtype)  # the reduction of d loss / d x along v


def binary(logits, target, weight, pos_weight, reduction, dtype):
    """BCE with logits, reduced (BinaryCrossEntropyWithLogits)."""
    cls = traced(BinaryCrossEntropyWithLogits, _BinaryFirstOrder)
    return cls.apply(logits, target, weight, pos_weight, reduction, dtype)


def kl(logq, target, log_target, reduction, count, dtype):
    """kl_div, reduced (KLDiv)."""
    return traced(KLDiv, _KLDivFirstOrder).apply(logq, target, log_target, reduction, count, dtype)
