"""The layout both backends compute in: logits viewed as (N, C, S), never copied class-last.

N rows, C classes, S spatial positions (S = 1 for an (N, C) input); a (C,) input is one row. Plain shape
tuples in and out, so kernels.torch and kernels.numpy read shapes the same way.
"""

from __future__ import annotations

import math


def layout(shape: tuple) -> tuple[int, int, int]:
    """(C) -> (1, C, 1); (N, C) -> (N, C, 1); (N, C, d1, ..., dk) -> (N, C, d1 ... dk), as explicit sizes
    (an empty tensor reshapes too)."""
    if len(shape) == 1:
        return 1, shape[0], 1
    return shape[0], shape[1], math.prod(shape[2:])


def loss_shape(shape: tuple) -> tuple:
    """The loss's shape for reduction='none': () for a (C) input, (N, d1, ..., dk) for (N, C, d1, ..., dk)."""
    return () if len(shape) == 1 else (shape[0], *shape[2:])


def class_count(shape: tuple) -> int:
    """C: the size of the class dimension (dim 0 of a (C) input, dim 1 otherwise)."""
    return shape[0] if len(shape) == 1 else shape[1]
