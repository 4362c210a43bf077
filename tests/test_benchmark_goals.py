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


import linear_benchmarks_hook  # noqa: E402


def _linear(method, options="plain", time=1.0, memory=None, forward=None):
    return {"shape": "2048x512x32000", "options": options, "method": method, "time_ratio": time,
            "time_ratio_range": [time, time], "peak_extra_L": memory, "forward_extra_L": forward}  # fmt: skip


def test_the_linear_heads_goals_are_judged_from_the_measurement():
    rows = [
        _linear("reference", memory=2.7, forward=2.0),
        _linear("torch_chunked", time=1.6, memory=0.27, forward=0.01),
        _linear("ours", time=0.89, memory=0.031, forward=0.035),
    ]
    lines = linear_benchmarks_hook._goal_lines(rows)
    assert _line(lines, "<= 0.75x the reference").startswith("- **missed** (by 19%)")
    assert _line(lines, "0.6x torch's chunked").startswith("- met")  # 0.89 / 1.6 = 0.56 of torch's chunked time
    assert _line(lines, "beyond the gradients <= 0.05 L").startswith("- met")
    assert _line(lines, "forward without gradients <= 0.02 L").startswith("- **missed**")
    assert _line(lines, "torch.compile").startswith("- **not measured**")
    rows[1]["time_ratio"] = 1.4  # 0.89 / 1.4 = 0.64: above 0.6
    assert _line(linear_benchmarks_hook._goal_lines(rows), "0.6x torch's chunked").startswith("- **missed** (by 6%)")
    table = linear_benchmarks_hook._table(rows)
    assert len(table) == 2 + len(rows) and "| ours | 0.89x (0.89-0.89) | 0.031 / 0.035 L |" in table[-1]


import compiled_benchmarks_hook  # noqa: E402


def _compiled(method, ratio, shape="4096x32000"):
    return {"shape": shape, "options": "plain", "method": method, "ratio_to_compiled_torch": ratio,
            "range": [ratio, ratio]}  # fmt: skip


def test_the_compiled_goals_are_judged_from_the_measurement():
    rows = [
        _compiled("ours compiled", 0.92),
        _compiled("ours compiled", 1.07, "8192x1000"),
        _compiled("ours eager", 0.9),
    ]
    lines = compiled_benchmarks_hook._goal_lines(rows)
    assert _line(lines, "<= 1.0x compiled").startswith("- **missed** (by 7%)") and "met at 1 of 2" in lines[0]
    assert _line(lines, "stretch").startswith("- **missed**")
    rows[1]["ratio_to_compiled_torch"] = 0.75
    assert _line(compiled_benchmarks_hook._goal_lines(rows), "<= 1.0x compiled").startswith("- met")
    table = compiled_benchmarks_hook._table(rows)
    assert "| 4096x32000, plain | 0.92x (0.92-0.92) | 0.90x (0.90-0.90) | - |" in table
    assert compiled_benchmarks_hook._goal_lines([])[0].startswith("- **not measured**")


import vocab_parallel_hook  # noqa: E402


def test_the_vocab_parallel_table_comes_from_the_measurement_in_both_editions():
    row = {"shape": "4096x32000", "ranks": 2, "options": "ls", "ours_bytes_per_token": 12.0, "ours_collectives": 2,
           "header_bytes": 72, "gather_bytes_per_token": 64000.0, "megatron_bytes_per_token": 12.0,
           "sharded_seconds": 0.5, "single_seconds": 1.25}  # fmt: skip
    data = {"meta": {"date": "2026-12-03", "machine": "a CPU", "torch": "2.13.0", "rounds": 5}, "rows": [row]}
    english = vocab_parallel_hook.render(data)
    assert "| 4096x32000, 2, label smoothing 0.1 | 12 | 64000 | 12 | 2 (the 72-byte header check" in english
    assert "| 0.40x (500 / 1250 ms) |" in english and "**a CPU**" in english
    korean = vocab_parallel_hook.render(data, "ko")
    assert "레이블 스무딩 0.1 | 12 | 64000 | 12 | 2번 (72바이트 헤더 확인" in korean and "0.40x" in korean


import linear_tradeoff_hook  # noqa: E402


def test_the_linear_tradeoff_table_names_each_chunking_in_both_editions():
    rows = [
        {"shape": "2048x512x32000", "method": "three_matmuls", "time_ratio": 0.68, "time_ratio_range": [0.6, 0.7]},
        {"shape": "2048x512x32000", "method": "ours_rows_512", "time_ratio": 0.78, "time_ratio_range": [0.7, 0.8],
         "peak_extra_L": 0.25},
    ]  # fmt: skip
    data = {"meta": {"date": "2026-12-03", "machine": "a CPU", "torch": "2.13.0", "rounds": 3}, "rows": rows}
    english = linear_tradeoff_hook.render(data)
    assert "| 2048x512x32000 | the three matrix products alone, unchunked | 0.68x (0.60-0.70) | - |" in english
    assert "| 2048x512x32000 | ours, `batch_chunk_size=512` | 0.78x (0.70-0.80) | 0.250 L |" in english
    assert "우리 구현, `batch_chunk_size=512`" in linear_tradeoff_hook.render(data, "ko")
