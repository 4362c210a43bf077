"""Softmax cross-entropy with class indices on (N, C, S) logits (torch backend): its operators and kernels.

The operators (kernels/torch/_ops.py; their autograd is kernels/torch/_ce_autograd.py):

    ce_index_rows(logits, target, weight, ignore_index, eps) -> (rows, m, d, wt)   the forward pass
    ce_index_grad(logits, target, weight, m, d, wt, g, ...)  -> d loss / d logits   the backward pass

Forward is one pass of blocks (kernels/torch/_row_pass.py) that keeps m, d and w_t (N S floats each;
lse = m + log d) and a reference to the logits, which are alive anyway: never log-probabilities, never
an N x C buffer. The loss follows from the row statistics:

    loss = w_t ((m - z_t) + log d),    smooth = (sum_j w_j) log d - ln 2 swu        (kernel.ce_index_loss,
    label-smoothed: (1 - eps) loss + eps / C smooth                                kernel.ce_smooth_term)

Backward recomputes the gradient from the saved m block by block, straight into its own blocks
(kernels/torch/_ce_gradient.py); the double backward and forward mode use ``hessian_vector`` (kernel.ce_hvp).
CrossEntropyOverwrite (the opt-in kernels.torch.cross_entropy_overwrite_logits)
writes that gradient, for an upstream gradient of 1, over the logits during the forward pass (one
exponential per element) and keeps nothing else; its backward multiplies it in place by grad_output.
Half types (float16, bfloat16) are computed in float32, in a float32 copy of each block.
"""

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
from kernels.torch._ops import operator, row_wise
from kernels.torch._row_pass import RowStatistics, row_pass
from kernels.torch._targets import safe_targets


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


def _rows_of(logits, target, weight, ignore_index, eps):
    """(rows, m, d, wt) of index targets: the per-position loss (1 - eps) nll + eps / C smooth and the saved
    statistics, after the range check (kernels/torch/_targets.py)."""
    num_classes = logits.shape[1]
    safe_target, valid = safe_targets(target, num_classes, ignore_index)
    acc, wt, _ = _target_weights(logits, safe_target, valid, weight)
    stats = row_pass(logits, safe_target, weight, eps, acc)
    nll, smooth = index_terms(stats, wt, valid, weight, eps, num_classes)
    rows = nll if smooth is None else _ce.ce_smoothed_loss(nll, smooth, eps, num_classes)
    return rows, stats.m, stats.d, wt


@operator("ce_index_rows")
def ce_index_rows(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, ignore_index: int, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward of index-target cross-entropy on (N, C, S) logits and (N, 1, S) int64 targets: (rows, m, d, wt),
    each (N, 1, S) in the working dtype: the loss of each position, the row statistics and w_t (0 where ignored).
    Raises IndexError for a kept target outside [0, C) before any pass over the logits."""
    return _rows_of(logits, target, weight, ignore_index, eps)


@ce_index_rows.register_fake
def _(logits, target, weight, ignore_index, eps):
    n, _, s = logits.shape
    return tuple(logits.new_empty((n, 1, s), dtype=working_dtype(logits.dtype)) for _ in range(4))


@operator("ce_index_grad")
def ce_index_grad(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    m: torch.Tensor,
    d: torch.Tensor,
    wt: torch.Tensor,
    g: torch.Tensor,
    ignore_index: int,
    eps: float,
) -> torch.Tensor:
    """d loss / d logits for the upstream gradient ``g`` of each position's loss (N, 1, S): exp(z - m) recomputed
    from the saved m, block by block, straight into the gradient (kernels/torch/_ce_gradient.py)."""
    coef = coefficients(logits, target, weight, wt, g, ignore_index, eps)
    return recompute(logits, m, coef.row_coefficient(d), coef, working_dtype(logits.dtype))


@ce_index_grad.register_fake
def _(logits, target, weight, m, d, wt, g, ignore_index, eps):
    return torch.empty_like(logits)


def coefficients(logits, target, weight, wt, g, ignore_index, eps) -> GradientCoefficients:
    """The gradient's per-position coefficients for upstream ``g``, exactly 0 at ignored positions."""
    acc = working_dtype(logits.dtype)
    valid = target != ignore_index
    safe_target = torch.where(valid, target, 0)
    g = torch.where(valid, g.to(acc), zero(wt))  # exactly 0 where ignored, even when the mean's den = 0
    return GradientCoefficients(g, safe_target, wt, weight, eps, logits.shape[1], acc)


def hessian_vector(logits, target, weight, m, d, wt, g, v, ignore_index, eps) -> torch.Tensor:
    """g H v of each position, H = (the loss's weight) (diag(s) - s s^T): a e (v - sum_j s_j v_j)
    (kernel.ce_hvp), in the working dtype."""
    acc = working_dtype(logits.dtype)
    coef = coefficients(logits, target, weight, wt, g, ignore_index, eps)
    e = _ce.shifted_exp(logits.to(acc), m)  # exp(z - m)
    v = v.to(acc)
    sv = (e * v).sum(1, keepdim=True) / d  # sum_j s_j v_j, s_j = exp(z_j - m) / d
    return _ce.ce_hvp(e, v, coef.row_coefficient(d), sv)


row_wise(ce_index_rows, rows=(0, 1))
row_wise(ce_index_grad, rows=(0, 1, 3, 4, 5, 6))


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
