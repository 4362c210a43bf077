"""Autograd helpers, probability-target cross-entropy and nll_loss on (N, C, S) logits (torch backend).

The math is the emitted kernels/_generated/torch_ce.py; this file slices ~1 MiB blocks, masks ignored
positions and reduces. Forward saves the per-position statistics m = max_j z_j and
d = sum_j exp(z_j - m) (2 N S floats; lse = m + log d) and a reference to the logits, which are alive
anyway: never an N x C tensor of log-probabilities. Class-index targets: kernels/_torch_index.py.
Half types (float16, bfloat16) are computed and summed in float32.
"""

from __future__ import annotations

import torch

from kernels._blocks import blocks
from kernels._generated import torch_ce as _ce


def acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """The working dtype: float32 for half types, else the dtype itself."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


class _NoDoubleBackward(torch.autograd.Function):
    """Passes a first-order gradient through; differentiating it again raises instead of being wrong."""

    @staticmethod
    def forward(ctx, name, grad, *anchors):
        ctx.name = name
        return grad.clone()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(
            f"double backward is not supported by kernels.torch.{ctx.name} (its backward uses saved row statistics); "
            f"use torch.nn.functional.{ctx.name} for higher-order gradients"
        )


def once(name: str, grads: tuple, anchors: tuple) -> tuple:
    """Guard gradients computed under create_graph=True against a second differentiation."""
    if not torch.is_grad_enabled():
        return grads
    live = tuple(a for a in anchors if isinstance(a, torch.Tensor) and a.requires_grad)
    return tuple(None if g is None else _NoDoubleBackward.apply(name, g, *live) for g in grads)


def _zero(like: torch.Tensor) -> torch.Tensor:
    return torch.zeros((), dtype=like.dtype, device=like.device)


def _scale(grad_out, reduction: str, shape, den, valid, acc) -> torch.Tensor:
    """g of each position, (N, 1, S): the upstream gradient times the reduction's factor; 0 where ignored."""
    g = grad_out.to(acc)
    g = g / den if reduction == "mean" else g
    g = g.reshape(shape[0], 1, shape[2]) if reduction == "none" else g.expand(shape[0], 1, shape[2])
    return g if valid is None else torch.where(valid, g, _zero(g))  # exactly 0, even when den = 0


def _reduce(rows: torch.Tensor, reduction: str, den, dtype):
    if reduction == "none":
        return rows.to(dtype)
    total = rows.sum()
    return (total / den if reduction == "mean" else total).to(dtype)


def target_weight(safe, valid, weight, acc):
    """w_t at each position, (N, 1, S), 0 where ignored (the mean's denominator is their sum)."""
    wt = weight.to(acc)[safe] if weight is not None else torch.ones(safe.shape, dtype=acc, device=safe.device)
    return torch.where(valid, wt, _zero(wt))


def _weight_row(weight, acc):
    return weight.to(acc)[None, :, None] if weight is not None else 1.0  # w_j along the class dimension


def _smoothed(y: torch.Tensor, eps: float, num_classes: int) -> torch.Tensor:
    return _ce.smoothed_target(y, eps, num_classes) if eps > 0 and num_classes else y  # (1 - eps) y + eps / C


