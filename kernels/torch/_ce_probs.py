"""cross_entropy with class probabilities on (N, C, S) logits (torch backend): its operators and kernels.

    ce_prob_rows(logits, target, weight, eps) -> (rows, m, d, swy)           the forward pass
    ce_prob_grads(logits, target, weight, m, d, swy, g, eps, needs...)   the backward pass (kernels/torch/_ops.py)

The math is the emitted kernels/_generated/torch_ce.py; this file slices ~1 MiB blocks and reduces.
Forward saves the per-position statistics m = max_j z_j and d = sum_j exp(z_j - m) (lse = m + log d)
and sum_j w_j y_j, with references to the inputs, which are alive anyway: never an N x C tensor of
log-probabilities. Backward, block by block (kernel.ce_prob_grad, ce_prob_target_grad, ce_prob_weight_grad):

    d/dz_k = (g sum_j w_j y_j / d) exp(z_k - m) - g w_k y_k
    d/dy_k = g (1 - eps) w_k (lse - z_k),      d/dw_k = sum over rows of g y_k (lse - z_k)
"""

import torch

from kernels._blocks import blocks
from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import smoothed, weight_row, working_dtype
from kernels.torch._ops import operator, row_wise


@operator("ce_prob_rows")
def ce_prob_rows(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward of probability-target cross-entropy on (N, C, S) logits and targets: (rows, m, d, swy), each
    (N, 1, S) in the working dtype: the loss of each position, the row statistics and sum_j w_j y_j."""
    n, num_classes, s = logits.shape
    acc = _acc(logits, target, weight)
    m = torch.empty((n, 1, s), dtype=acc, device=logits.device)
    d, swy, losses = torch.empty_like(m), torch.empty_like(m), torch.empty_like(m)
    w_row = weight_row(weight, acc)
    if num_classes == 0:  # an empty sum over classes: every position's loss is 0 (torch: mean = nan)
        for t in (m, d, swy, losses):
            t.zero_()
    for ix in blocks(n, num_classes, s, torch.finfo(acc).bits // 8) if num_classes else ():
        z, y = logits[ix].to(acc), smoothed(target[ix].to(acc), eps, num_classes)
        m[ix] = mb = z.amax(1, keepdim=True)  # m = max_j z_j
        d[ix] = db = _ce.shifted_exp(z, mb).sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
        losses[ix] = _ce.ce_prob_term(z, y, w_row, mb, db).sum(1, keepdim=True)  # sum w y ((m - z) + log d)
        swy[ix] = (y * w_row).sum(1, keepdim=True)  # sum_j w_j y_j, a row sum
    return losses, m, d, swy


@ce_prob_rows.register_fake
def _(logits, target, weight, eps):
    n, _, s = logits.shape
    return tuple(logits.new_empty((n, 1, s), dtype=_acc(logits, target, weight)) for _ in range(4))


@operator("ce_prob_grads")
def ce_prob_grads(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    m: torch.Tensor,
    d: torch.Tensor,
    swy: torch.Tensor,
    g: torch.Tensor,
    eps: float,
    need_input: bool,
    need_target: bool,
    need_weight: bool,
) -> list[torch.Tensor]:
    """The gradients asked for, in the order input, target, weight, for the upstream gradient ``g`` of each
    position's loss (N, 1, S), block by block from the saved statistics."""
    (n, num_classes, s), acc = logits.shape, m.dtype
    g = g.to(acc)
    w_row = weight_row(weight, acc)
    gi = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device) if need_input else None
    gt = torch.empty(target.shape, dtype=target.dtype, device=target.device) if need_target else None
    gw = torch.zeros((num_classes,), dtype=acc, device=logits.device) if need_weight else None
    for ix in blocks(n, num_classes, s, torch.finfo(acc).bits // 8):
        z, y = logits[ix].to(acc), smoothed(target[ix].to(acc), eps, num_classes)
        gb, mb, db = g[ix], m[ix], d[ix]
        if need_input:  # (g sum_j w_j y_j / d) exp(z - m) - g w y
            e = _ce.shifted_exp(z, mb)  # exp(z - m)
            gi[ix] = _ce.ce_prob_grad(e, y, w_row, _ce.ce_prob_coef(gb, swy[ix], db), gb)
        if need_target:  # g (1 - eps) w (lse - z)
            gt[ix] = _ce.ce_prob_target_grad(z, w_row, mb, db, eps, gb)
        if need_weight:  # summed over rows and positions: g y (lse - z)
            gw += _ce.ce_prob_weight_grad(z, y, mb, db, gb).sum((0, 2))
    return [x for x in (gi, gt, None if gw is None else gw.to(weight.dtype)) if x is not None]


@ce_prob_grads.register_fake
def _(logits, target, weight, m, d, swy, g, eps, need_input, need_target, need_weight):
    out = [torch.empty_like(logits)] if need_input else []
    out += [torch.empty_like(target)] if need_target else []
    return out + ([torch.empty_like(weight)] if need_weight else [])


row_wise(ce_prob_rows, rows=(0, 1))
row_wise(ce_prob_grads, rows=(0, 1, 3, 4, 5, 6), folds=lambda *args: not args[10])  # a weight gradient sums rows


def _acc(logits, target, weight):
    dtype = torch.promote_types(logits.dtype, target.dtype)
    return working_dtype(dtype if weight is None else torch.promote_types(dtype, weight.dtype))


def prob_gradient_terms(logits, target, weight, g, eps):
    """(d/dz, d/dy, d/dw) of each position's loss times g, elementwise (N, C, S), with the emitted gradients and
    a differentiable lse = torch.logsumexp(z) (so m = lse, d = 1): autograd differentiates them again."""
    acc = _acc(logits, target, weight)
    num_classes = logits.shape[1]
    z, y, w_row = logits.to(acc), smoothed(target.to(acc), eps, num_classes), weight_row(weight, acc)
    lse = torch.logsumexp(z, 1, keepdim=True)
    one = torch.ones_like(lse)  # d = sum_j exp(z_j - lse) = 1
    g = g.to(acc)
    swy = (y * w_row).sum(1, keepdim=True)  # sum_j w_j y_j
    gi = _ce.ce_prob_grad(_ce.shifted_exp(z, lse), y, w_row, _ce.ce_prob_coef(g, swy, one), g)
    gt = _ce.ce_prob_target_grad(z, w_row, lse, one, eps, g)
    gw = _ce.ce_prob_weight_grad(z, y, lse, one, g)
    return gi, gt, gw


def differentiable_prob_grads(logits, target, weight, g, eps, needs):
    """The gradients of ``needs`` (input, target, weight) in differentiable torch operations (prob_gradient_terms)."""
    gi, gt, gw = prob_gradient_terms(logits, target, weight, g, eps)
    grads = (gi.to(logits.dtype), gt.to(target.dtype), None if weight is None else gw.sum((0, 2)).to(weight.dtype))
    return [grad if need else None for grad, need in zip(grads, needs, strict=True)]
