"""Argument checks shared by the NumPy and torch backends: torch's exception types, clearer messages.

Every check takes plain Python values (shapes as tuples, dtypes by name: 'int64', 'float32', ...) so
both backends raise the same exception with the same text. Each message names the problem and the fix.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

#: torch's names for dtypes, as its own messages use them.
TORCH_NAMES = {
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
    "float64": "Double",
    "float32": "Float",
    "float16": "Half",
    "bfloat16": "BFloat16",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}
FLOATING = ("float64", "float32", "float16", "bfloat16")
INDEX_DTYPES = ("int64", "uint8")
#: torch's warning for kl_div(reduction='mean'), word for word (its missing spaces included).
KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


@dataclass(frozen=True)
class CrossEntropyCall:
    """A cross_entropy call's options after validation, and how its target is read."""

    reduction: str
    ignore_index: int
    eps: float  # label smoothing, 0.0 for none
    kind: str  # 'index' (class indices) or 'prob' (class probabilities)


def cross_entropy_call(input_shape, target_shape, input_dtype: str, target_dtype: str, ignore, red, smoothing):
    """cross_entropy's checks, in torch's order (reduction, ignore_index, label_smoothing, the input's dtype, the
    target's kind); shapes as tuples, dtypes by name. Returns the validated CrossEntropyCall."""
    red = reduction(red)
    ignore = ignore_index(ignore, "cross_entropy")
    eps = label_smoothing(smoothing)
    floating_input(input_dtype, "log_softmax")
    kind = ce_target_kind(tuple(input_shape), tuple(target_shape), target_dtype, ignore)
    return CrossEntropyCall(red, ignore, eps, kind)


def dtype_name(name: str) -> str:
    """'Long (int64)': torch's name and the dtype's."""
    return f"{TORCH_NAMES.get(name, name)} ({name})"


def legacy(fn: str, size_average=None, reduce=None) -> None:
    if size_average is not None or reduce is not None:
        raise TypeError(
            f"{fn}: the legacy size_average / reduce arguments are not supported; "
            "pass reduction='none', 'mean' or 'sum' instead"
        )


