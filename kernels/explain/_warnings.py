"""The opt-in misuse warnings: each backend owns a ``MisuseFlag``; while it is on, cross_entropy passes its
arguments to explain and ``warn`` emits the report's ``warning`` findings as kernels.MisuseWarning (errors
are left to the call itself, so it still raises torch's exception type)."""

from __future__ import annotations

import os
import sys
import warnings

import kernels
from kernels import MisuseWarning
from kernels.explain._report import Report


class MisuseFlag:
    """Whether a backend's cross_entropy emits explain's warnings (``on``); off by default."""

    def __init__(self):
        self.on = False

    def set(self, enabled: bool) -> _Restore:
        """Turn the warnings on or off now; used with ``with``, the previous setting returns on exit."""
        restore = _Restore(self, self.on)
        self.on = bool(enabled)
        return restore


class _Restore:
    def __init__(self, flag: MisuseFlag, previous: bool):
        self._flag, self._previous = flag, previous

    def __enter__(self) -> _Restore:
        return self

    def __exit__(self, *exc) -> None:
        self._flag.on = self._previous


def _stacklevel() -> int:
    """The stack level of the first frame outside kernels/ and torch.nn's modules: the user's call."""
    inside = [os.path.dirname(kernels.__file__) + os.sep]
    if "torch" in sys.modules:
        inside.append(os.path.join(os.path.dirname(sys.modules["torch"].__file__), "nn", "modules") + os.sep)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(tuple(inside)):
        frame, level = frame.f_back, level + 1
    return level


def warn(report: Report) -> None:
    """Each ``warning`` finding as a MisuseWarning, attributed to the line that called cross_entropy."""
    for finding in report.warnings:
        warnings.warn(MisuseWarning(f"{finding.code}: {finding.message}", finding), stacklevel=_stacklevel())
