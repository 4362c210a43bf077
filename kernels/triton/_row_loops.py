"""The row loops the kernels share: one program per row, over tiles of BLOCK classes (Triton, float32).

    tile          z = the row's logits at columns start .. start + BLOCK, loaded as float32 (-inf past C);
                  soft-capped, z <- c tanh(z / c), when HAS_CAP (kernel.softcap)
    online_stats  m = max_j z_j and d = sum_j exp(z_j - m), one pass (Milakov & Gimelshein's online softmax):
                      m' = max(m, max_tile z),   d' = d exp(m - m') + sum_tile exp(z - m')       (kernel.lse)
                  and, with SMOOTH, swuf = sum_j w_j u'_j with u'_j = c z_j + s (c = 1 / ln 2), s = -c times
                  the first tile's max: sum_j w_j u_j = swuf - sw (c m + s) once m is known (kernel.ce_folded_smooth)

Every exponential is an emitted helper of kernels/_generated/triton_ce.py; its argument is <= 0 (z <= m').
"""

from __future__ import annotations

import triton
import triton.language as tl

from kernels._generated import triton_ce as _ce

#: 1 / ln 2, the base-2 scale c of the folded exponent.
LOG2E: tl.constexpr = tl.constexpr(1.4426950408889634)


@triton.jit
def tile(ptr, base, start, C, cap, HAS_CAP: tl.constexpr, BLOCK: tl.constexpr):
    """(cols, mask, z): columns start .. start + BLOCK of the row at ``base``, z float32, -inf where cols >= C."""
    cols = start + tl.arange(0, BLOCK)
    mask = cols < C
    z = tl.load(ptr + base + cols, mask=mask, other=float("-inf")).to(tl.float32)  # float32 arithmetic always
    if HAS_CAP:
        z = tl.where(mask, _ce.softcap(z, cap), float("-inf"))  # c tanh(z / c); padding stays -inf
    return cols, mask, z


@triton.jit
def weights(w_ptr, cols, mask, HAS_W: tl.constexpr):
    """w_j at the tile's columns (0 past C); 1 without class weights."""
    if HAS_W:
        return tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    return tl.where(mask, 1.0, 0.0)


@triton.jit
def online_stats(
    ptr, base, C, w_ptr, cap, HAS_W: tl.constexpr, SMOOTH: tl.constexpr, HAS_CAP: tl.constexpr, BLOCK: tl.constexpr
):
    """(m, d, swuf, s) of one row: its max, d = sum_j exp(z_j - m) and, with SMOOTH, the folded sum
    swuf = sum_j w_j (c z_j + s) and its shift s (else 0, 0): _ce.folded_swu(swuf, sw, c, m, s) = sum_j w_j u_j."""
    s = 0.0
    if SMOOTH:  # the fold's shift s = -c max(first tile): keeps c z + s small whatever the logits' offset
        _, _, z0 = tile(ptr, base, 0, C, cap, HAS_CAP, BLOCK)
        s = -LOG2E * tl.max(z0, 0)
    m = float("-inf")
    d = 0.0
    swuf = 0.0
    for start in range(0, C, BLOCK):
        cols, mask, z = tile(ptr, base, start, C, cap, HAS_CAP, BLOCK)
        m_new = tl.maximum(m, tl.max(z, 0))
        d = d * _ce.shifted_exp(m, m_new) + tl.sum(_ce.shifted_exp(z, m_new), 0)  # d' = d e^(m - m') + sum e^(z - m')
        m = m_new
        if SMOOTH:  # sum_j w_j (c z_j + s); the padding's -inf is read as 0 there (0 * -inf would be nan)
            w = weights(w_ptr, cols, mask, HAS_W)
            swuf += tl.sum(w * _ce.folded_shift(tl.where(mask, z, 0.0), LOG2E, s), 0)  # w = 0 past C
    return m, d, swuf, s
