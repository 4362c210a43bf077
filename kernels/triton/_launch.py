"""Host side of the kernels: the class-last view of the logits, the per-row buffers, the launches.

    class_last(x)   (N, C, S) -> (N S, C) with unit class stride: a view for (N, C) rows, a copy for S > 1
    back(g, shape)  (N S, C) -> (N, C, S), a view
    index_forward   m, d and the loss terms of every row (and, given g, the gradient over ``grad``)
    index_backward  the gradient from m and d
    prob_forward, prob_backward, nll_forward, nll_backward   the same for probabilities and for nll_loss

Buffers are float32, one slot per row. Arguments a launch does not use get a placeholder tensor (its kernel
branch is compiled out by the constexpr flag). Nothing here reads device data: no synchronisation.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from kernels._extras import Extras
from kernels.triton import _index_kernels, _nll_kernels, _prob_kernels, _runtime


class RowTerms(NamedTuple):
    """Per-row float32 results of a forward launch, each (N S,): m, d, nll, smooth and z-loss (or None)."""

    m: torch.Tensor
    d: torch.Tensor
    nll: torch.Tensor
    smooth: torch.Tensor | None
    zl: torch.Tensor | None


def class_last(x3: torch.Tensor) -> torch.Tensor:
    """(N, C, S) -> (N S, C), rows n-major (row n S + s), unit stride along the classes."""
    n, c, s = x3.shape
    z = x3[:, :, 0] if s == 1 else x3.movedim(1, -1).reshape(n * s, c)
    return z if c <= 1 or z.stride(1) == 1 else z.contiguous()


def back(grad: torch.Tensor, shape) -> torch.Tensor:
    """The class-last rows (N S, C) as (N, C, S) again (a view)."""
    n, c, s = shape
    return grad[:, :, None] if s == 1 else grad.view(n, s, c).movedim(-1, 1)


def weight_sum(weight, num_classes: int, device) -> torch.Tensor:
    """sum_j w_j as a 1-element float32 tensor (read by the kernel: no host synchronisation); C without weights."""
    if weight is None:
        return torch.full((1,), float(num_classes), dtype=torch.float32, device=device)
    return weight.float().sum().reshape(1)


def _flags(weight, eps: float, extras: Extras) -> dict:
    return {
        "HAS_W": weight is not None,
        "SMOOTH": eps > 0,
        "ZLOSS": extras.z_loss > 0,
        "HAS_CAP": extras.cap is not None,
    }


def _config(num_classes: int) -> dict:
    block = _runtime.block_size(num_classes)
    return {"BLOCK": block, "num_warps": _runtime.num_warps(block)}


def index_forward(z, target, weight, ignore_index, eps, extras: Extras, g=None, gz=None, grad=None) -> RowTerms:
    """Forward over class-last logits z (R, C) and int64 targets (R,) (range-checked by the caller). With ``g``
    (R,) (and ``gz`` for the z-loss) the gradient for that upstream is written into ``grad`` (may be z)."""
    rows, num_classes = z.shape
    f32 = {"dtype": torch.float32, "device": z.device}
    m, d, nll = (torch.empty(rows, **f32) for _ in range(3))
    smooth = torch.empty(rows, **f32) if eps > 0 else None
    zl = torch.empty(rows, **f32) if extras.z_loss > 0 else None
    if rows:
        place = m  # a placeholder for the pointers a flag compiles out
        _index_kernels.index_forward[(rows,)](
            z, z.stride(0), target, weight if weight is not None else place, weight_sum(weight, num_classes, z.device),
            m, d, nll, smooth if smooth is not None else place, zl if zl is not None else place,
            g if g is not None else place, gz if gz is not None else place,
            grad if grad is not None else z, grad.stride(0) if grad is not None else 0,
            num_classes, ignore_index, float(eps), float(extras.z_loss), float(extras.cap or 1.0),
            WRITE_GRAD=g is not None, **_flags(weight, eps, extras), **_config(num_classes),
        )  # fmt: skip
    return RowTerms(m, d, nll, smooth, zl)


def index_backward(z, target, weight, ignore_index, eps, extras: Extras, m, d, g, gz=None) -> torch.Tensor:
    """The gradient (R, C) in z's dtype for the upstream g (R,) of each row (and gz of its z-loss)."""
    rows, num_classes = z.shape
    grad = torch.empty_like(z, memory_format=torch.contiguous_format)
    if rows:
        _index_kernels.index_backward[(rows,)](
            z, z.stride(0), target, weight if weight is not None else m, weight_sum(weight, num_classes, z.device),
            m, d, g, gz if gz is not None else g, grad, grad.stride(0),
            num_classes, ignore_index, float(eps), float(extras.z_loss), float(extras.cap or 1.0),
            **_flags(weight, eps, extras), **_config(num_classes),
        )  # fmt: skip
    return grad


