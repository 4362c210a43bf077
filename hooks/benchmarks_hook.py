"""MkDocs hook: a page shows the measured benchmark, docs/data/benchmarks.json, as goals, a table and a plot.

Marker in a page's Markdown:

    <!-- benchmarks -->   where and when it was measured, each goal with whether the measurement meets it,
                          the table of time ratios and peak memory, and a plot of both

The JSON is what ``python -m benchmarks --json docs/data/benchmarks.json`` writes; nothing here measures.
The plot is drawn by matplotlib at build time and embedded as an SVG data URI (text drawn as paths, no
external font or request). A missing or malformed file is a build warning, so a strict build fails.
"""

from __future__ import annotations

import base64
import io

from benchmark_page import ROOT, cached_plot, measured_on, substitute, table, words_of
from benchmarks_words import WORDS

DATA = ROOT / "docs" / "data" / "benchmarks.json"
MARKER = "<!-- benchmarks -->"
TIME = [  # (method, pass, column heading): time ratios to F.cross_entropy in the same pass
    ("ours", "forward", "fwd"),
    ("ours", "forward_backward", "f+b"),
    ("ours_inplace", "forward_backward", "overwrite f+b"),
    ("numpy", "forward_backward", "NumPy"),
]
MEMORY = [  # (method, pass, column heading): peak extra memory in L
    ("ours", "forward", "fwd"),
    ("ours", "forward_grad", "fwd (grad)"),
    ("ours", "forward_backward", "f+b"),
    ("ours_inplace", "forward_backward", "overwrite f+b"),
    ("numpy", "forward_backward", "NumPy"),
]
# (what, method, pass, quantity, limit, which shapes): the goals of the speed-and-memory work
GOALS = [
    ("forward+backward time <= 0.6x at C >= 32000", "ours", "forward_backward", "time_ratio", 0.6, "large"),
    ("forward+backward time <= 1.0x at 8192 x 1000", "ours", "forward_backward", "time_ratio", 1.0, "small"),
    ("forward time <= 0.6x at C >= 32000", "ours", "forward", "time_ratio", 0.6, "large"),
    ("forward peak extra memory <= 0.05 L", "ours", "forward", "peak_extra_L", 0.05, "all"),
    ("forward peak extra memory <= 0.05 L, logits requiring grad", "ours", "forward_grad", "peak_extra_L", 0.05, "all"),
    ("forward+backward peak extra memory <= 1.0 L", "ours", "forward_backward", "peak_extra_L", 1.0, "all"),
    ("overwrite_logits: peak extra memory <= 0.05 L", "ours_inplace", "forward_backward", "peak_extra_L", 0.05, "all"),
    ("overwrite_logits: time <= 0.3x at C >= 32000", "ours_inplace", "forward_backward", "time_ratio", 0.3, "large"),
    ("NumPy loss+gradient time <= 1.0x at every shape", "numpy", "forward_backward", "time_ratio", 1.0, "all"),
]


def _words(lang: str) -> dict:
    return words_of(WORDS, lang)


def _classes(shape: str) -> int:
    return int(shape.split("x")[1])


def _goal_lines(rows: list[dict], lang: str = "en") -> list[str]:
    words = _words(lang)
    lines = []
    for what, method, pass_, quantity, limit, scope in GOALS:
        picked = [
            r
            for r in rows
            if r["method"] == method
            and r["pass"] == pass_
            and r.get(quantity) is not None
            and (scope == "all" or (_classes(r["shape"]) >= 32000) == (scope == "large"))
        ]
        what = words["goals"].get(what, what)
        if not picked:
            lines.append(f"- {words['not_measured']}: {what}")
            continue
        worst = max(picked, key=lambda r: r[quantity])
        unit = "x" if quantity == "time_ratio" else " L"
        # memory figures are exact to +-0.01 L (one allocation page-rounding), the precision the goals are stated in
        met = worst[quantity] <= limit + (0.01 if quantity == "peak_extra_L" else 0.0)
        mark = words["met"] if met else words["missed"].format(by=worst[quantity] / limit - 1)
        rounds = worst.get("time_ratio_range") if quantity == "time_ratio" else None
        spread = words["spread"].format(low=rounds[0], high=rounds[1]) if rounds else ""
        where = f"{worst['shape']}, {worst['options']}{spread}"
        median = words["median"] if rounds else ""
        lines.append(
            "- "
            + words["goal"].format(mark=mark, what=what, median=median, value=worst[quantity], unit=unit, where=where)
        )
    return lines


def _index(rows: list[dict]) -> tuple[dict, list[tuple[str, str]]]:
    index = {(r["shape"], r["options"], r["method"], r["pass"]): r for r in rows}
    return index, list(dict.fromkeys((r["shape"], r["options"]) for r in rows))


