"""Softmax cross-entropy with class probabilities: the Triton kernels, one program per row (class-last rows).

    forward    m, d by the online pass (kernels/triton/_row_loops.py), then a second pass for the row's terms
                   loss = sum_j w_j y'_j ((m - z_j) + log d),   y' = (1 - eps) y + eps / C   (kernel.ce_prob_loss,
                   swy = sum_j w_j y'_j                                                     kernel.smoothed_target)
               (the stable form needs the final m and d: summing w y z online would cancel against swy m);
               with ZLOSS, s (m + log d)^2 (kernel.ce_z_loss)
    backward   dL/dz_k = (g swy / d) exp(z_k - m) - g w_k y'_k  (+ the z-loss's 2 g_z s lse / d exp(z_k - m))
               (kernel.ce_prob_grad), times 1 - (z' / c)^2 with a soft cap

The targets are read in their own dtype and computed in float32, as the logits are.
"""

from __future__ import annotations

import triton
import triton.language as tl

from kernels._generated import triton_ce as _ce
from kernels.triton._offsets import row_start
from kernels.triton._row_loops import online_stats, tile, weights


@triton.jit
def _targets(y_ptr, ybase, cols, mask, eps, C, SMOOTH: tl.constexpr):
    """y'_j at the tile's columns: the smoothed target (1 - eps) y + eps / C, 0 past C."""
    y = tl.load(y_ptr + ybase + cols, mask=mask, other=0.0).to(tl.float32)
    if SMOOTH:
        y = tl.where(mask, _ce.smoothed_target(y, eps, C), 0.0)
    return y


@triton.jit
def prob_forward(z_ptr, stride, y_ptr, y_stride, w_ptr, m_ptr, d_ptr, loss_ptr, swy_ptr, zl_ptr, C, eps, zs, cap,
                 HAS_W: tl.constexpr, SMOOTH: tl.constexpr, ZLOSS: tl.constexpr, HAS_CAP: tl.constexpr,
                 BLOCK: tl.constexpr):  # fmt: skip
    """Row r: m, d, sum_j w_j y'_j (lse - z_j) and sum_j w_j y'_j (and the z-loss term)."""
    row = tl.program_id(0)
    base, ybase = row_start(row, stride), row_start(row, y_stride)
    m, d, _, _ = online_stats(z_ptr, base, C, w_ptr, cap, HAS_W, False, HAS_CAP, BLOCK)
    loss = 0.0
    swy = 0.0
    for start in range(0, C, BLOCK):
        cols, mask, z = tile(z_ptr, base, start, C, cap, HAS_CAP, BLOCK)
        wy = weights(w_ptr, cols, mask, HAS_W) * _targets(y_ptr, ybase, cols, mask, eps, C, SMOOTH)
        loss += tl.sum(_ce.ce_prob_term(tl.where(mask, z, m), wy, 1.0, m, d), 0)  # w y ((m - z) + log d); 0 past C
        swy += tl.sum(wy, 0)
    tl.store(m_ptr + row, m)
    tl.store(d_ptr + row, d)
    tl.store(loss_ptr + row, loss)
    tl.store(swy_ptr + row, swy)
    if ZLOSS:
        tl.store(zl_ptr + row, _ce.ce_z_loss_term(zs, m, d))


@triton.jit
def prob_backward(z_ptr, stride, y_ptr, y_stride, w_ptr, m_ptr, d_ptr, swy_ptr, g_ptr, gz_ptr, grad_ptr,
                  grad_stride, C, eps, zs, cap, HAS_W: tl.constexpr, SMOOTH: tl.constexpr, ZLOSS: tl.constexpr,
                  HAS_CAP: tl.constexpr, BLOCK: tl.constexpr):  # fmt: skip
    """Row r's gradient from the saved m, d and swy, for the upstream g of the row (and g_z of its z-loss)."""
    row = tl.program_id(0)
    base, ybase, gbase = row_start(row, stride), row_start(row, y_stride), row_start(row, grad_stride)
    m, d, g = tl.load(m_ptr + row), tl.load(d_ptr + row), tl.load(g_ptr + row)
    a = _ce.ce_prob_coef(g, tl.load(swy_ptr + row), d)  # g sum_j w_j y'_j / d
    if ZLOSS:
        a += _ce.ce_z_loss_coef(tl.load(gz_ptr + row), zs, m, d)
    for start in range(0, C, BLOCK):
        cols, mask, z = tile(z_ptr, base, start, C, cap, HAS_CAP, BLOCK)
        y = _targets(y_ptr, ybase, cols, mask, eps, C, SMOOTH)
        grad = _ce.ce_prob_grad(_ce.shifted_exp(z, m), y, weights(w_ptr, cols, mask, HAS_W), a, g)  # a e - g w y
        if HAS_CAP:
            grad = grad * _ce.softcap_grad(tl.where(mask, z, 0.0), cap)
        tl.store(grad_ptr + gbase + cols, grad.to(grad_ptr.dtype.element_ty), mask=mask)
