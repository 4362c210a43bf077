"""What cross_entropy will do with these arguments, and the silent mistakes: the rules behind ``explain``.

Backend-neutral: the front ends (kernels/explain/_frontends.py) hand over each argument as an ``Arg`` (shape,
dtype name, a NumPy copy of its values), plus, for torch, the name of a squashing node found in the input's
autograd history. Whatever torch rejects is found by the checks of kernels/_validate.py (the ones the kernels
raise with): each raised error becomes an ``error`` finding that carries its message and the exception type
torch raises. The silent mistakes that need values are in _target_rules.py and _input_rules.py.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from kernels import _validate as validate
from kernels.explain import _input_rules, _target_rules
from kernels.explain._report import Arg, Finding, Report, shape_text

__all__ = ["analyse"]


def _rejected(code: str, check, *args, message: str | None = None, **kwargs) -> Finding | None:
    """Run one of kernels/_validate.py's checks: its error as an ``error`` finding (torch's type), or None."""
    try:
        check(*args, **kwargs)
    except Exception as exc:  # every exception the rule raises is what torch raises: it is data here
        return Finding(code, "error", message or str(exc), raises=type(exc).__name__)
    return None


def _add(report: Report, *found: Finding | None) -> None:
    report.findings.extend(f for f in found if f is not None)


def _options(report: Report, reduction, ignore_index, label_smoothing) -> tuple[int, float]:
    """The option checks, in cross_entropy's order; (ignore_index, eps) to read the rest with."""
    add = report.findings.append
    _add(report, _rejected("invalid-reduction", validate.reduction, reduction))
    _add(report, _rejected("ignore-index-type", validate.ignore_index, ignore_index, "cross_entropy"))
    ignore = ignore_index if isinstance(ignore_index, numbers.Integral) and not isinstance(ignore_index, bool) else -100
    try:  # torch takes anything float() takes (a 0-d tensor too), except text
        label_smoothing = float(label_smoothing) if not isinstance(label_smoothing, (str, bytes)) else None
    except (TypeError, ValueError):
        label_smoothing = None
    if label_smoothing is None:
        kind = type(report.label_smoothing).__name__
        add(Finding("label-smoothing-type", "error", f"label_smoothing must be a float, not {kind}", "TypeError"))
        return int(ignore), 0.0
    found = _rejected("label-smoothing-range", validate.label_smoothing, label_smoothing)
    if found:
        add(found)
        return int(ignore), 1.0
    if not label_smoothing >= 0:  # negative or nan: torch silently smooths nothing
        add(
            Finding(
                "negative-label-smoothing",
                "warning",
                f"label_smoothing={label_smoothing} is treated as 0 (no smoothing) by torch, without an error: "
                "pass a value in [0, 1]",
            )
        )
    return int(ignore), validate.label_smoothing(label_smoothing)


def _target_kind(report: Report, inp: Arg, tgt: Arg) -> str:
    """torch's shape rule: 'prob' when the target has the input's shape, else 'index'."""
    dims = len(inp.shape)
    if inp.shape == tgt.shape:
        report.target_kind = "class probabilities"
        report.why = (
            f"the target has the input's shape {shape_text(inp.shape)} (torch's rule: same shape = probabilities)"
        )
        return "prob"
    report.target_kind = "class indices"
    if dims == 1:
        report.why = "a (C,) input takes one class index, a 0-d target"
    elif dims == 2:
        report.why = (
            f"the target's shape {shape_text(tgt.shape)} is not the input's {shape_text(inp.shape)}; "
            "an (N, C) input takes (N,) class indices"
        )
    else:
        report.why = (
            f"the target's shape {shape_text(tgt.shape)} is not the input's {shape_text(inp.shape)}; "
            "an (N, C, d1, ..., dk) input takes class indices of shape (N, d1, ..., dk) = "
            f"{shape_text((inp.shape[0], *inp.shape[2:]))}"
        )
    return "index"


def _index_target(report: Report, inp: Arg, tgt: Arg, eps: float) -> np.ndarray | None:
    """Shape and dtype of a class-index target; its values in the index shape, or None when they are unusable."""
    dims, shape, values = len(inp.shape), tgt.shape, tgt.values
    expected = () if dims == 1 else (inp.shape[0], *inp.shape[2:])
    if dims >= 2 and shape == (inp.shape[0], 1, *inp.shape[2:]):  # (N, 1) for (N, C): one dimension too many
        spatial = (  # _validate's message names squeeze(1) for (N, 1) only
            f"Expected target size {list(expected)}, got {list(shape)}: the target has an extra dimension of size 1 "
            "at dim 1; squeeze it (target.squeeze(1))"
        )
        message = spatial if dims > 2 else None
        _add(report, _rejected("target-column", validate.index_target, inp.shape, shape, "int64", message=message))
        values = None if values is None else values.reshape(expected)
    elif dims == 1 and shape == (1,):
        torch_raises = eps > 0  # forward raises with label smoothing; backward always
        message = (
            "a (C,) input with a (1,) target: torch's forward takes it as one class index, but backward raises "
            "(size mismatch) and so does label smoothing (output with shape [] doesn't match the broadcast shape [1]); "
            "pass a 0-d target (target.squeeze(0)), or give the input a batch dimension (input.unsqueeze(0))"
        )
        severity, raises = ("error", "RuntimeError") if torch_raises else ("warning", None)
        _add(report, Finding("one-element-target", severity, message, raises))
        values = None if values is None else values.reshape(())
    else:
        found = _rejected("target-shape", validate.index_target, inp.shape, shape, "int64")
        if found:
            _add(report, found)
            return None
    if tgt.dtype in validate.INDEX_DTYPES:
        _add(report, _rejected("uint8-target", validate.index_target, inp.shape, expected, tgt.dtype))
        return values
    if tgt.dtype in validate.FLOATING and values is not None and _whole(values):
        found = _rejected("float-class-indices", validate.index_target, inp.shape, expected, tgt.dtype)
        whole = "; its values are whole numbers, so they are class indices: pass target.long()"
        _add(report, Finding(found.code, "error", found.message + whole, found.raises))
        return values
    _add(report, _rejected("index-target-dtype", validate.index_target, inp.shape, expected, tgt.dtype))
    return values if tgt.dtype in ("int32", "int16", "int8", "bool") else None


