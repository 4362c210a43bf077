"""One block of a probability target's logits (torch backend), in the working dtype: its statistics and the
gradients of the target and of the class weights. Shared by the linear head's chunks and class blocks and by
both vocab-parallel paths; each caller then writes dL/dz = a exp(z - m) - g w y (kernel.ce_prob_grad) with its
own a and its own merged m, d.

    m = max_j z_j,  d = sum_j exp(z_j - m),  swy = sum_j w_j y_j                   (kernel.shifted_exp)
    part = sum_j w_j y_j (c - z_j) for a reference c: the loss before swy log d    (kernel.ce_prob_term, d = 1)
    dL/dy_k = g (1 - eps) w_k (lse - z_k),  dL/dw_k = sum over rows of g y_k (lse - z_k)
                                                (kernel.ce_prob_target_grad, ce_prob_weight_grad; lse = m + log d)
"""

from __future__ import annotations

import torch

from kernels._generated import torch_ce as _ce


def statistics(z: torch.Tensor, y: torch.Tensor, w_row) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(m, d, swy) of each position of the block, (rows, 1, S)."""
    m = z.amax(1, keepdim=True)  # m = max_j z_j
    d = _ce.shifted_exp(z, m).sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
    return m, d, (y * w_row).sum(1, keepdim=True)  # sum_j w_j y_j


def part(z: torch.Tensor, y: torch.Tensor, w_row, c: torch.Tensor) -> torch.Tensor:
    """sum_j w_j y_j (c - z_j) of each position: the emitted term with d = 1, so log d adds nothing."""
    return _ce.ce_prob_term(z, y, w_row, c, torch.ones_like(c)).sum(1, keepdim=True)


def target_and_weight_grads(z, y, w_row, m, d, g, eps: float, gt=None, gw=None) -> None:
    """dL/dy of the block written into ``gt`` (its view of the target's gradient) and dL/dw of the block's classes
    added to ``gw``, for upstream g per position; None skips either. Read from z before a caller overwrites it."""
    if gt is not None:
        gt.copy_(_ce.ce_prob_target_grad(z, w_row, m, d, eps, g))  # g (1 - eps) w (lse - z)
    if gw is not None:
        gw.add_(_ce.ce_prob_weight_grad(z, y, m, d, g).sum((0, 2)))  # summed over rows and positions: g y (lse - z)
