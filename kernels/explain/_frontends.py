"""explain's front ends: torch tensors or NumPy arrays in, a Report out.

kernels.torch.explain and kernels.numpy.explain call ``from_torch`` / ``from_numpy``, which hand the
arguments to kernels/explain/_rules.py as shapes, dtype names and NumPy copies, then, given ``run`` (the
backend's own cross_entropy, passed in by the backend: explain imports no backend), run it as a last
check: anything it rejects that no rule named becomes a ``rejected`` error finding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kernels.explain._input_rules import SQUASHES
from kernels.explain._report import Arg, Finding, Report
from kernels.explain._rules import analyse

#: autograd nodes that only move, select or copy values (names without "Backward<k>"): the walk looks through them
MOVES = {
    "Alias",
    "AsStrided",
    "Clone",
    "Expand",
    "Index",
    "Permute",
    "Select",
    "Slice",
    "Squeeze",
    "T",
    "ToCopy",
    "Transpose",
    "Unsqueeze",
    "UnsafeView",
    "View",
}
HISTORY_DEPTH = 8  # nodes walked back from the input's grad_fn
TORCH_ERRORS = (RuntimeError, IndexError, ValueError, TypeError, NotImplementedError)


def squash_in_history(tensor) -> str | None:
    """The name of a sigmoid / softmax / log_softmax node behind ``tensor``, through view and copy nodes only."""
    node = getattr(tensor, "grad_fn", None)
    for _ in range(HISTORY_DEPTH):
        if node is None:
            return None
        name = node.name()
        if name in SQUASHES:
            return name
        if name.rstrip("0123456789").removesuffix("Backward") not in MOVES:
            return None
        inputs = [f for f, _ in node.next_functions if f is not None]
        node = inputs[0] if len(inputs) == 1 else None
    return None


def _torch_arg(t) -> Arg:
    dtype = str(t.dtype).removeprefix("torch.")
    try:
        v = t.detach()
        v = v.float() if dtype == "bfloat16" else v  # NumPy has no bfloat16; float32 holds every bfloat16 exactly
        values = v.resolve_conj().resolve_neg().cpu().numpy()
    except Exception:  # meta, sparse or quantized tensors: shapes and dtypes only
        values = None
    return Arg(tuple(t.shape), dtype, values)


def _require(kind, fn: str, **args) -> None:
    for name, value in args.items():
        if value is not None and not isinstance(value, kind):
            raise TypeError(
                f"{fn}(): argument '{name}' must be a {kind.__module__}.{kind.__name__}, not {type(value).__name__}"
            )


def from_torch(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, *, run: Callable | None = None
):
    """The report for kernels.torch.cross_entropy(input, target, ...); ``run``: that cross_entropy, called on
    detached copies under no_grad as a last check (None: no last check)."""
    import torch

    _require(torch.Tensor, "explain", input=input, target=target, weight=weight)
    tensors = [t for t in (input, target, weight) if t is not None]
    report = analyse(
        _torch_arg(input),
        _torch_arg(target),
        None if weight is None else _torch_arg(weight),
        ignore_index,
        reduction,
        label_smoothing,
        squash=squash_in_history(input),
        has_history=input.grad_fn is not None,
        weight_requires_grad=weight is not None and weight.requires_grad,
    )
    devices = sorted({str(t.device) for t in tensors})
    if len(devices) > 1:
        message = (
            f"Expected all tensors to be on the same device, but found {', '.join(devices)}: move the target "
            "and weight to the input's device (target.to(input.device))"
        )
        report.findings.insert(0, Finding("device-mismatch", "error", message, "RuntimeError"))
    if run is not None and not report.errors:
        detached = [None if t is None else t.detach() for t in (input, target, weight)]
        with torch.no_grad():
            _run(report, run, *detached, ignore_index, reduction, label_smoothing)
    return report


def _numpy_arg(x, name: str) -> Arg:
    try:
        a = np.asarray(x)
    except Exception as exc:  # ragged lists and the like: not an array at all
        raise TypeError(f"explain(): {name} must be a numeric array, got {type(x).__name__} ({exc})") from None
    if a.dtype.kind not in "biufc":
        raise TypeError(f"explain(): {name} must be a numeric array, got {type(x).__name__} of dtype {a.dtype}")
    return Arg(a.shape, a.dtype.name, a)


def from_numpy(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, *, run: Callable | None = None
):
    """The report for kernels.numpy.cross_entropy(input, target, ...); ``run``: that cross_entropy, called as a
    last check (None: no last check)."""
    inp, tgt = _numpy_arg(input, "input"), _numpy_arg(target, "target")
    wt = None if weight is None else _numpy_arg(weight, "weight")
    report = analyse(inp, tgt, wt, ignore_index, reduction, label_smoothing)
    if run is not None and not report.errors:
        arrays = (inp.values, tgt.values, None if wt is None else wt.values)
        _run(report, run, *arrays, ignore_index, reduction, label_smoothing)
    return report


def _run(report: Report, run: Callable, input, target, weight, ignore_index, reduction, label_smoothing) -> None:
    """The last check: the backend's cross_entropy itself (no misuse warnings), its error a ``rejected`` finding."""
    try:
        run(input, target, weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    except TORCH_ERRORS as exc:  # the exception types torch raises for bad arguments (a bug raises on)
        report.findings.append(Finding("rejected", "error", str(exc), type(exc).__name__))
        report.mean_denominator, report.denominator_is = None, ""
