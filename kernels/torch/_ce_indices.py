"""Softmax cross-entropy with class indices on (N, C, S) logits (torch backend): the autograd functions.

Forward is one pass of blocks (kernels/torch/_row_pass.py) that keeps m, d and w_t (N S floats each;
lse = m + log d) and a reference to the logits, which are alive anyway: never log-probabilities, never
an N x C buffer. The loss follows from the row statistics:

    loss = w_t ((m - z_t) + log d),    smooth = (sum_j w_j) log d - ln 2 swu        (kernel.ce_index_loss,
    label-smoothed: (1 - eps) loss + eps / C smooth                                kernel.ce_smooth_term)

Backward recomputes the gradient from the saved m block by block, straight into its own blocks
(kernels/torch/_ce_gradient.py). CrossEntropyOverwrite (the opt-in kernels.torch.cross_entropy_overwrite_logits)
writes that gradient, for an upstream gradient of 1, over the logits during the forward pass (one
exponential per element) and keeps nothing else; its backward multiplies it in place by grad_output.
Half types (float16, bfloat16) are computed in float32, in a float32 copy of each block.
"""

from __future__ import annotations

import torch

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import (
    no_double_backward,
    per_position,
    reduce,
    scale_in_place,
    target_weight,
    working_dtype,
    zero,
)
from kernels.torch._ce_gradient import GradientCoefficients, recompute
from kernels.torch._row_pass import RowStatistics, row_pass


def index_terms(stats: RowStatistics, wt, valid, weight, eps, num_classes):
    """(nll, smooth) at each position, (N, 1, S): w_t ((m - z_t) + log d) and, with label smoothing, the smoothing
    term sum_j w_j (lse - z_j) (None without); both exactly 0 where ignored, even for a nan row."""
    m, d, swu, zt = stats
    nll = torch.where(valid, _ce.ce_index_loss(zt, wt, m, d), zero(d))
    if eps == 0:
        return nll, None
    sw = weight.to(d.dtype).sum() if weight is not None else float(num_classes)  # sum_j w_j
    return nll, torch.where(valid, _ce.ce_smooth_row(sw, d, swu), zero(d))


def combine(nll, smooth, reduction, den, eps, num_classes, dtype):
    """The loss from its per-position terms: nll reduced, or (1 - eps) nll + eps / C smooth mixed as torch does."""
    if smooth is None:
        return reduce(nll, reduction, den, dtype)
    if reduction == "none":  # (1 - eps) nll + eps/C smooth at each position
        return _ce.ce_smoothed_loss(nll, smooth, eps, num_classes).to(dtype)
    # torch reduces both terms first: with den = 0 the nll mean is 0/0 = nan whatever the smoothing term
    nll_term, smooth_term = (reduce(term, reduction, den, nll.dtype) for term in (nll, smooth))
    return _ce.ce_smoothed_loss(nll_term, smooth_term, eps, num_classes).to(dtype)


def index_loss(stats: RowStatistics, wt, valid, weight, eps, reduction, den, dtype, num_classes):
    """The loss from the row statistics: w_t ((m - z_t) + log d), mixed with the smoothing term."""
    nll, smooth = index_terms(stats, wt, valid, weight, eps, num_classes)
    return combine(nll, smooth, reduction, den, eps, num_classes, dtype)


def _target_weights(logits, safe_target, valid, weight):
    """(acc, w_t, den): the working dtype, w_t at each position, and torch's weighted-mean denominator sum w_t."""
    acc = working_dtype(logits.dtype)
    wt = target_weight(safe_target, valid, weight, acc)
    return acc, wt, wt.sum()


class CrossEntropyIndex(torch.autograd.Function):
    """cross_entropy with class indices; ``safe_target`` (N, 1, S) holds the targets with ignored ones set to 0.

    Saves the per-row statistics m, d and w_t only (with the logits and targets, which are alive anyway);
    backward recomputes e = exp(z - m) into the gradient.
    """

    @staticmethod
    def forward(ctx, logits, safe_target, valid, weight, eps, reduction):
        acc, wt, den = _target_weights(logits, safe_target, valid, weight)
        stats = row_pass(logits, safe_target, weight, eps, acc)
        ctx.save_for_backward(logits, safe_target, valid, weight, stats.m, stats.d, den, wt)
        ctx.eps, ctx.reduction = eps, reduction
        return index_loss(stats, wt, valid, weight, eps, reduction, den, logits.dtype, logits.shape[1])

    @staticmethod
    def backward(ctx, grad_out):
        logits, safe_target, valid, weight, m, d, den, wt = ctx.saved_tensors
        eps, num_classes = ctx.eps, logits.shape[1]
        acc = working_dtype(logits.dtype)
        with torch.no_grad():
            g = per_position(grad_out, ctx.reduction, logits.shape, den, valid, acc)
            coef = GradientCoefficients(g, safe_target, wt, weight, eps, num_classes, acc)
            a = coef.row_coefficient(d)  # g ((1 - eps) w_t + eps sw / C) / d, every position at once
            grad = recompute(logits, m, a, coef, acc)
        (grad,) = no_double_backward("cross_entropy", (grad,), (logits,))
        return grad, None, None, None, None, None


class CrossEntropyOverwrite(torch.autograd.Function):
    """cross_entropy with class indices whose forward writes the gradient over ``logits`` (opt-in).

    ``logits`` holds d loss / d logits for grad_output = 1 after forward; backward scales it in place by
    grad_output and returns it: no N x C buffer is allocated at all. A second backward through the same
    graph would scale it twice, so it raises.
    """

    @staticmethod
    def forward(ctx, logits, safe_target, valid, weight, eps, reduction):
        acc, wt, den = _target_weights(logits, safe_target, valid, weight)
        n, num_classes, s = logits.shape
        ones = torch.ones((n, s) if reduction == "none" else (), dtype=acc, device=logits.device)
        g = per_position(ones, reduction, logits.shape, den, valid, acc)  # the reduction's factor, 0 where ignored
        coef = GradientCoefficients(g, safe_target, wt, weight, eps, num_classes, acc)
        stats = row_pass(logits, safe_target, weight, eps, acc, overwrite=coef)
        ctx.save_for_backward(logits)  # now the gradient; saved after the overwrite, at its new version
        ctx.reduction, ctx.used = reduction, False
        return index_loss(stats, wt, valid, weight, eps, reduction, den, logits.dtype, num_classes)

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.used:
            raise RuntimeError(
                "cross_entropy_overwrite_logits: backward ran twice through one call; its gradient lives in the "
                "logits' storage and was already scaled by the first. Call the loss again for a second backward, "
                "or use kernels.torch.cross_entropy"
            )
        ctx.used = True
        (grad,) = ctx.saved_tensors
        with torch.no_grad():
            if ctx.reduction == "none":  # one upstream value per position
                grad.mul_(grad_out.reshape(grad.shape[0], 1, grad.shape[2]).to(grad.dtype))
            else:
                scale_in_place((grad,), grad_out)
        (grad,) = no_double_backward("cross_entropy", (grad,), (grad_out,))
        return grad, None, None, None, None, None
