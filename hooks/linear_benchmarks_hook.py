"""MkDocs hook: the linear head's benchmark, docs/data/linear_benchmarks.json, as goals, a table and a plot.

Marker in a page's Markdown:

    <!-- benchmarks-linear -->   where and when it was measured, each goal with whether the measurement meets
                                 it, the table of time ratios and peak memory, and a plot of both against C

The JSON is what ``python -m benchmarks.linear --json docs/data/linear_benchmarks.json`` writes; nothing
here measures. A missing or malformed file is a build warning, so a strict build fails.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.linear_benchmarks")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "data" / "linear_benchmarks.json"
MARKER = "<!-- benchmarks-linear -->"
NAMES = {
    "reference": "F.cross_entropy(F.linear(h, W), t)",
    "torch_chunked": "F.linear_cross_entropy, LinearCrossEntropyOptions()",
    "torch_compile": "torch.compile of the reference line",
    "ours": "kernels.torch.linear_cross_entropy",
}
SHORT = {"reference": "reference", "torch_chunked": "torch chunked", "torch_compile": "torch.compile", "ours": "ours"}
# (what, quantity, limit): quantity is a row field of 'ours', or 'vs_chunked' (ours / torch_chunked's ratio)
GOALS = [
    ("forward+backward time <= 0.75x the reference", "time_ratio", 0.75),
    ("forward+backward time <= 0.6x torch's chunked path", "vs_chunked", 0.6),
    ("peak memory beyond the gradients <= 0.05 L", "peak_extra_L", 0.05),
    ("forward without gradients <= 0.02 L", "forward_extra_L", 0.02),
]


def _ours(rows: list[dict]) -> list[dict]:
    chunked = {(r["shape"], r["options"]): r["time_ratio"] for r in rows if r["method"] == "torch_chunked"}
    out = []
    for r in rows:
        if r["method"] == "ours":
            ratio = chunked.get((r["shape"], r["options"]))
            out.append({**r, "vs_chunked": None if not ratio else r["time_ratio"] / ratio})
    return out


def _goal_lines(rows: list[dict]) -> list[str]:
    lines = []
    compiled = [r for r in rows if r["method"] == "torch_compile"]
    for what, quantity, limit in GOALS:
        picked = [r for r in _ours(rows) if r.get(quantity) is not None]
        if not picked:
            lines.append(f"- **not measured**: {what}")
            continue
        worst = max(picked, key=lambda r: r[quantity])
        unit = " L" if quantity.endswith("_L") else "x"
        met = worst[quantity] <= limit + (0.005 if unit == " L" else 0.0)
        mark = "met" if met else f"**missed** (by {worst[quantity] / limit - 1:.0%})"
        lines.append(f"- {mark}: {what}; worst {worst[quantity]:.2f}{unit} ({worst['shape']}, {worst['options']})")
    if not compiled:
        lines.append("- **not measured**: ahead of torch.compile of the reference line (`--compile`)")
    return lines


def _table(rows: list[dict]) -> list[str]:
    lines = ["| N x H x C, options | method | f+b time (single rounds) | memory f+b / fwd |", "|---|---|---|---|"]
    for r in rows:
        low, high = r.get("time_ratio_range") or (r["time_ratio"], r["time_ratio"])
        memory = [r.get(k) for k in ("peak_extra_L", "forward_extra_L")]
        memory = "-" if None in memory else f"{memory[0]:.3f} / {memory[1]:.3f} L"
        options = "plain" if r["options"] == "plain" else "w+ign+ls"
        time = f"{r['time_ratio']:.2f}x ({low:.2f}-{high:.2f})"
        lines.append(f"| {r['shape']}, {options} | {SHORT[r['method']]} | {time} | {memory} |")
    return lines


def _plot(rows: list[dict]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "linear-benchmarks", "font.size": 11})
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), facecolor="white")
    colors = {"reference": "0.55", "torch_chunked": "#fb8c00", "torch_compile": "#8e24aa", "ours": "#3f51b5"}
    for options, style in (("plain", "-"), ("weight+ignore+ls", "--")):
        for method in NAMES:
            mine = sorted(
                (int(r["shape"].split("x")[2]), r) for r in rows if r["method"] == method and r["options"] == options
            )
            if not mine:
                continue
            classes = [c for c, _ in mine]
            label = f"{NAMES[method]}{'' if options == 'plain' else ' (w+ign+ls)'}"
            axes[0].plot(
                classes, [r["time_ratio"] for _, r in mine], style, marker="o", color=colors[method], label=label
            )
            memory = [r.get("peak_extra_L") for _, r in mine]
            if all(m is not None for m in memory):
                axes[1].plot(classes, [max(m, 1e-3) for m in memory], style, marker="o", color=colors[method])
    axes[0].set_title("forward + backward time, multiple of the reference")
    axes[1].set_title("peak memory beyond the gradients, in L (log)")
    axes[1].set_yscale("log")
    for panel in axes:
        panel.set_xscale("log")
        panel.set_xlabel("classes C (vocabulary)")
        panel.grid(color="0.9")
    fig.legend(loc="lower center", ncol=2, frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render(data: dict) -> str:
    meta, rows = data["meta"], data["rows"]
    where = (
        f"Measured on **{meta.get('machine', '?')}** on **{meta.get('date', '?')}** (torch {meta.get('torch', '?')}, "
        f"{meta.get('rounds', '?')} rounds, float32, one thread; allocator: {meta.get('allocator', 'default')})."
    )
    image = f'<img alt="Time and memory of each linear head" src="data:image/svg+xml;base64,{_plot(rows)}">'
    note = (
        "Reference: `F.cross_entropy(F.linear(h, W), t)`; torch chunked: `F.linear_cross_entropy(..., "
        "options=LinearCrossEntropyOptions())`, which falls back to the reference with label smoothing; ours: "
        "`kernels.torch.linear_cross_entropy`; w+ign+ls: weight, ignore_index and label_smoothing=0.1 set. "
        "**Time**: median over rounds of the ratio to the reference timed right before it, forward + backward. "
        "**Memory**: peak resident memory of one call beyond the inputs and the gradients it returns, in "
        "L = N C 4 bytes; fwd: a forward without gradients."
    )
    block = [where, "", *_goal_lines(rows), "", note, "", '<div class="benchmarks-table" markdown>', ""]
    return "\n".join([*block, *_table(rows), "", "</div>", "", f'<figure class="benchmarks-plot">{image}</figure>', ""])


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    try:
        block = render(json.loads(DATA.read_text()))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("linear benchmarks: cannot show %s on %s: %s", DATA.relative_to(ROOT), page.file.src_path, exc)
        return markdown
    return markdown.replace(MARKER, block)