def reduction(value, allowed=("none", "mean", "sum")) -> str:
    if not isinstance(value, str) or value not in allowed:
        names = ", ".join(repr(a) for a in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{value!r} is not a valid value for reduction; use {names}")
    return value


def label_smoothing(value) -> float:
    """torch's rule: > 1 is an error, anything not > 0 (negative, nan) means no smoothing."""
    value = float(value)
    if value > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {value}; pass a value in [0, 1]")
    return value if value > 0.0 else 0.0


def ignore_index(value, fn: str) -> int:
    """An int, or anything that converts to one exactly (a NumPy integer, a 0-d integer tensor), as torch takes."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{fn}(): argument 'ignore_index' must be int, not {type(value).__name__}; pass an integer class index"
        ) from None


def floating_input(dtype: str, fn: str) -> None:
    if dtype not in FLOATING:
        raise NotImplementedError(
            f'"{fn}" not implemented for {dtype_name(dtype)} input: pass floating-point logits (input.float())'
        )


def ce_target_kind(input_shape: tuple, target_shape: tuple, target_dtype: str, ignore: int) -> str:
    """'prob' when the target has the input's shape (torch's rule), else 'index'; raises on bad targets."""
    if input_shape == target_shape:
        if len(input_shape) == 0 and target_dtype in FLOATING:
            raise IndexError(
                "cross_entropy needs a class dimension, got a 0-d input: pass logits of shape (C,) or (N, C)"
            )
        if target_dtype not in FLOATING:
            fix = "target.argmax(dim=1)" if len(input_shape) > 1 else "target.argmax(dim=0)"
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                f"{TORCH_NAMES.get(target_dtype)}: "
                f"got a {dtype_name(target_dtype)} target with the same shape as the input, which is read as class "
                f"probabilities. Pass class indices (e.g. {fix}) or a float probability target (target.float())."
            )
        if ignore >= 0:
            raise RuntimeError(
                f"ignore_index is not supported for floating point target (got ignore_index={ignore}): class "
                "probabilities have no ignored positions; leave ignore_index at -100 or pass class indices"
            )
        return "prob"
    index_target(input_shape, target_shape, target_dtype)
    return "index"


def index_target(input_shape: tuple, target_shape: tuple, target_dtype: str) -> None:
    """Shape and dtype rules for class-index targets (cross_entropy and nll_loss)."""
    dims = len(input_shape)
    if dims == 0:
        raise IndexError("a 0-d input has no class dimension: pass logits of shape (C,) or (N, C)")
    if dims == 1:
        if len(target_shape) == 1 and target_shape[0] != 1:
            raise ValueError(
                f"For 1D input, 1D target must have size 1, but got target size: {target_shape[0]}; "
                "a (C,) input takes one class index (a 0-d target)"
            )
        if len(target_shape) > 1:
            raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported (got {target_shape})")
    else:
        batch = target_shape[0] if target_shape else 0
        if batch != input_shape[0]:
            raise ValueError(f"Expected input batch_size ({input_shape[0]}) to match target batch_size ({batch}).")
        expected = (input_shape[0], *input_shape[2:])
        if dims == 2 and len(target_shape) != 1:
            fix = (
                "squeeze the last dimension (target.squeeze(1))"
                if target_shape[1:] == (1,)
                else f"pass one class index per row (shape ({input_shape[0]},)) or probabilities of shape {input_shape}"
            )
            raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported: {fix}")
        if dims > 2 and target_shape != expected:
            raise RuntimeError(
                f"Expected target size {list(expected)}, got {list(target_shape)}: an (N, C, d1, ..., dk) input "
                "takes class indices of shape (N, d1, ..., dk)"
            )
    if target_dtype not in INDEX_DTYPES:
        hint = " (for class probabilities, give the target the input's shape)" if target_dtype in FLOATING else ""
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {TORCH_NAMES.get(target_dtype, target_dtype)}: "
            f"class indices must be int64 (target.long()) or uint8{hint}"
        )
    if target_dtype == "uint8" and dims > 2:
        raise RuntimeError(
            "expected scalar type Long but found Byte: uint8 class indices work only with (C) and (N, C) inputs, "
            "as in torch; pass target.long()"
        )


def uint8_with_smoothing(target_dtype: str, has_weight: bool, eps: float, red: str) -> None:
    if target_dtype == "uint8" and has_weight and eps > 0 and red == "mean":
        raise RuntimeError(
            "gather(): Expected dtype int32/int64 for index: torch rejects uint8 class indices with weight, "
            "label_smoothing and reduction='mean'; pass target.long()"
        )


def out_of_range(value: int, num_classes: int, ignore: int) -> IndexError:
    return IndexError(
        f"Target {value} is out of bounds: class indices must lie in [0, {num_classes - 1}] "
        f"(C = {num_classes}) or equal ignore_index ({ignore})"
    )


def weight(shape: tuple, num_classes: int, prefix: str = "") -> None:
    if tuple(shape) != (num_classes,):
        raise RuntimeError(
            f"{prefix}weight tensor should be defined either for all {num_classes} classes or no classes but got "
            f"weight tensor of shape: {list(shape)}; pass a 1-D weight of length {num_classes}"
        )


def weight_dtype(weight_dtype: str, input_dtype: str) -> None:
    if weight_dtype != input_dtype:
        raise RuntimeError(
            f"expected scalar type {TORCH_NAMES.get(input_dtype, input_dtype)} but found "
            f"{TORCH_NAMES.get(weight_dtype, weight_dtype)}: class-index targets need a weight of the input's dtype "
            "(weight.to(input.dtype))"
        )


def same_size(input_shape: tuple, target_shape: tuple) -> None:
    """binary_cross_entropy_with_logits: the target must have the input's shape."""
    if tuple(input_shape) != tuple(target_shape):
        raise ValueError(
            f"Target size ({tuple(target_shape)}) must be the same as input size ({tuple(input_shape)}); "
            "reshape the target to the input's shape"
        )


def broadcast(a: tuple, b: tuple, what: str) -> tuple:
    """The broadcast shape of a and b, or torch's RuntimeError naming the mismatching dimension."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            dim = max(len(a), len(b)) - i
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension "
                f"{dim}: {what} must broadcast against shape {tuple(a)}"
            )
        out.append(y if x == 1 else x)
    return tuple(reversed(out))
