"""MkDocs hook: cross-entropy inside torch.compile, docs/data/compiled_benchmarks.json, as goals and a table.

Marker in a page's Markdown:

    <!-- benchmarks-compiled -->   where and when it was measured, each goal with whether the measurement
                                   meets it, and the table of time ratios to the compiled F.cross_entropy

The JSON is what ``python -m benchmarks.compiled --json docs/data/compiled_benchmarks.json`` writes; nothing
here measures. A missing or malformed file is a build warning, so a strict build fails.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.compiled_benchmarks")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "data" / "compiled_benchmarks.json"
MARKER = "<!-- benchmarks-compiled -->"
COLUMNS = ("ours compiled", "ours eager", "torch eager")
# (what, method, limit): ratios to torch.compile(F.cross_entropy), forward + backward
GOALS = [
    ("compiled with ours <= 1.0x compiled with F.cross_entropy, every shape", "ours compiled", 1.0),
    ("stretch: compiled with ours <= 0.8x, every shape", "ours compiled", 0.8),
]


def _goal_lines(rows: list[dict]) -> list[str]:
    lines = []
    for what, method, limit in GOALS:
        picked = [r for r in rows if r["method"] == method]
        if not picked:
            lines.append(f"- **not measured**: {what}")
            continue
        worst = max(picked, key=lambda r: r["ratio_to_compiled_torch"])
        ratio = worst["ratio_to_compiled_torch"]
        met = [r for r in picked if r["ratio_to_compiled_torch"] <= limit]
        mark = "met" if ratio <= limit else f"**missed** (by {ratio / limit - 1:.0%})"
        lines.append(
            f"- {mark}: {what}; worst {ratio:.2f}x ({worst['shape']}, {worst['options']}); "
            f"met at {len(met)} of {len(picked)}"
        )
    return lines


def _table(rows: list[dict]) -> list[str]:
    cells = {(r["shape"], r["options"], r["method"]): r for r in rows}
    keys = list(dict.fromkeys((r["shape"], r["options"]) for r in rows))
    lines = ["| N x C, options | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for shape, options in keys:
        row = []
        for method in COLUMNS:
            r = cells.get((shape, options, method))
            low, high = (r or {}).get("range") or (None, None)
            row.append("-" if r is None else f"{r['ratio_to_compiled_torch']:.2f}x ({low:.2f}-{high:.2f})")
        short = "plain" if options == "plain" else "w+ign+ls"
        lines.append(f"| {shape}, {short} | " + " | ".join(row) + " |")
    return lines


def render(data: dict) -> str:
    meta, rows = data["meta"], data["rows"]
    where = (
        f"Measured on **{meta.get('machine', '?')}** on **{meta.get('date', '?')}** (torch {meta.get('torch', '?')}, "
        f"{meta.get('rounds', '?')} rounds, float32, one thread, inductor)."
    )
    note = (
        "Each figure is forward + backward of `loss = f(logits, target); loss.backward()`, as the median over "
        "rounds of its ratio to `torch.compile(F.cross_entropy)` timed right before it (range in brackets). "
        "**ours compiled**: `torch.compile` of the same function calling `kernels.torch.cross_entropy` "
        "(`fullgraph=True`); **ours eager**, **torch eager**: the two functions not compiled. w+ign+ls: weight, "
        "ignore_index and label_smoothing=0.1 set."
    )
    block = [where, "", *_goal_lines(rows), "", note, "", '<div class="benchmarks-table" markdown>', ""]
    return "\n".join([*block, *_table(rows), "", "</div>", ""])


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    try:
        block = render(json.loads(DATA.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("compiled benchmarks: cannot show %s on %s: %s", DATA.relative_to(ROOT), page.file.src_path, exc)
        return markdown
    return markdown.replace(MARKER, block)
