"""What explain returns: a ``Report`` of how cross_entropy reads its arguments, and its ``Finding`` objects.

``Arg`` is one argument as the backend-neutral rules see it: its shape, dtype name and a NumPy copy of its
values. ``str(report)`` is the readable summary that ``print(kernels.torch.explain(...))`` shows.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np


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


@dataclass(frozen=True)
class Arg:
    """One argument as explain sees it: shape, dtype name ('float32', 'int64', ...), values (or None)."""

    shape: tuple
    dtype: str
    values: np.ndarray | None


@dataclass
class Report:
    """How cross_entropy reads its arguments, and the findings. ``str(report)`` is a readable summary."""

    input_shape: tuple
    input_dtype: str
    target_shape: tuple
    target_dtype: str
    reduction: object
    ignore_index: object
    label_smoothing: object
    target_kind: str | None = None  # 'class indices' or 'class probabilities' (None: no class dimension)
    why: str = ""  # the shape rule that decided target_kind
    class_dim: int | None = None
    num_classes: int | None = None  # C
    positions: int | None = None  # M = N d1 ... dk, the positions a loss is computed at
    counted: int | None = None  # positions that enter the loss (target != ignore_index)
    ignored: int | None = None
    mean_denominator: float | None = None  # what 'mean' divides the summed loss by (None when torch raises)
    denominator_is: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def errors(self) -> list[Finding]:
        """Findings torch raises for: the call fails."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Silent mistakes: the call runs, but probably not as meant."""
        return [f for f in self.findings if f.severity == "warning"]

    def __str__(self) -> str:
        return self.format()

    def format(self, width: int = 80) -> str:
        """The summary, wrapped at ``width`` characters."""
        call = (
            f"cross_entropy(input {shape_text(self.input_shape)} {self.input_dtype}, target "
            f"{shape_text(self.target_shape)} {self.target_dtype}, reduction={self.reduction!r}, "
            f"ignore_index={self.ignore_index!r}, label_smoothing={self.label_smoothing!r})"
        )
        lines = [_wrapped(call, width, indent=4)]
        rows = [("target", f"{self.target_kind}: {self.why}" if self.target_kind else self.why)]
        if self.num_classes is not None:
            rows.append(("classes", f"dim {self.class_dim}, C = {self.num_classes}"))
        if self.positions is not None:
            seen = f"{self.positions}" if self.counted is None else f"{self.positions}: {self.counted} counted"
            if self.ignored is not None and self.target_kind == "class indices":
                seen += f", {self.ignored} ignored (target == {self.ignore_index})"
            rows.append(("positions", seen))
        if self.mean_denominator is not None:
            verb = "divides" if self.reduction == "mean" else f"(not used by reduction={self.reduction!r}) would divide"
            rows.append(("mean", f"{verb} the summed loss by {_number(self.mean_denominator)}, {self.denominator_is}"))
        elif self.errors:
            rows.append(("result", f"torch raises {self.errors[0].raises}"))
        lines += [_wrapped(f"{name:<10}{text}", width) for name, text in rows]
        lines.append("findings" if self.findings else "findings  none")
        lines += [_wrapped(f"  {f.severity:<8}{f.code}: {f.message}", width) for f in self.findings]
        return "\n".join(lines)


def shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.6g}"


def _wrapped(text: str, width: int, indent: int = 10) -> str:
    return textwrap.fill(text, width=width, subsequent_indent=" " * indent, break_on_hyphens=False)
