"""The autograd of the Triton losses: each forward launches the row kernels on class-last rows, keeps m and d
(2 floats a row, never log-probabilities) and reduces the per-row terms in torch; backward launches the gradient.

    IndexLoss      class indices: (N, C, S) logits, (N, 1, S) int64 targets (range-checked before the launch)
    ProbLoss       class probabilities; the targets' and weights' gradients, rarely needed, are the torch
                   backend's operations (kernels/torch/_ce_probs.py) on the same saved m and d
    IndexOverwrite the opt-in variant: forward writes the gradient for grad_output = 1 over the logits, backward
                   scales it in place (kernels.torch.cross_entropy_overwrite_logits' contract)
    NllLoss        nll_loss

The reductions are kernels.torch's (``combine``, ``reduce``, ``per_position``), so 'mean', 'sum' and 'none',
the weighted mean and its den = 0 case are torch's by construction.
"""

from __future__ import annotations

import torch

from kernels.torch._autograd import no_double_backward, per_position, reduce, scale_in_place, target_weight, zero
from kernels.torch._ce_indices import combine
from kernels.torch._ce_probs import ce_prob_grads
from kernels.torch._ops import call
from kernels.triton import _launch
from kernels.triton._launch import back, class_last

F32 = torch.float32


def _index_setup(target, weight, ignore_index):
    """(kept, den, count) of (N, 1, S) targets: the mean's sum w_t and the z-loss's number of kept positions."""
    kept = target != ignore_index
    wt = target_weight(torch.where(kept, target, 0), kept, weight, F32)
    return kept, wt.sum(), kept.sum()


def _index_loss(rows, shape, kept, den, count, eps, reduction, extras, dtype):
    """The loss from the rows' terms, as kernels.torch combines them, plus the z-loss over its count."""
    n, c, s = shape

    def view(x):
        return None if x is None else x.view(n, 1, s)

    out = combine(view(rows.nll), view(rows.smooth), reduction, den, eps, c, F32)
    if rows.zl is not None:
        zl = torch.where(kept, view(rows.zl), zero(rows.zl))
        out = out + (zl if reduction == "none" else reduce(zl, reduction, count, F32))
    return out.to(dtype)


def _scales(grad_out, reduction, shape, den, count, kept, extras):
    """(g, g_z) of every row, (N S,) float32: the upstream gradient times the reduction's factor, 0 where ignored."""
    g = per_position(grad_out, reduction, shape, den, kept, F32).reshape(-1).contiguous()
    gz = None
    if extras.z_loss > 0:
        gz = per_position(grad_out, reduction, shape, count, kept, F32).reshape(-1).contiguous()
    return g, gz


class IndexLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, eps, reduction, extras):
        z, t = class_last(logits.detach()), target.reshape(-1)
        rows = _launch.index_forward(z, t, weight, ignore_index, eps, extras)
        kept, den, count = _index_setup(target, weight, ignore_index)
        ctx.save_for_backward(z, t, weight, rows.m, rows.d, kept, den, count)
        ctx.options = (tuple(logits.shape), ignore_index, eps, reduction, extras)
        return _index_loss(rows, logits.shape, kept, den, count, eps, reduction, extras, logits.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        z, t, weight, m, d, kept, den, count = ctx.saved_tensors
        shape, ignore_index, eps, reduction, extras = ctx.options
        g, gz = _scales(grad_out, reduction, shape, den, count, kept, extras)
        grad = back(_launch.index_backward(z, t, weight, ignore_index, eps, extras, m, d, g, gz), shape)
        (grad,) = no_double_backward("cross_entropy", (grad,), (grad_out,))
        return grad, None, None, None, None, None, None


class IndexOverwrite(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, eps, reduction, extras):
        shape, base = tuple(logits.shape), logits.detach()
        z, t = class_last(base), target.reshape(-1)
        kept, den, count = _index_setup(target, weight, ignore_index)
        ones = torch.ones(shape[::2] if reduction == "none" else (), dtype=F32, device=logits.device)
        g, gz = _scales(ones, reduction, shape, den, count, kept, extras)  # the gradient for grad_output = 1
        rows = _launch.index_forward(z, t, weight, ignore_index, eps, extras, g, gz, grad=z)  # over the logits
        if z.data_ptr() != base.data_ptr() or back(z, shape).stride() != base.stride():
            base.copy_(back(z, shape))  # a class-last copy (S > 1): its gradient goes back into the logits
        else:
            torch.autograd.graph.increment_version(logits)  # the kernel wrote through a pointer: tell autograd
        ctx.save_for_backward(logits)  # now the gradient; saved after the overwrite, at its new version
        ctx.reduction, ctx.used = reduction, False
        return _index_loss(rows, shape, kept, den, count, eps, reduction, extras, logits.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.used:
            raise RuntimeError(
                "cross_entropy_overwrite_logits: backward ran twice through one call; its gradient lives in the "
                "logits' storage and was already scaled by the first. Call the loss again for a second backward, "
                "or use kernels.triton.cross_entropy"
            )
        ctx.used = True
        (grad,) = ctx.saved_tensors
        with torch.no_grad():
            if ctx.reduction == "none":  # one upstream value per position
                grad.mul_(grad_out.reshape(grad.shape[0], 1, grad.shape[2]).to(grad.dtype))
            else:
                scale_in_place((grad,), grad_out)
        (grad,) = no_double_backward("cross_entropy", (grad,), (grad_out,))
        return grad, None, None, None, None, None, None


class ProbLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, weight, eps, reduction, extras):
        z, y = class_last(logits.detach()), class_last(target.detach())
        rows = _launch.prob_forward(z, y, weight, eps, extras)
        n, c, s = logits.shape
        den = n * s if c else float("nan")  # mean over positions (torch: nan when C = 0)
        out = reduce(rows.loss.view(n, 1, s), reduction, den, F32)
        if rows.zl is not None:
            out = out + reduce(rows.zl.view(n, 1, s), reduction, n * s, F32)
        ctx.save_for_backward(logits, target, weight, z, y, rows.m, rows.d, rows.swy)
        ctx.options = (eps, reduction, extras, den)
        return out.to(torch.promote_types(logits.dtype, target.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        logits, target, weight, z, y, m, d, swy = ctx.saved_tensors
        eps, reduction, extras, den = ctx.options
        shape = tuple(logits.shape)
        n, _, s = shape
        g, gz = _scales(grad_out, reduction, shape, den, n * s, None, extras)
        grads = [None, None, None]
        if ctx.needs_input_grad[0]:
            grad = _launch.prob_backward(z, y, weight, eps, extras, m, d, swy, g, gz)
            grads[0] = back(grad, shape).to(logits.dtype)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            if extras.on:
                raise NotImplementedError(
                    "kernels.triton: gradients of probability targets or class weights with lse_square_scale or "
                    "softcap are not implemented; detach them, or use kernels.torch.cross_entropy"
                )
            stats = (x.view(n, s)[:, None, :] for x in (m, d, swy))
            needs = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
            found = iter(call(ce_prob_grads, logits, target, weight, *stats, g.view(n, 1, s), eps, False, *needs))
            grads[1:] = [next(found) if need else None for need in needs]
        grads = no_double_backward("cross_entropy", tuple(grads), (grad_out,))
        return *grads, None, None, None


class NllLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        x, t = class_last(logp.detach()), target.reshape(-1)
        kept, den, _ = _index_setup(target, weight, ignore_index)
        rows = _launch.nll_forward(x, t, weight, ignore_index).view(logp.shape[0], 1, logp.shape[2])
        ctx.save_for_backward(x, t, weight, kept, den)
        ctx.options = (tuple(logp.shape), ignore_index, reduction)
        return reduce(rows, reduction, den, logp.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        x, t, weight, kept, den = ctx.saved_tensors
        shape, ignore_index, reduction = ctx.options
        g = per_position(grad_out, reduction, shape, den, kept, F32).reshape(-1).contiguous()
        (grad,) = no_double_backward("nll_loss", (back(_launch.nll_backward(x, t, weight, ignore_index, g), shape),),
                                     (grad_out,))  # fmt: skip
        return grad, None, None, None, None
