"""Class-index targets and the (N, C, S) view of the logits (torch backend).

``index_checks`` checks what every class-index path shares and can see without reading data (the weight's
shape and dtype, torch's uint8 limit); ``safe_targets`` checks the target range and returns the targets as
(N, 1, S) int64 with ignored positions set to 0 (``safe_target``, so that a gather never reads out of
bounds) and the mask of kept positions (inside the custom ops of kernels/torch/_ops.py, so that a compiled
graph never breaks on it); ``index_rows`` does both. On CUDA the
range check costs one device synchronisation per call; ``with unchecked_targets():`` skips it there.
"""

from __future__ import annotations

import contextlib
import contextvars

import torch

from kernels import _validate as validate
from kernels._layout import layout, loss_shape

_UNCHECKED = contextvars.ContextVar("kernels_unchecked_targets", default=False)


@contextlib.contextmanager
def unchecked_targets():
    """Skip the range check of class-index targets on CUDA (saves one device sync per call).

    An out-of-range target then reads out of bounds on the device: use only with targets known good.
    CPU targets are always checked (the check costs no synchronisation there).
    """
    token = _UNCHECKED.set(True)
    try:
        yield
    finally:
        _UNCHECKED.reset(token)


def dtype_name(dtype: torch.dtype) -> str:
    """'float32' for torch.float32: the name kernels/_validate.py's checks take."""
    return str(dtype).removeprefix("torch.")


def classes(x: torch.Tensor) -> torch.Tensor:
    """(C) -> (1, C, 1); (N, C) -> (N, C, 1); (N, C, d1, ..., dk) -> (N, C, d1 ... dk): views, no class-last copy."""
    return x.reshape(layout(tuple(x.shape)))


def shape_output(out: torch.Tensor, input: torch.Tensor, reduction: str) -> torch.Tensor:
    """The loss in torch's shape: () for 'mean' and 'sum', the input's shape without the class dimension for 'none'."""
    return out if reduction != "none" else out.reshape(loss_shape(tuple(input.shape)))


def index_checks(input, target, weight, ignore_index, eps=0.0, reduction="none", *, shape=None) -> tuple:
    """What every class-index path checks from shapes and dtypes alone (no data read: safe under torch.compile):
    the weight's shape, dtype and requires_grad, torch's uint8 limit. Returns the (N, C, S) layout."""
    rows, num_classes, positions = layout(tuple(input.shape) if shape is None else tuple(shape))
    if weight is not None:
        validate.weight(tuple(weight.shape), num_classes)
        validate.weight_dtype(dtype_name(weight.dtype), dtype_name(input.dtype))
    validate.uint8_with_smoothing(dtype_name(target.dtype), weight is not None, eps, reduction)
    if weight is not None and weight.requires_grad:
        raise RuntimeError(
            "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'. This input "
            "cannot have requires_grad True (as in torch, for class-index targets): pass weight.detach()"
        )
    return rows, num_classes, positions


def safe_targets(t: torch.Tensor, num_classes: int, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(safe_target, valid) of int64 targets: raises IndexError for a kept target outside [0, C) (on CUDA
    unless ``unchecked_targets()``), then sets the ignored ones to 0. Reads the data: one sync on CUDA."""
    valid = t != ignore_index
    if (t.device.type == "cpu" or not _UNCHECKED.get()) and t.numel():
        low, high = torch.stack(torch.aminmax(t)).tolist()  # one pass, one device sync on CUDA
        if not 0 <= low <= high < num_classes:  # some target outside [0, C): ignored, or an error
            bad = valid & ((t < 0) | (t >= num_classes))
            if bool(bad.any()):
                raise validate.out_of_range(int(t[bad][0]), num_classes, ignore_index)
    return torch.where(valid, t, 0), valid


def index_rows(input, target, weight, ignore_index, eps=0.0, reduction="none", *, shape=None):
    """(safe_target, valid), (N, 1, S): int64 class indices with ignored positions set to 0, and the kept ones.

    ``index_checks`` first, then the target range (``safe_targets``).
    ``shape``: the logits' shape when ``input`` is not the logits (linear_cross_entropy's input).
    """
    rows, num_classes, positions = index_checks(input, target, weight, ignore_index, eps, reduction, shape=shape)
    return safe_targets(target.reshape(rows, 1, positions).long(), num_classes, ignore_index)