class CrossEntropyProb(torch.autograd.Function):
    """cross_entropy with class probabilities (any real values, as torch accepts them)."""

    @staticmethod
    def forward(ctx, logits, target, weight, eps, reduction, dtype):
        n, num_classes, s = logits.shape
        acc = acc_dtype(dtype)
        m = torch.empty((n, 1, s), dtype=acc, device=logits.device)
        d, swy, rows = torch.empty_like(m), torch.empty_like(m), torch.empty_like(m)
        w_row = _weight_row(weight, acc)
        if num_classes == 0:  # an empty sum over classes: every position's loss is 0 (torch: mean = nan)
            for t in (m, d, swy, rows):
                t.zero_()
        x, p = logits.detach(), target.detach()  # block views without autograd's view tracking
        for ix in blocks(n, num_classes, s, torch.finfo(acc).bits // 8) if num_classes else ():
            z, y = x[ix].to(acc), _smoothed(p[ix].to(acc), eps, num_classes)
            m[ix] = mb = z.amax(1, keepdim=True)  # m = max_j z_j
            d[ix] = db = _ce.shifted_exp(z, mb).sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
            rows[ix] = _ce.ce_prob_term(z, y, w_row, mb, db).sum(1, keepdim=True)  # sum w y ((m - z) + log d)
            swy[ix] = (y * w_row).sum(1, keepdim=True)  # sum_j w_j y_j, a row sum
        den = n * s if num_classes else float("nan")  # mean over positions (torch: nan when C = 0)
        ctx.save_for_backward(logits, target, weight, m, d, swy)
        ctx.eps, ctx.reduction, ctx.den = eps, reduction, den
        return _reduce(rows, reduction, den, dtype)

    @staticmethod
    def backward(ctx, grad_out):
        logits, target, weight, m, d, swy = ctx.saved_tensors
        eps, (n, num_classes, s), acc = ctx.eps, logits.shape, swy.dtype
        need_input, need_target, need_weight = ctx.needs_input_grad[:3]
        with torch.no_grad():
            g = _scale(grad_out, ctx.reduction, logits.shape, ctx.den, None, acc)
            w_row = _weight_row(weight, acc)
            gi = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device) if need_input else None
            gt = torch.empty(target.shape, dtype=target.dtype, device=target.device) if need_target else None
            gw = torch.zeros((num_classes,), dtype=acc, device=logits.device) if need_weight else None
            x, p = logits.detach(), target.detach()  # block views without autograd's view tracking
            for ix in blocks(n, num_classes, s, torch.finfo(acc).bits // 8):
                z, y = x[ix].to(acc), _smoothed(p[ix].to(acc), eps, num_classes)
                gb, mb, db = g[ix], m[ix], d[ix]
                if need_input:  # (g sum_j w_j y_j / d) exp(z - m) - g w y
                    e = _ce.shifted_exp(z, mb)  # exp(z - m)
                    gi[ix] = _ce.ce_prob_grad(e, y, w_row, _ce.ce_prob_coef(gb, swy[ix], db), gb)
                if need_target:  # g (1 - eps) w (lse - z)
                    gt[ix] = _ce.ce_prob_target_grad(z, w_row, mb, db, eps, gb)
                if need_weight:  # summed over rows and positions: g y (lse - z)
                    gw += _ce.ce_prob_weight_grad(z, y, mb, db, gb).sum((0, 2))
            gw = gw.to(weight.dtype) if need_weight else None
        gi, gt, gw = once("cross_entropy", (gi, gt, gw), (logits, target, weight))
        return gi, gt, gw, None, None, None


class NllLoss(torch.autograd.Function):
    """nll_loss on log-probabilities (N, C, S): -w_t x_t, gathered; the gradient is set at the target only."""

    @staticmethod
    def forward(ctx, logp, safe, valid, weight, reduction):
        acc = acc_dtype(logp.dtype)
        wt = target_weight(safe, valid, weight, acc)
        xt = logp.gather(1, safe).to(acc)  # x_t, gathered
        rows = torch.where(valid, _ce.nll_loss_term(xt, wt), _zero(wt))
        den = wt.sum()
        ctx.save_for_backward(safe, valid, weight, den)
        ctx.reduction, ctx.shape, ctx.dtype = reduction, logp.shape, logp.dtype
        return _reduce(rows, reduction, den, logp.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        safe, valid, weight, den = ctx.saved_tensors
        acc = acc_dtype(ctx.dtype)
        with torch.no_grad():
            g = _scale(grad_out, ctx.reduction, ctx.shape, den, valid, acc)
            wt = target_weight(safe, valid, weight, acc)
            grad = torch.zeros(ctx.shape, dtype=ctx.dtype, device=safe.device)
            grad.scatter_(1, safe, _ce.nll_grad_at_target(g, wt).to(ctx.dtype))  # -g w_t at k = t only
        (grad,) = once("nll_loss", (grad,), (grad_out,))
        return grad, None, None, None, None
