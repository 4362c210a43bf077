"""The findings about targets that need their values: class indices out of range, every position ignored,
weights that sum to 0, probability targets that are not distributions.

Each rule reads NumPy copies of the arguments and appends ``Finding`` objects to a report (kernels/explain/_rules.py).
Rows are taken along the class dimension: an (N, C, d1, ..., dk) input gives N d1 ... dk rows of C values.
"""

from __future__ import annotations

import numpy as np

from kernels import _validate as validate
from kernels.explain._report import Finding

SHOWN = 8  # offending values listed in a message
EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}  # by dtype name


def tolerance(dtype: str, num_classes: int) -> float:
    """How far from 1 a row sum of probabilities may lie: rounding of each value, and of a float32 softmax."""
    return max(1e-3, 2 * EPS.get(dtype, 0.0), num_classes * EPS["float32"])


def rows(x: np.ndarray, class_dim: int) -> np.ndarray:
    """(positions, C): the class dimension last, one row per position, in the order of the flattened target."""
    num_classes = x.shape[class_dim]
    return np.moveaxis(x, class_dim, -1).reshape(x.size // num_classes if num_classes else 0, num_classes)


def _listed(values) -> str:
    shown = ", ".join(str(int(v)) if float(v).is_integer() else str(v) for v in values[:SHOWN])
    return shown + (f" and {len(values) - SHOWN} more" if len(values) > SHOWN else "")


def index_target(report, target: np.ndarray, num_classes: int, ignore: int, weights, dtype: str) -> None:
    """Out-of-range values, ignored and counted positions, the mean's denominator (sum of w_t over kept t)."""
    add = report.findings.append
    t = target.reshape(-1)
    valid = t != ignore  # v_n = [t_n != ignore_index]
    with np.errstate(invalid="ignore"):
        bad = valid & ~((t >= 0) & (t < num_classes))
    report.counted, report.ignored = int(valid.sum()), int(t.size - valid.sum())
    if bad.any():
        offending = np.unique(t[bad])
        message = str(validate.out_of_range(int(t[bad][0]), num_classes, ignore))
        message += f"; {int(bad.sum())} of {t.size} positions hold out-of-range values: {_listed(offending)}. "
        kept = t[valid & ~bad]
        if set(offending.tolist()) == {num_classes} and not (kept == 0).any():
            message += f"The labels run from 1 to {num_classes}: they look 1-based, pass target - 1"
        elif dtype == "uint8" and 255 in offending:
            message += f"uint8 labels cannot equal {ignore}: if 255 marks positions to skip, pass ignore_index=255"
        elif len(offending) == 1 and offending[0] < 0:
            message += f"If {int(offending[0])} marks positions to skip, pass ignore_index={int(offending[0])}"
        else:
            top = int(offending.max())
            message += (
                f"The model has C = {num_classes} outputs but the labels reach {top}: give the last layer "
                f"{top + 1} outputs, or remap the labels to 0 .. {num_classes - 1}"
                if top >= num_classes
                else "Class indices cannot be negative: remap the labels to 0 .. C-1"
            )
        add(Finding("target-out-of-range", "error", message, "IndexError", tuple(offending.tolist())))
        return
    kept = t[valid].astype(np.int64)
    den = float(weights.astype(np.float64)[kept].sum()) if weights is not None else float(kept.size)
    report.mean_denominator = den
    report.denominator_is = (
        f"the sum of weight[target] over the {kept.size} counted positions"
        if weights is not None
        else "the number of counted positions"
    )
    if 0 <= ignore < num_classes:
        add(
            Finding(
                "ignore-index-in-range",
                "info",
                f"ignore_index={ignore} is a class of the input: positions with target {ignore} are not counted, but "
                f"class {ignore} still takes part in every softmax (the model can still put probability on it)",
            )
        )
    if t.size and not kept.size:
        mean = "'mean' divides 0 by 0 and returns nan," if report.reduction == "mean" else "the loss is 0"
        add(
            Finding(
                "all-ignored",
                "warning" if report.reduction == "mean" else "info",
                f"every target equals ignore_index ({ignore}): no position is counted, {mean} and no gradient "
                "flows. Check the labels (is ignore_index the padding value?); skip such batches, or use "
                "reduction='sum' where an empty batch should count 0",
            )
        )
    elif kept.size and den == 0 and report.reduction == "mean":
        add(
            Finding(
                "zero-mean-denominator",
                "warning",
                "every counted target's class has weight 0: 'mean' divides by sum of weight[target] = 0 and returns "
                "nan; give these classes a nonzero weight, or use reduction='sum'",
            )
        )


def probability_target(report, target: np.ndarray | None, has_weight: bool) -> None:
    """Rows of a probability target that are not distributions (negative entries, or a sum away from 1)."""
    report.counted, report.ignored = report.positions, 0
    report.mean_denominator = float(report.positions)
    report.denominator_is = "the number of positions M (with class probabilities no position is ignored)"
    if has_weight:
        report.denominator_is += "; class weights do not enter it, unlike with class indices"
    if target is None or not target.size:
        return
    p = rows(target, report.class_dim)
    with np.errstate(invalid="ignore"):
        sums = p.sum(axis=1, dtype=np.float64)
        negative = (p < 0).any(axis=1)
        off = ~(np.abs(sums - 1) <= tolerance(report.target_dtype, p.shape[1]))  # nan sums count as off
    bad = negative | off
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    what = f"{int(bad.sum())} of {len(p)} rows of the probability target are not distributions (row {first} "
    what += f"sums to {sums[first]:.6g}{', with negative entries' if negative[first] else ''}): torch accepts them "
    what += "silently, and the loss is no longer a cross-entropy"
    what += " (negative entries flip the sign of their terms). " if negative.any() else ". "
    binary = bool(np.isin(p, (0, 1)).all()) and bool((sums > 1).any())
    if binary:
        what += "Rows of 0s and 1s with several 1s are multi-label targets: use binary_cross_entropy_with_logits"
    else:
        what += "Normalise them (target / target.sum(dim=1, keepdim=True)), or, if they are scores, "
        what += "pass target.softmax(dim=1)"
    report.findings.append(Finding("probability-target-not-normalised", "warning", what))
