"""The findings that need the values: targets out of range, ignored positions, probabilities passed as logits,
probability targets that are not distributions, float16 sums that overflow in torch.

Each rule reads NumPy copies of the arguments and appends ``Finding`` objects to a report (kernels/_explain.py).
Rows are taken along the class dimension: an (N, C, d1, ..., dk) input gives N d1 ... dk rows of C values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels import _validate as _v

F16_MAX = 65504.0  # float16's largest finite value
MARGIN = 4  # a float16 sum within this factor of F16_MAX is reported: losses move during training
SIGMOID_MIN_VALUES = 32  # zero-centred raw logits all land in (0, 1) with probability <= 2**-32 from here on
SHOWN = 8  # offending values listed in a message


@dataclass(frozen=True)
class Finding:
    """One thing explain found: a stable ``code``, a ``severity`` and a ``message`` that names the fix.

    severity: 'error' (torch raises ``raises``), 'warning' (a silent mistake: the call runs, but probably not as
    meant) or 'info' (a fact about correct usage). ``values``: the offending values, where there are some.
    """

    code: str
    severity: str
    message: str
    raises: str | None = None
    values: tuple = ()

    def __str__(self) -> str:
        return f"{self.severity} [{self.code}] {self.message}"


EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}  # by dtype name


def _tolerance(dtype: str, num_classes: int) -> float:
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
        message = str(_v.out_of_range(int(t[bad][0]), num_classes, ignore))
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
        off = ~(np.abs(sums - 1) <= _tolerance(report.target_dtype, p.shape[1]))  # nan sums count as off
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


#: autograd nodes whose output is probabilities or log-probabilities, by what they apply
SQUASHES = {
    "SigmoidBackward0": "sigmoid",
    "SoftmaxBackward0": "softmax",
    "LogSoftmaxBackward0": "log_softmax",
    "LogSigmoidBackward0": "logsigmoid",
}


def _looks_like(x: np.ndarray, report, has_history: bool) -> str | None:
    """What the values alone say: 'softmax rows', 'log_softmax rows', 'sigmoid values' or nothing."""
    num_classes = report.num_classes
    if num_classes < 2 or not x.size:
        return None
    r = rows(x, report.class_dim)
    lo, hi, tol = float(r.min()), float(r.max()), _tolerance(report.input_dtype, num_classes)
    if lo >= 0 and hi <= 1 and np.all(np.abs(r.sum(axis=1, dtype=np.float64) - 1) <= tol):
        return "softmax rows"
    if hi <= 0:
        with np.errstate(divide="ignore"):
            lse = np.log(np.exp(r.astype(np.float64)).sum(axis=1))  # log sum_c exp(x_c); x <= 0 cannot overflow
        if np.all(np.abs(lse) <= tol):
            return "log_softmax rows"
    if lo > 0 and hi < 1 and x.size >= SIGMOID_MIN_VALUES and not has_history:
        return "sigmoid values"
    return None


def _as_logits(report, x: np.ndarray, squash: str | None, has_history: bool) -> Finding | None:
    """probabilities-as-logits, from the autograd history (``squash``: a node name) or else from the values."""
    applied = SQUASHES.get(squash) if squash else None
    seen = None if applied else _looks_like(x, report, has_history)
    if applied is None and seen is None:
        return None
    fix = "pass the logits (the tensor before it): cross_entropy applies log_softmax itself"
    if applied == "log_softmax" or seen == "log_softmax rows":
        said = (
            f"The input went through log_softmax ({squash} in its autograd history)"
            if applied
            else "Every row of the input is <= 0 and its exponentials sum to 1: it looks like log_softmax output"
        )
        return Finding(
            "probabilities-as-logits",
            "warning",
            f"{said}. The loss equals that of the logits (log_softmax leaves log-probabilities unchanged), but "
            f"log_softmax runs twice: {fix}, or keep the log-probabilities and call nll_loss",
        )
    num_classes = report.num_classes
    floor = math.log1p((num_classes - 1) / math.e) if num_classes >= 2 else 0.0  # log(e + C - 1) - 1
    harm = (
        f"cross_entropy expects raw logits, and with every score in [0, 1] the loss cannot fall below "
        f"log(1 + (C-1)/e) = {floor:.3g} (C = {num_classes}) while the gradient is squashed too: training barely moves"
    )
    if applied == "logsigmoid":
        harm = "cross_entropy expects raw logits, and logsigmoid scores each class on its own"
    if applied:
        multi = "; for independent yes/no labels use binary_cross_entropy_with_logits" if applied != "softmax" else ""
        said = f"The input went through {applied} ({squash} in its autograd history): {harm}. Remove the {applied} "
        return Finding("probabilities-as-logits", "warning", f"{said}and {fix}{multi}")
    if seen == "softmax rows":
        said = "Every row of the input lies in [0, 1] and sums to 1: these look like softmax probabilities, not logits"
        return Finding("probabilities-as-logits", "warning", f"{said}; {harm}. Remove the softmax and {fix}")
    return Finding(
        "probabilities-as-logits",
        "warning",
        f"All {x.size} values of the input lie strictly between 0 and 1, as sigmoid outputs do. If the model ends in "
        f"a sigmoid (or softmax), remove it: {harm}. If these really are logits, ignore this",
    )


def input_values(report, x, kind, target, weights, ignore: int, eps: float, squash, has_history: bool) -> None:
    """probabilities-as-logits, non-finite values, and float16 sums that overflow in torch."""
    add = report.findings.append
    finite = bool(np.isfinite(x).all())
    nan, inf = (0, 0) if finite else (int(np.isnan(x).sum()), int(np.isposinf(x).sum()))
    if nan or inf:
        add(
            Finding(
                "non-finite-input",
                "warning",
                f"the input holds {nan} nan and {inf} +inf values: the loss of their rows is nan (for an ignored "
                "row, its gradient is); find where they come from (torch.autograd.set_detect_anomaly(True)) or "
                "check the data",
            )
        )
    found = _as_logits(report, x, squash, has_history) if finite or squash else None
    if found:
        add(found)
    if x.dtype == np.float16 and x.size and finite:
        found = _half_sums(report, x, kind, target, weights, ignore, eps)
        if found:
            add(found)


def _half_sums(report, x, kind, target, weights, ignore: int, eps: float) -> Finding | None:
    """The sums torch's float16 cross_entropy keeps in float16, estimated in float64, against 65504."""
    num_classes = report.num_classes
    z = rows(x, report.class_dim).astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    logp = z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))  # log_softmax, max-shifted
    w = np.ones(num_classes) if weights is None else weights.astype(np.float64)
    row, total = [], []  # (what, value): per-position sums (every reduction), sums over positions (sum, mean)
    if kind == "index" and target is not None:
        t = target.reshape(-1).astype(np.int64)
        kept = t != ignore
        safe = np.where(kept, t, 0)
        nll = np.where(kept, -w[safe] * logp[np.arange(len(t)), safe], 0.0)  # -w_t log p_t
        total.append(("the sum over positions of -weight[t] log p_t", nll.sum()))
        if eps > 0:  # torch's smoothing term: -sum_c w_c log p_c in each row, then over positions
            smooth = np.where(kept, -(logp * w).sum(axis=1), 0.0)
            row.append(("the label-smoothing sum of -weight[c] log p_c over a row's C classes", smooth.max()))
            total.append(("the label-smoothing sum over all positions and classes", smooth.sum()))
    elif kind == "prob" and target is not None:
        p = rows(target, report.class_dim).astype(np.float64)
        p = (1 - eps) * p + eps / num_classes if eps > 0 else p  # (1 - eps) p + eps / C
        loss = -(w * p * logp).sum(axis=1)  # -sum_c w_c p_c log q_c in each row
        row.append(("the largest row sum of -weight[c] p_c log q_c", np.abs(loss).max()))
        total.append(("the sum of the row losses over positions", loss.sum()))
    over = [(what, abs(v)) for what, v in row if abs(v) > F16_MAX / MARGIN]
    if report.reduction in ("sum", "mean"):
        over += [(what, abs(v)) for what, v in total if abs(v) > F16_MAX / MARGIN]
    den = report.mean_denominator
    if report.reduction == "mean" and kind == "index" and den is not None and den > F16_MAX:  # a count: it stays
        over.append(("the mean's denominator (sum of weight[target] over counted positions)", den))
    if not over:
        return None
    now = any(v > F16_MAX for _, v in over)
    listed = "; ".join(f"{what} is about {v:,.0f}" for what, v in over)
    if not now:
        verdict = f"within a factor {MARGIN} of that: torch's loss turns inf as it grows"
    elif any(what.startswith("the mean's denominator") for what, _ in over):
        verdict = "so torch's denominator is inf and its mean 0"
    else:
        verdict = "so torch returns inf"
    return Finding(
        "half-precision-overflow-risk",
        "warning",
        f"float16 input: torch adds these up in float16, whose largest finite value is 65504: {listed}; {verdict}. "
        "Compute the loss in float32 (cross_entropy(input.float(), target)), or use kernels.torch / kernels.numpy, "
        "which sum half-precision inputs in float32 and stay finite",
    )