class ProbTerms(NamedTuple):
    """Per-row float32 results of a probability-target forward, each (N S,): m, d, loss, swy, z-loss (or None)."""

    m: torch.Tensor
    d: torch.Tensor
    loss: torch.Tensor
    swy: torch.Tensor
    zl: torch.Tensor | None


def prob_forward(z, y, weight, eps, extras: Extras) -> ProbTerms:
    """Forward over class-last logits z (R, C) and probabilities y (R, C)."""
    rows, num_classes = z.shape
    f32 = {"dtype": torch.float32, "device": z.device}
    m, d, loss, swy = (torch.empty(rows, **f32) for _ in range(4))
    zl = torch.empty(rows, **f32) if extras.z_loss > 0 else None
    if rows:
        _prob_kernels.prob_forward[(rows,)](
            z, z.stride(0), y, y.stride(0), weight if weight is not None else m, m, d, loss, swy,
            zl if zl is not None else m, num_classes, float(eps), float(extras.z_loss), float(extras.cap or 1.0),
            **_flags(weight, eps, extras), **_config(num_classes),
        )  # fmt: skip
    return ProbTerms(m, d, loss, swy, zl)


def prob_backward(z, y, weight, eps, extras: Extras, m, d, swy, g, gz=None) -> torch.Tensor:
    """The logits' gradient (R, C) in z's dtype for the upstream g (R,) of each row (and gz of its z-loss)."""
    rows, num_classes = z.shape
    grad = torch.empty_like(z, memory_format=torch.contiguous_format)
    if rows:
        _prob_kernels.prob_backward[(rows,)](
            z, z.stride(0), y, y.stride(0), weight if weight is not None else m, m, d, swy, g,
            gz if gz is not None else g, grad, grad.stride(0), num_classes, float(eps), float(extras.z_loss),
            float(extras.cap or 1.0), **_flags(weight, eps, extras), **_config(num_classes),
        )  # fmt: skip
    return grad


def nll_forward(x, target, weight, ignore_index) -> torch.Tensor:
    """-w_t x_t of every class-last row of log-probabilities x (R, C), float32 (R,)."""
    loss = torch.empty(x.shape[0], dtype=torch.float32, device=x.device)
    if x.shape[0]:
        w = weight if weight is not None else loss
        _nll_kernels.nll_forward[(x.shape[0],)](x, x.stride(0), target, w, loss, ignore_index, HAS_W=weight is not None)
    return loss


def nll_backward(x, target, weight, ignore_index, g) -> torch.Tensor:
    """The gradient (R, C) in x's dtype: -g w_t at each kept row's target, 0 elsewhere."""
    grad = torch.zeros(x.shape, dtype=x.dtype, device=x.device)
    if x.shape[0]:
        w = weight if weight is not None else g
        _nll_kernels.nll_backward[(x.shape[0],)](
            grad, grad.stride(0), target, w, g, ignore_index, HAS_W=weight is not None
        )
    return grad