def _table(rows: list[dict], columns: list[tuple], quantity: str, fmt: str, extra=None, lang: str = "en") -> list[str]:
    words = _words(lang)
    index, cases = _index(rows)
    head = [words["case"], *(h for _, _, h in columns), *([extra[0]] if extra else [])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for shape, options in cases:
        cells = []
        for method, pass_, _ in columns:
            value = (index.get((shape, options, method, pass_)) or {}).get(quantity)
            cells.append("-" if value is None else fmt.format(value))
        if extra:
            cells.append(extra[1](index, shape, options))
        lines.append(f"| {shape}, {_short(options)} | " + " | ".join(cells) + " |")
    return lines


def _short(options: str) -> str:
    return "plain" if options == "plain" else "w+ign+ls"


def _torch_memory(index, shape, options) -> str:
    rows = [index.get((shape, options, "torch", p)) for p in ("forward", "forward_backward")]
    return " / ".join(f"{r['peak_extra_L']:.2f}" for r in rows if r and r.get("peak_extra_L") is not None)


def _torch_times(index, shape, options) -> str:
    rows = [index.get((shape, options, "torch", p)) for p in ("forward", "forward_backward")]
    return " / ".join(f"{r['torch_seconds'] * 1e3:.0f} ms" for r in rows if r and r.get("torch_seconds"))


def _plot(rows: list[dict]) -> str:
    """The plot, in English in every edition (its text is drawn into the SVG; see WORDS)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "benchmarks", "font.size": 11})
    index, cases = _index(rows)
    labels = [f"{s}\n{_short(o)}" for s, o in cases]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.4), facecolor="white")
    colors = {"torch": "0.6", "ours": "#3f51b5", "ours_inplace": "#e53935", "numpy": "#43a047"}
    names = {("ours", "forward"): "cross_entropy forward", ("ours", "forward_backward"): "cross_entropy fwd+bwd"}
    names.update({("ours_inplace", "forward_backward"): "cross_entropy_overwrite_logits fwd+bwd"})
    names.update({("numpy", "forward_backward"): "NumPy cross_entropy_with_grad"})
    names.update({("torch", "forward_backward"): "F.cross_entropy fwd+bwd"})
    panels = [
        (axes[0], "time_ratio", TIME, "time, multiple of F.cross_entropy's in the same pass (dashed: 1)"),
        (
            axes[1],
            "peak_extra_L",
            [("torch", "forward_backward", ""), *MEMORY[2:], MEMORY[0]],
            "peak extra memory, in L (dashed: 1 L; overwrite: 0)",
        ),
    ]
    handles = {}
    for panel, quantity, series, title in panels:
        width = 0.84 / len(series)
        for i, (method, pass_, _) in enumerate(series):
            values = [(index.get((*case, method, pass_)) or {}).get(quantity) or 0.0 for case in cases]
            xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(cases))]
            color = "#9fa8da" if (method, pass_) == ("ours", "forward") else colors[method]
            handles[names[(method, pass_)]] = panel.bar(xs, values, width, color=color)
        panel.axhline(1.0, color="0.2", linewidth=0.8, linestyle="--")
        panel.set_xticks(range(len(cases)), labels, fontsize=9)
        panel.set_title(title)
        panel.grid(axis="y", color="0.9")
        panel.set_axisbelow(True)
    order = [names[k] for k in names]
    fig.legend([handles[n] for n in order], order, loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render(data: dict, lang: str = "en") -> str:
    """The Markdown that replaces the marker, in the words of edition ``lang``."""
    words = _words(lang)
    meta, rows = data["meta"], data["rows"]
    load = meta.get("load_average", {})
    where = measured_on(
        words["where"],
        meta,
        numpy=meta.get("numpy", "?"),
        before=", ".join(map(str, load.get("before", []))),
        after=", ".join(map(str, load.get("after", []))),
    )
    if meta.get("allocator"):
        where += words["allocator"].format(allocator=meta["allocator"])
    svg = cached_plot(__file__, rows, _plot)
    image = f'<img alt="{words["alt"]}" src="data:image/svg+xml;base64,{svg}">'
    return "\n".join(
        [
            where,
            "",
            *_goal_lines(rows, lang),
            "",
            words["time"],
            "",
            *table(_table(rows, TIME, "time_ratio", "{:.2f}x", (words["torch"], _torch_times), lang)),
            "",
            words["memory"],
            "",
            *table(_table(rows, MEMORY, "peak_extra_L", "{:.2f}", (words["torch"], _torch_memory), lang)),
            "",
            f'<figure class="benchmarks-plot">{image}</figure>',
            "",
        ]
    )


def on_page_markdown(markdown: str, page, config, files) -> str:
    return substitute(markdown, page, config, marker=MARKER, data=DATA, render=render, what="benchmarks")
