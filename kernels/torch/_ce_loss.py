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
from kernels.torch._autograd import reduce, target_weight, working_dtype, zero
from kernels.torch._ce_autograd import index_rows, prob_rows
from kernels.torch._nll import index_targets
from kernels.torch._ops import call
from kernels.torch._row_pass import class_dot

#: While torch.compile traces, rows of at most this many classes take ``traced_index_rows`` (inductor fuses
#: it: 0.84-0.95x the compiled F.cross_entropy at 8192 x 1000, where the operators take 1.11-1.19x), longer
#: ones the operators (inductor's loops over our emitted expressions took 1.4-1.7x at 2048-8192 classes).
TRACED_CLASSES = 1024


def traced_index_rows(logits, target, weight, ignore_index, eps):
    """(rows, wt) as differentiable torch operations of the emitted kernels, for inductor to fuse while
    torch.compile traces; the target range check stays an operator. The shift m = max_j z_j is a constant
    (detached): the loss does not depend on it, so autograd's gradient is the loss's own."""
    num_classes = logits.shape[1]
    safe_target = call(index_targets, target, num_classes, ignore_index)
    valid = target != ignore_index
    acc = working_dtype(logits.dtype)
    z = logits.to(acc)
    m = z.amax(1, keepdim=True).detach()  # m = max_j z_j
    d = _ce.shifted_exp(z, m).sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
    wt = target_weight(safe_target, valid, weight, acc)
    nll = torch.where(valid, _ce.ce_index_loss(z.gather(1, safe_target), wt, m, d), zero(d))
    if eps == 0:
        return nll, wt
    w = None if weight is None else weight.to(acc)
    sw = w.sum() if w is not None else float(num_classes)  # sum_j w_j
    smooth = torch.where(valid, _ce.ce_smooth_row(sw, d, class_dot(_ce.base2_shift(z, m), w)), zero(d))
    return _ce.ce_smoothed_loss(nll, smooth, eps, num_classes), wt


def index_loss(logits, target, weight, ignore_index, eps, reduction, dtype):
    """The reduced loss of (N, C, S) logits and (N, 1, S) int64 class indices (reduction 'none': (N, 1, S))."""
    if torch.compiler.is_compiling() and logits.shape[1] <= TRACED_CLASSES:
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
