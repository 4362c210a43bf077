"""Softmax cross-entropy of (N, C, S) logits, reduced as torch reduces it (torch backend): the composable core.

    index targets   rows = (1 - eps) w_t (lse - z_t) + eps / C sum_j w_j (lse - z_j)     (IndexRows)
                    'mean' = sum rows / sum w_t over kept positions, 'sum' = sum rows, 'none' = rows
    probabilities   rows = sum_j w_j y'_j (lse - z_j), y' = (1 - eps) y + eps / C          (ProbRows)
                    'mean' = sum rows / (N S)

Everything here is differentiable torch operations around the operators of kernels/torch/_ce_autograd.py,
so torch.func, torch.compile and torch.export compose it; cross_entropy and the composed form of the chunked
losses (kernels/torch/_chunked_op.py) both reduce through it.
"""

from __future__ import annotations

import torch

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import reduce, target_weight, weight_row, working_dtype, zero
from kernels.torch._ce_autograd import index_rows, prob_rows
from kernels.torch._nll import index_targets
from kernels.torch._ops import call


class _TargetLogit(torch.autograd.Function):
    """z_t = z.gather(1, t), whose gradient is where(j = t, g, 0): one expression inductor fuses into the
    gradient's loop, where a gather's own gradient is a zero-filled (N, C, S) buffer scattered into."""

    @staticmethod
    def forward(z, safe_target):
        return z.gather(1, safe_target)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])
        ctx.num_classes = inputs[0].shape[1]

    @staticmethod
    def backward(ctx, g):
        (safe_target,) = ctx.saved_tensors
        classes = torch.arange(ctx.num_classes, device=g.device)[None, :, None]
        return torch.where(classes == safe_target, g, zero(g)), None  # d z_t / d z_j = [j = t]


def traced_index_rows(logits, target, weight, ignore_index, eps):
    """(rows, wt) as differentiable torch operations of the emitted kernels, for inductor to fuse while
    torch.compile traces; the target range check stays an operator. The shift m = max_j z_j is a constant
    (detached): the loss does not depend on it, so autograd's gradient is the loss's own. The exponential is
    the natural one (kernel.natural_shifted_exp): inductor's vectorised exp is faster than its exp2."""
    num_classes = logits.shape[1]
    safe_target = call(index_targets, target, num_classes, ignore_index)
    valid = target != ignore_index
    acc = working_dtype(logits.dtype)
    z = logits.to(acc)
    m = z.amax(1, keepdim=True).detach()  # m = max_j z_j
    d = _ce.natural_shifted_exp(z, m).sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
    wt = target_weight(safe_target, valid, weight, acc)
    nll = torch.where(valid, _ce.ce_index_loss(_TargetLogit.apply(z, safe_target), wt, m, d), zero(d))
    if eps == 0:
        return nll, wt
    sw = weight.to(acc).sum() if weight is not None else float(num_classes)  # sum_j w_j
    swu = (_ce.base2_shift(z, m) * weight_row(weight, acc)).sum(1, keepdim=True)  # sum_j w_j u_j, one fused loop
    smooth = torch.where(valid, _ce.ce_smooth_row(sw, d, swu), zero(d))
    return _ce.ce_smoothed_loss(nll, smooth, eps, num_classes), wt


def index_loss(logits, target, weight, ignore_index, eps, reduction, dtype):
    """The reduced loss of (N, C, S) logits and (N, 1, S) int64 class indices (reduction 'none': (N, 1, S))."""
    # while torch.compile traces: the emitted expressions, fused by inductor (benchmarks.compiled: as fast as or
    # faster than the operators, which run the eager kernels unseen by inductor, at every length measured)
    if torch.compiler.is_compiling():
        rows, wt = traced_index_rows(logits, target, weight, ignore_index, eps)
    else:
        rows, _, _, wt = index_rows(logits, target, weight, ignore_index, eps)
    den = wt.sum()
    if eps > 0 and reduction == "mean":  # den / den: 1, or nan where every kept weight is 0, as in
        rows = rows * (den / den)  # torch, whose nll mean is then 0/0 = nan, whatever the smoothing term adds
    return reduce(rows, reduction, den, dtype)


def prob_loss(logits, target, weight, eps, reduction, dtype):
    """The reduced loss of (N, C, S) logits and class probabilities (reduction 'none': (N, 1, S))."""
    rows = prob_rows(logits, target, weight, eps)[0]
    n, c, s = logits.shape
    den = n * s if c else float("nan")  # mean over positions (torch: nan when C = 0)
    return reduce(rows, reduction, den, dtype)
