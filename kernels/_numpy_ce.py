"""Softmax cross-entropy and nll_loss on (N, C, S) NumPy logits: loss and vector-Jacobian product.

The math is the emitted kernels/_generated/numpy_ce.py; this file slices ~1 MiB blocks, gathers the
target logit, masks ignored positions and reduces. The gradient pass recomputes the statistics
m = max_j z_j and d = sum_j exp(z_j - m) of each block while the block is in cache, then writes the
block of the preallocated gradient and adds -g (1 - eps) w_t at the target index (no one-hot).
float16 is computed and summed in float32.
"""

from __future__ import annotations

import numpy as np

from kernels._blocks import blocks
from kernels._generated import numpy_ce as _ce


def target_weight(safe, valid, weight, acc):
    """w_t at each position, (N, 1, S), 0 where ignored (the mean's denominator is their sum)."""
    wt = weight.astype(acc)[safe] if weight is not None else np.ones(safe.shape, dtype=acc)
    return np.where(valid, wt, acc.type(0))


def _weight_row(weight, acc):
    return weight.astype(acc)[None, :, None] if weight is not None else acc.type(1)  # w_j along the classes


def _stats(z):
    m = z.max(axis=1, keepdims=True)  # m = max_j z_j
    return m, _ce.shifted_exp(z, m).sum(axis=1, keepdims=True)  # d = sum_j exp(z_j - m)


def _smoothed(y, eps, num_classes):
    return _ce.smoothed_target(y, eps, num_classes) if eps > 0 else y  # (1 - eps) y + eps / C


def index_loss(logits, safe, valid, weight, eps, acc):
    """(nll, smooth) at each position, (N, 1, S) in ``acc``, 0 where ignored (smooth is 0 without smoothing)."""
    n, num_classes, s = logits.shape
    nll, smooth = np.zeros((n, 1, s), dtype=acc), np.zeros((n, 1, s), dtype=acc)
    wt = target_weight(safe, valid, weight, acc)
    zt = np.take_along_axis(logits, safe, axis=1).astype(acc)  # the target logit, gathered
    w_row = _weight_row(weight, acc)
    for r, k in blocks(n, num_classes, s, acc.itemsize):
        z = logits[r, :, k].astype(acc, copy=False)
        m, d = _stats(z)
        nll[r, :, k] = _ce.ce_index_loss(zt[r, :, k], wt[r, :, k], m, d)  # w_t ((m - z_t) + log d)
        if eps > 0:  # sum_j w_j (lse - z_j)
            smooth[r, :, k] = _ce.ce_smooth_term(z, w_row, m, d).sum(axis=1, keepdims=True)
    zero = acc.type(0)
    return np.where(valid, nll, zero), np.where(valid, smooth, zero)  # ignored: exactly 0, even for a nan row


def index_grad(logits, safe, valid, weight, eps, g, acc):
    """d loss / d logits for upstream scales g (N, 1, S) that are 0 where ignored."""
    n, num_classes, s = logits.shape
    wt = target_weight(safe, valid, weight, acc)
    sw = weight.astype(acc).sum() if weight is not None else acc.type(num_classes)  # sum_j w_j
    w_row = _weight_row(weight, acc)
    grad = np.empty(logits.shape, dtype=logits.dtype)
    for r, k in blocks(n, num_classes, s, acc.itemsize):
        z, gb, wtb = logits[r, :, k].astype(acc, copy=False), g[r, :, k], wt[r, :, k]
        m, d = _stats(z)
        a = _ce.ce_grad_coef(gb, wtb, sw, eps, num_classes, d)  # g((1-eps) w_t + eps sw/C)/d
        if eps > 0:  # a exp(z - m) - (g eps / C) w
            block = _ce.ce_grad_dense_smooth(z, w_row, m, a, _ce.ce_grad_smooth_coef(gb, eps, num_classes))
        else:  # a exp(z - m)
            block = _ce.ce_grad_dense(z, m, a)
        at = safe[r, :, k]  # -g (1 - eps) w_t added at k = t only
        np.put_along_axis(block, at, np.take_along_axis(block, at, 1) + _ce.ce_grad_at_target(gb, wtb, eps), 1)
        grad[r, :, k] = block
    return grad


def prob_loss(logits, target, weight, eps, acc):
    """Loss at each position, (N, 1, S): sum_j w_j y_j (lse - z_j) for (smoothed) probability targets."""
    n, num_classes, s = logits.shape
    rows = np.zeros((n, 1, s), dtype=acc)
    w_row = _weight_row(weight, acc)
    for r, k in blocks(n, num_classes, s, acc.itemsize):
        z = logits[r, :, k].astype(acc, copy=False)
        y = _smoothed(target[r, :, k].astype(acc, copy=False), eps, num_classes)
        m, d = _stats(z)
        rows[r, :, k] = _ce.ce_prob_term(z, y, w_row, m, d).sum(axis=1, keepdims=True)  # sum w y ((m - z) + log d)
    return rows


def prob_grad(logits, target, weight, eps, g, acc):
    """d loss / d logits for probability targets and upstream scales g (N, 1, S)."""
    n, num_classes, s = logits.shape
    w_row = _weight_row(weight, acc)
    grad = np.empty(logits.shape, dtype=logits.dtype)
    for r, k in blocks(n, num_classes, s, acc.itemsize):
        z = logits[r, :, k].astype(acc, copy=False)
        y = _smoothed(target[r, :, k].astype(acc, copy=False), eps, num_classes)
        m, d = _stats(z)
        swy = (y * w_row).sum(axis=1, keepdims=True)  # sum_j w_j y_j, a row sum
        a = _ce.ce_prob_coef(g[r, :, k], swy, d)  # g sum_j w_j y_j / d
        grad[r, :, k] = _ce.ce_prob_grad(z, y, w_row, m, a, g[r, :, k])  # a exp(z - m) - g w y
    return grad


def nll_loss(logp, safe, valid, weight, acc):
    wt = target_weight(safe, valid, weight, acc)
    xt = np.take_along_axis(logp, safe, axis=1).astype(acc)  # x_t, gathered
    return np.where(valid, _ce.nll_loss_term(xt, wt), acc.type(0))


def nll_grad(logp, safe, valid, weight, g, acc):
    wt = target_weight(safe, valid, weight, acc)
    grad = np.zeros(logp.shape, dtype=logp.dtype)
    np.put_along_axis(grad, safe, _ce.nll_grad_at_target(g, wt), 1)  # -g w_t at k = t only
    return grad
