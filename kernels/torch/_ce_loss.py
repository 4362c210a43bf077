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

from kernels.torch._autograd import reduce
from kernels.torch._ce_autograd import index_rows, prob_rows


def index_loss(logits, target, weight, ignore_index, eps, reduction, dtype):
    """The reduced loss of (N, C, S) logits and (N, 1, S) int64 class indices (reduction 'none': (N, 1, S))."""
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
