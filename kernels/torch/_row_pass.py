"""The forward pass of index-target cross-entropy: the row statistics, one pass over ~1 MiB blocks (torch).

Per block (kernels/_blocks.py), with the emitted kernels of kernels/_generated/torch_ce.py, each written
through ``out=`` into one working block:

    m = max_j z_j,    u = (z - m) / ln 2 <= 0,    e = 2^u = exp(z - m),    d = sum_j e_j       (kernel.exp2, lse)
    swu = sum_j w_j u_j                          (label smoothing only: one matrix-vector product)

Folded (float32, where torch.add(s, z, alpha=c) is one fused multiply-add; kernels/torch/_fold.py): u is
u' = c z + s with s = -c m rounded down, one pass, and d, swu are corrected exactly after the pass
(kernel.ce_folded_sum, kernel.ce_folded_smooth); positions it cannot fold are passed again unfolded.

The working block (``_Workspace``) is the float32 copy of the block for half types, the logits' own block
when the gradient overwrites them (cross_entropy_overwrite_logits), and otherwise one reused scratch block.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from kernels._blocks import block_bytes, blocks, views
from kernels._generated import torch_ce as _ce
from kernels.torch import _fold
from kernels.torch._ce_gradient import GradientCoefficients


class RowStatistics(NamedTuple):
    """What forward keeps of the logits, each (N, 1, S): m, d, swu (label smoothing only, else None), z_t."""

    m: torch.Tensor
    d: torch.Tensor
    swu: torch.Tensor | None
    zt: torch.Tensor


def class_dot(u: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """sum_j w_j u_j over the classes of a block (rows, C, k) -> (rows, 1, k); the plain sum without weights."""
    if w is None:
        return u.sum(1, keepdim=True)
    if u.shape[2] == 1:
        return torch.mv(u[:, :, 0], w)[:, None, None]  # a matrix-vector product, not a block temporary
    return torch.matmul(w, u)[:, None, :]


class _Workspace:
    """Where a block is computed: a float32 copy (half types), the block itself (overwrite), or a scratch block."""

    def __init__(self, logits: torch.Tensor, acc: torch.dtype, overwrite: bool):
        self.acc, self.cast = acc, logits.dtype != acc
        self.in_place = overwrite and not self.cast
        self.scratch: torch.Tensor | None = None

    def block(self, block: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, buf): the logits to read and the working block to write, for one block of the logits."""
        if self.cast:  # half types: the float32 copy of the block is the working block
            z = block.to(self.acc)
            return z, z
        if self.in_place:
            return block, block
        if self.scratch is None:  # the first block is the largest: later ones take a view of it
            self.scratch = torch.empty(block.shape, dtype=self.acc, device=block.device)
        shape = block.shape
        buf = self.scratch if self.scratch.shape == shape else self.scratch[: shape[0], :, : shape[2]]
        return block, buf


def row_pass(logits, safe_target, weight, eps, acc, overwrite: GradientCoefficients | None = None, fold=None):
    """The RowStatistics of every position. With ``overwrite``, the gradient it describes is written over the
    logits in the same pass. ``fold`` (by default where kernels/torch/_fold.py allows it, never with ``overwrite``)
    forms each block's exponent as c z + s and corrects d and swu after the pass."""
    logits = logits.detach()  # same storage and version counter; its block views skip autograd's view tracking
    n, num_classes, s = logits.shape
    w = weight.to(acc) if weight is not None else None
    m = torch.empty((n, 1, s), dtype=acc, device=logits.device)
    d = torch.empty_like(m)
    zt = torch.empty((n, 1, s), dtype=logits.dtype, device=logits.device)
    swu = torch.empty_like(m) if eps > 0 else None
    workspace = _Workspace(logits, acc, overwrite is not None)
    if fold is None:
        fold = overwrite is None and _fold.folding(logits, acc)
    shift = torch.empty_like(m) if fold else None  # the row shifts s <= -c m
    shifter = _fold.Shift(logits.device) if fold else None
    if overwrite is None:  # z_t of every position in one call; the overwrite gathers each block before writing it
        torch.gather(logits, 1, safe_target, out=zt)
    size = block_bytes(logits.device.type, logits.numel() * logits.element_size())
    block_list = list(blocks(n, num_classes, s, torch.finfo(acc).bits // 8, size))
    targets = overwrite.target_views(block_list) if overwrite is not None else [None] * len(block_list)
    zt_blocks = zt if overwrite is not None else None
    block_views = views(block_list, logits, m, d, zt_blocks, safe_target, shift, swu)
    for (ix, block, mb, db, ztb, safeb, sb, swub), block_targets in zip(block_views, targets, strict=True):
        z, buf = workspace.block(block)
        torch.amax(z, 1, keepdim=True, out=mb)  # m = max_j z_j, straight into m
        if ztb is not None:
            torch.gather(block, 1, safeb, out=ztb)  # z_t while the block is in cache, before the overwrite
        if fold:  # u' = c z + s <= 0 in one fused multiply-add, s = -c m rounded down
            u = _ce.folded_shift_into(buf, z, _fold.C32, shifter.into(sb, mb))
        else:
            u = _ce.base2_shift_into(buf, z, mb)  # u = (z - m) / ln 2 <= 0
        if swub is not None:
            swub.copy_(class_dot(u, w))  # sum_j w_j u_j
        e = _ce.base2_exp_into(buf, u)  # e = 2^u = exp(z - m), in (0, 1]
        torch.sum(e, 1, keepdim=True, out=db)  # d = sum_j e_j, straight into d
        if overwrite is not None:
            overwrite.write(buf, e, overwrite.row_coefficient(db, ix, mb), block_targets)
            if not workspace.in_place:
                block.copy_(buf)
    if fold:
        _unfolded_rows(logits, safe_target, weight, eps, acc, m, d, swu, shift)
    return RowStatistics(m, d, swu, zt.to(acc))


def _unfolded_rows(logits, safe_target, weight, eps, acc, m, d, swu, shift):
    """d = d' / 2^(c m + s) and swu = swu' - (c m + s) sum_j w_j where the pass folded; the rows with a
    position it could not fold (|m| >= 2^23 or not finite) are passed again, unfolded."""
    sw = weight.double().sum() if weight is not None else float(logits.shape[1])  # sum_j w_j
    _fold.unfold(m, shift, d, swu, sw)  # a position that could not fold gets a wrong d here, replaced below
    rows = _fold.unfoldable_rows(m)
    if rows is None:
        return
    again = row_pass(logits[rows], safe_target[rows], weight, eps, acc, fold=False)
    m[rows], d[rows] = again.m, again.d
    if swu is not None:
        swu[rows] = again.swu
