"""Softmax cross-entropy with class indices: the Triton kernels, one program per row (class-last rows).

    forward    m, d by the online pass (kernels/triton/_row_loops.py), then the row's terms
                   nll = w_t ((m - z_t) + log d)                              (kernel.ce_index_loss)
                   smooth = sw log d - ln 2 sum_j w_j u_j                     (kernel.ce_smooth_term)
                   z-loss = s (m + log d)^2                                   (kernel.ce_z_loss)
               each 0 where the target is ignore_index; with WRITE_GRAD, the gradient pass follows at once
               (the overwrite variant and the linear head's chunks: it may write over the logits it reads)
    backward   the gradient pass, exp(z - m) recomputed from the saved m:
                   dL/dz_k = a exp(z_k - m) - b w_k - g (1 - eps) w_t [k = t]     (kernel.ce_smoothed_grad)
                   a = g ((1 - eps) w_t + eps sw / C) / d (+ 2 g_z s lse / d),  b = g eps / C
               the target's term is added in float32 before the store rounds it (no read-modify-write of a
               rounded value); with a soft cap the result is times 1 - (z' / c)^2 (kernel.softcap_grad)

Per-row losses are written to their own slots and reduced in torch: no atomics, no races between programs.
"""

from __future__ import annotations

import triton
import triton.language as tl

from kernels._generated import triton_ce as _ce
from kernels.triton._offsets import row_start
from kernels.triton._row_loops import LOG2E, online_stats, tile, weights


@triton.jit
def target_of(target_ptr, row, ignore_index, w_ptr, HAS_W: tl.constexpr):
    """(safe target, kept, w_t): ignored rows read class 0 and get w_t = 0."""
    t = tl.load(target_ptr + row)
    kept = t != ignore_index
    safe = tl.where(kept, t, 0)
    wt = 1.0
    if HAS_W:
        wt = tl.load(w_ptr + safe).to(tl.float32)
    return safe, kept, tl.where(kept, wt, 0.0)


@triton.jit
def gradient_pass(src_ptr, base, grad_ptr, gbase, safe, wt, m, d, g, gz, C, w_ptr, eps, sw, zs, cap,
                  HAS_W: tl.constexpr, SMOOTH: tl.constexpr, ZLOSS: tl.constexpr, HAS_CAP: tl.constexpr,
                  BLOCK: tl.constexpr):  # fmt: skip
    """dL/dz of one row into grad_ptr + gbase (which may be src_ptr + base: each tile is read before written)."""
    a = _ce.ce_grad_coef(g, wt, sw, eps, C, d)  # g ((1 - eps) w_t + eps sw / C) / d
    if ZLOSS:
        a += _ce.ce_z_loss_coef(gz, zs, m, d)  # + 2 g_z s (m + log d) / d
    b = _ce.ce_grad_smooth_coef(g, eps, C)  # g eps / C
    at_target = _ce.ce_grad_at_target(g, wt, eps)  # -g (1 - eps) w_t
    for start in range(0, C, BLOCK):
        cols, mask, z = tile(src_ptr, base, start, C, cap, HAS_CAP, BLOCK)
        e = _ce.shifted_exp(z, m)  # exp(z - m) <= 1
        if SMOOTH:
            grad = _ce.ce_grad_dense_smooth(e, weights(w_ptr, cols, mask, HAS_W), a, b)  # a e - b w
        else:
            grad = _ce.ce_grad_dense(e, a)  # a e
        grad = tl.where(cols == safe, grad + at_target, grad)  # the one-hot's term, in float32
        if HAS_CAP:
            grad = grad * _ce.softcap_grad(tl.where(mask, z, 0.0), cap)  # dz'/dz = 1 - (z' / c)^2
        tl.store(grad_ptr + gbase + cols, grad.to(grad_ptr.dtype.element_ty), mask=mask)


@triton.jit
def index_forward(z_ptr, stride, target_ptr, w_ptr, sw_ptr, m_ptr, d_ptr, nll_ptr, smooth_ptr, zl_ptr,
                  g_ptr, gz_ptr, grad_ptr, grad_stride, C, ignore_index, eps, zs, cap,
                  HAS_W: tl.constexpr, SMOOTH: tl.constexpr, ZLOSS: tl.constexpr, HAS_CAP: tl.constexpr,
                  WRITE_GRAD: tl.constexpr, BLOCK: tl.constexpr):  # fmt: skip
    """Row r: m, d and the loss terms; with WRITE_GRAD the gradient for the upstream g (and g_z) of the row."""
    row = tl.program_id(0)
    base = row_start(row, stride)
    safe, kept, wt = target_of(target_ptr, row, ignore_index, w_ptr, HAS_W)
    zt = tl.load(z_ptr + base + safe).to(tl.float32)  # z_t, gathered (never a one-hot product)
    if HAS_CAP:
        zt = _ce.softcap(zt, cap)
    m, d, swuf, s = online_stats(z_ptr, base, C, w_ptr, cap, HAS_W, SMOOTH, HAS_CAP, BLOCK)
    sw = tl.load(sw_ptr)  # sum_j w_j (C without weights)
    tl.store(m_ptr + row, m)
    tl.store(d_ptr + row, d)
    tl.store(nll_ptr + row, tl.where(kept, _ce.ce_index_loss(zt, wt, m, d), 0.0))
    if SMOOTH:
        swu = _ce.folded_swu(swuf, sw, LOG2E, m, s)  # sum_j w_j (z_j - m) / ln 2
        tl.store(smooth_ptr + row, tl.where(kept, _ce.ce_smooth_row(sw, d, swu), 0.0))
    if ZLOSS:
        tl.store(zl_ptr + row, tl.where(kept, _ce.ce_z_loss_term(zs, m, d), 0.0))
    if WRITE_GRAD:
        g = tl.load(g_ptr + row)
        gz = 0.0
        if ZLOSS:
            gz = tl.load(gz_ptr + row)
        gbase = row_start(row, grad_stride)
        gradient_pass(z_ptr, base, grad_ptr, gbase, safe, wt, m, d, g, gz, C, w_ptr, eps, sw, zs, cap,
                      HAS_W, SMOOTH, ZLOSS, HAS_CAP, BLOCK)  # fmt: skip


@triton.jit
def index_backward(z_ptr, stride, target_ptr, w_ptr, sw_ptr, m_ptr, d_ptr, g_ptr, gz_ptr, grad_ptr, grad_stride,
                   C, ignore_index, eps, zs, cap, HAS_W: tl.constexpr, SMOOTH: tl.constexpr, ZLOSS: tl.constexpr,
                   HAS_CAP: tl.constexpr, BLOCK: tl.constexpr):  # fmt: skip
    """Row r's gradient from the saved m and d, for the upstream g (0 where ignored) and g_z of the row."""
    row = tl.program_id(0)
    base = row_start(row, stride)
    safe, _, wt = target_of(target_ptr, row, ignore_index, w_ptr, HAS_W)
    gz = 0.0
    if ZLOSS:
        gz = tl.load(gz_ptr + row)
    gradient_pass(z_ptr, base, grad_ptr, row_start(row, grad_stride), safe, wt, tl.load(m_ptr + row),
                  tl.load(d_ptr + row), tl.load(g_ptr + row), gz, C, w_ptr, eps, tl.load(sw_ptr), zs, cap,
                  HAS_W, SMOOTH, ZLOSS, HAS_CAP, BLOCK)  # fmt: skip
