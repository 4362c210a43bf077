"""The kernels page judges each speed and memory goal from the measurement: a time above its limit is
missed (by how much), a memory figure is met within the +-0.01 L it is measured to, and a goal with no
row in the measurement says so instead of passing."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "hooks"))
import benchmarks_hook


def _row(shape, method, pass_, time=None, memory=None):
    return {
        "shape": shape,
        "options": "plain",
        "method": method,
        "pass": pass_,
        "time_ratio": time,
        "time_ratio_range": [time, time] if time is not None else None,
        "peak_extra_L": memory,
    }


def _line(lines, start):
    (line,) = [x for x in lines if start in x]
    return line


def test_a_time_just_over_its_limit_is_missed_and_memory_within_its_precision_is_met():
    rows = [
        _row("8192x1000", "ours", "forward_backward", time=1.002, memory=1.0),
        _row("4096x32000", "ours", "forward_backward", time=0.25, memory=1.01),
        _row("8192x1000", "ours", "forward", time=1.1, memory=0.07),
        _row("4096x32000", "ours", "forward", time=0.3, memory=0.0),
    ]
    lines = benchmarks_hook._goal_lines(rows)
    assert _line(lines, "forward+backward time <= 1.0x at 8192").startswith("- **missed** (by 0.2%)")
    assert _line(lines, "forward+backward time <= 0.6x").startswith("- met")
    assert _line(lines, "forward+backward peak extra memory <= 1.0 L").startswith("- met")  # 1.01: within 0.01
    assert _line(lines, "forward peak extra memory <= 0.05 L;").startswith("- **missed**")  # 0.07: beyond 0.05 + 0.01
    assert _line(lines, "overwrite_logits: time").startswith("- **not measured**")
