"""What the NumPy backend's losses share: arrays in, the working dtype, the upstream gradient, the reduction.

    g = grad_output (ones of the loss's shape by default) / den for 'mean' and 'batchmean'   (``upstream``)
    loss = the terms ('none'), their sum ('sum'), that sum / den ('mean', 'batchmean')       (``reduce``)

float16 is computed and summed in float32 (``working_dtype``).
"""

from __future__ import annotations

import numpy as np


def as_array(x, what: str) -> np.ndarray:
    """``x`` as a NumPy array of numbers; TypeError naming the argument otherwise."""
    x = np.asarray(x)
    if x.dtype.kind not in "biufc":
        raise TypeError(f"{what} must be a numeric array, got dtype {x.dtype}")
    return x


def working_dtype(dtype) -> np.dtype:
    """The dtype the kernels compute and sum in: float32 for float16, else the dtype itself."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def reduce(values: np.ndarray, reduction: str, den, dtype) -> np.ndarray:
    """The loss from its terms: themselves ('none'), their sum ('sum'), the sum / den ('mean', 'batchmean')."""
    if reduction == "none":
        return values.astype(dtype)
    total = values.sum(dtype=values.dtype)
    return np.asarray(total / den if reduction in ("mean", "batchmean") else total).astype(dtype)


def upstream(grad_output, reduction: str, den, shape, acc) -> np.ndarray:
    """dL/d(each loss term): grad_output (ones of the loss's ``shape`` by default) in ``acc``, divided by ``den``
    for 'mean' and 'batchmean'."""
    g = np.ones(shape if reduction == "none" else (), dtype=acc) if grad_output is None else np.asarray(grad_output)
    g = g.astype(acc)
    return g / den if reduction in ("mean", "batchmean") else g
