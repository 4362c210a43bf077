"""The findings about the input that need its values: probabilities passed as logits (from the autograd
history or from the values), non-finite values, float16 sums that overflow in torch.

Each rule reads a NumPy copy of the input and appends ``Finding`` objects to a report (kernels/explain/_rules.py).
"""

from __future__ import annotations

import math

import numpy as np

from kernels.explain._report import Finding
from kernels.explain._target_rules import rows, tolerance

F16_MAX = 65504.0  # float16's largest finite value
MARGIN = 4  # a float16 sum within this factor of F16_MAX is reported: losses move during training
SIGMOID_MIN_VALUES = 32  # zero-centred raw logits all land in (0, 1) with probability <= 2**-32 from here on


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
    lo, hi, tol = float(r.min()), float(r.max()), tolerance(report.input_dtype, num_classes)
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
