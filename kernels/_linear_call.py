"""The shape rules of linear_cross_entropy (torch 2.13), shared by both backends: shapes as tuples in, the
layout of the logits it never materialises out.

    input (H) or (N, H),   linear_weight (C, d1, ..., dk, H),   linear_bias (C, d1, ..., dk)
    logits = input @ linear_weight.reshape(C d1 ... dk, H).T + bias, read as (N, C, d1, ..., dk)

Each error is torch's exception type and text, with the fix appended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearCall:
    """How a linear_cross_entropy call is laid out: N rows of H features, C classes at S positions each."""

    rows: int  # N (1 for an unbatched (H,) input)
    in_features: int  # H
    num_classes: int  # C
    positions: int  # S = d1 ... dk (1 without out_features)
    logits_shape: tuple  # (*batch, C, *out_features): the shape cross_entropy would see
    batched: bool
    ignore_index: int  # -100 where None was given


def linear_call(input_shape, weight_shape, bias_shape, target_shape, ignore_index) -> LinearCall:
    """torch's checks of linear_cross_entropy, in its order, then the layout."""
    input_shape, weight_shape, target_shape = tuple(input_shape), tuple(weight_shape), tuple(target_shape)
    if not 1 <= len(input_shape) <= 2:
        raise RuntimeError(
            f"expected input with dimensionality 1 or 2, got {len(input_shape)}: pass (in_features,) or "
            "(N, in_features); flatten other batch dimensions first (input.flatten(0, -2))"
        )
    if len(weight_shape) < 2:
        raise RuntimeError(
            f"expected linear_weight with dimensionality at least 2, got {len(weight_shape)}: pass "
            "(num_classes, in_features), as nn.Linear(in_features, num_classes).weight is"
        )
    in_features = input_shape[-1]
    if in_features != weight_shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {input_shape[-1]} and {weight_shape[-1]}, respectively: linear_weight is "
            "(num_classes, ..., in_features), not its transpose"
        )
    num_classes, out_features = weight_shape[0], weight_shape[1:-1]
    if bias_shape is not None and tuple(bias_shape) != (num_classes, *out_features):
        raise RuntimeError(
            f"expected linear_bias shape {(num_classes, *out_features)}, got {tuple(bias_shape)}: "
            "one bias per output of the linear layer"
        )
    batch = input_shape[:-1]
    if out_features and not batch:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {weight_shape} requires"
            f" batched input, (N, {in_features}), got unbatched"
            f" input with shape {input_shape}: pass input.unsqueeze(0)"
        )
    logits_shape = (*batch, num_classes, *out_features)
    if target_shape == logits_shape and ignore_index is not None:
        raise RuntimeError(
            "ignore_index cannot be specified when target contains probabilities: leave ignore_index=None "
            "(the target has the logits' shape, so it is read as class probabilities)"
        )
    return LinearCall(
        rows=batch[0] if batch else 1,
        in_features=in_features,
        num_classes=num_classes,
        positions=math.prod(out_features),
        logits_shape=logits_shape,
        batched=bool(batch),
        ignore_index=-100 if ignore_index is None else ignore_index,
    )


def matching_dtypes(input_dtype: str, weight_dtype: str, bias_dtype: str | None) -> None:
    """linear's rule: input, linear_weight and linear_bias share one dtype (torch: 'expected m1 and m2 ...')."""
    names = {"float64": "double", "float32": "float", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}
    if weight_dtype != input_dtype or (bias_dtype is not None and bias_dtype != input_dtype):
        other = weight_dtype if weight_dtype != input_dtype else bias_dtype
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {names.get(input_dtype, input_dtype)} != "
            f"{names.get(other, other)}: pass input, linear_weight and linear_bias in one dtype "
            "(linear_weight.to(input.dtype))"
        )