def _whole(values: np.ndarray) -> bool:
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def _weight(report: Report, inp: Arg, wt: Arg | None, kind: str, weight_requires_grad: bool) -> None:
    if wt is None:
        return
    prefix = "cross_entropy: " if kind == "prob" else ""
    found = _rejected("weight-shape", validate.weight, wt.shape, report.num_classes, prefix=prefix)
    if found is None and kind == "index":
        found = _rejected("weight-dtype", validate.weight_dtype, wt.dtype, inp.dtype)
        if found is None and weight_requires_grad:
            found = Finding(
                "weight-requires-grad",
                "error",
                "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight': with class "
                "indices torch rejects a weight that requires grad; pass weight.detach()",
                "RuntimeError",
            )
    _add(report, found)


def analyse(
    inp: Arg,
    tgt: Arg,
    wt: Arg | None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
    *,
    squash: str | None = None,
    has_history: bool = False,
    weight_requires_grad: bool = False,
) -> Report:
    """The report for cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing).

    squash: the name of a sigmoid / softmax / log_softmax node in the input's autograd history (torch);
    has_history: whether the input has one at all (the weak 'all values in (0, 1)' rule is for inputs without).
    """
    report = Report(inp.shape, inp.dtype, tgt.shape, tgt.dtype, reduction, ignore_index, label_smoothing)
    ignore, eps = _options(report, reduction, ignore_index, label_smoothing)
    _add(report, _rejected("input-dtype", validate.floating_input, inp.dtype, "log_softmax"))
    if not inp.shape:
        kind = _rejected("no-class-dimension", validate.ce_target_kind, (), tgt.shape, tgt.dtype, ignore)
        message = "cross_entropy needs a class dimension, got a 0-d input: pass logits of shape (C,) or (N, C)"
        _add(report, Finding("no-class-dimension", "error", message, kind.raises if kind else "IndexError"))
        report.why = "none: a 0-d input has no class dimension"
        return report
    report.class_dim = 0 if len(inp.shape) == 1 else 1
    report.num_classes = num_classes = inp.shape[report.class_dim]
    report.positions = 1 if len(inp.shape) == 1 else math.prod(inp.shape[:1] + inp.shape[2:])  # M = N d1 ... dk
    kind = _target_kind(report, inp, tgt)
    usable = wt is not None and wt.values is not None and wt.shape == (num_classes,) and wt.values.dtype.kind in "biuf"
    weights = wt.values if usable else None
    if kind == "prob":
        _add(report, _rejected("one-hot-index-target", validate.ce_target_kind, inp.shape, tgt.shape, tgt.dtype, -1))
        if ignore >= 0:
            found = _rejected(
                "ignore-index-with-probabilities", validate.ce_target_kind, inp.shape, tgt.shape, "float32", ignore
            )
            _add(report, found)
        _weight(report, inp, wt, kind, weight_requires_grad)
        target = tgt.values if tgt.dtype in validate.FLOATING else None
        _target_rules.probability_target(report, target, wt is not None)
    else:
        target = _index_target(report, inp, tgt, eps)
        _weight(report, inp, wt, kind, weight_requires_grad)
        if tgt.dtype == "uint8" and not report.errors:
            _add(
                report,
                _rejected("uint8-target", validate.uint8_with_smoothing, tgt.dtype, wt is not None, eps, reduction),
            )
        if target is not None:
            _target_rules.index_target(report, target, num_classes, ignore, weights, tgt.dtype)
            target = None if "target-out-of-range" in report.codes else target
    if inp.dtype in validate.FLOATING and inp.values is not None:
        _input_rules.input_values(report, inp.values, kind, target, weights, ignore, eps, squash, has_history)
    if report.positions == 0 and reduction == "mean":
        message = "there are no positions (an empty batch): 'mean' of nothing is nan; skip empty batches or use "
        _add(report, Finding("empty-input", "warning", message + "reduction='sum'"))
    if report.errors:
        report.mean_denominator, report.denominator_is = None, ""
    return report
