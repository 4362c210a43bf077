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

from benchmark_page import ROOT, cached_plot, measured_on, substitute, table, words_of

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
#: The words around the figures in each edition; "goals" translates each goal's ``what`` above and "short"
#: the table's method names (English: as they are). The plot stays in English in every edition: its labels
#: (NAMES) are drawn into the SVG by matplotlib.
WORDS = {
    "en": {
        "where": "Measured on **{machine}** on **{date}** (torch {torch}, {rounds} rounds, float32, one thread; "
        "allocator: {allocator}).",
        "default": "default",
        "not_measured": "**not measured**",
        "met": "met",
        "missed": "**missed** (by {by:.0%})",
        "goal": "{mark}: {what}; worst {value:.2f}{unit} ({shape}, {options})",
        "goals": {},
        "compile": "ahead of torch.compile of the reference line (`--compile`)",
        "head": "| N x H x C, options | method | f+b time (single rounds) | memory f+b / fwd |",
        "short": SHORT,
        "alt": "Time and memory of each linear head",
        "note": "Reference: `F.cross_entropy(F.linear(h, W), t)`; torch chunked: `F.linear_cross_entropy(..., "
        "options=LinearCrossEntropyOptions())`, which falls back to the reference with label smoothing; ours: "
        "`kernels.torch.linear_cross_entropy`; w+ign+ls: weight, ignore_index and label_smoothing=0.1 set. "
        "**Time**: median over rounds of the ratio to the reference timed right before it, forward + backward. "
        "**Memory**: peak resident memory of one call beyond the inputs and the gradients it returns, in "
        "L = N C 4 bytes; fwd: a forward without gradients.",
    },
    "ko": {
        "where": "**{machine}**에서 **{date}**에 측정했습니다 (torch {torch}, {rounds}라운드, float32, 스레드 1개; "
        "메모리 할당자: {allocator}).",
        "default": "기본값",
        "not_measured": "**측정하지 않음**",
        "met": "달성",
        "missed": "**미달** ({by:.0%} 초과)",
        "goal": "{mark}: {what}; 최악의 경우 {value:.2f}{unit} ({shape}, {options})",
        "goals": {
            "forward+backward time <= 0.75x the reference": "순전파+역전파 시간 <= 기준의 0.75x",
            "forward+backward time <= 0.6x torch's chunked path": "순전파+역전파 시간 <= torch 청크 경로의 0.6x",
            "peak memory beyond the gradients <= 0.05 L": "기울기 외의 최대 메모리 <= 0.05 L",
            "forward without gradients <= 0.02 L": "기울기 없는 순전파 <= 0.02 L",
        },
        "compile": "기준 코드를 torch.compile한 것보다 빠름 (`--compile`)",
        "head": "| N x H x C, 옵션 | 방법 | f+b 시간 (개별 라운드) | 메모리 f+b / fwd |",
        "short": {
            "reference": "기준",
            "torch_chunked": "torch 청크",
            "torch_compile": "torch.compile",
            "ours": "우리 구현",
        },
        "alt": "각 선형 헤드의 시간과 메모리",
        "note": "기준은 `F.cross_entropy(F.linear(h, W), t)`이고, torch 청크는 `F.linear_cross_entropy(..., "
        "options=LinearCrossEntropyOptions())`인데, 레이블 스무딩을 쓰면 기준으로 되돌아갑니다. 우리 구현은 "
        "`kernels.torch.linear_cross_entropy`이며, w+ign+ls는 weight, ignore_index, label_smoothing=0.1을 설정한 "
        "경우입니다. **시간**은 순전파 + 역전파를 바로 앞에서 잰 기준과 비교한 비율의 라운드별 중앙값입니다. "
        "**메모리**는 호출 한 번의 최대 상주 메모리에서 입력과 반환하는 기울기를 뺀 것으로, 단위는 "
        "L = N C 4 bytes입니다. fwd는 기울기 없는 순전파입니다.",
    },
}


def _words(lang: str) -> dict:
    return words_of(WORDS, lang)


def _ours(rows: list[dict]) -> list[dict]:
    chunked = {(r["shape"], r["options"]): r["time_ratio"] for r in rows if r["method"] == "torch_chunked"}
    out = []
    for r in rows:
        if r["method"] == "ours":
            ratio = chunked.get((r["shape"], r["options"]))
            out.append({**r, "vs_chunked": None if not ratio else r["time_ratio"] / ratio})
    return out


def _goal_lines(rows: list[dict], lang: str = "en") -> list[str]:
    words = _words(lang)
    lines = []
    compiled = [r for r in rows if r["method"] == "torch_compile"]
    for what, quantity, limit in GOALS:
        picked = [r for r in _ours(rows) if r.get(quantity) is not None]
        what = words["goals"].get(what, what)
        if not picked:
            lines.append(f"- {words['not_measured']}: {what}")
            continue
        worst = max(picked, key=lambda r: r[quantity])
        unit = " L" if quantity.endswith("_L") else "x"
        met = worst[quantity] <= limit + (0.005 if unit == " L" else 0.0)
        mark = words["met"] if met else words["missed"].format(by=worst[quantity] / limit - 1)
        shape, options = worst["shape"], worst["options"]
        goal = words["goal"].format(
            mark=mark, what=what, value=worst[quantity], unit=unit, shape=shape, options=options
        )
        lines.append(f"- {goal}")
    if not compiled:
        lines.append(f"- {words['not_measured']}: {words['compile']}")
    return lines


def _table(rows: list[dict], lang: str = "en") -> list[str]:
    words = _words(lang)
    lines = [words["head"], "|---|---|---|---|"]
    for r in rows:
        low, high = r.get("time_ratio_range") or (r["time_ratio"], r["time_ratio"])
        memory = [r.get(k) for k in ("peak_extra_L", "forward_extra_L")]
        memory = "-" if None in memory else f"{memory[0]:.3f} / {memory[1]:.3f} L"
        options = "plain" if r["options"] == "plain" else "w+ign+ls"
        time = f"{r['time_ratio']:.2f}x ({low:.2f}-{high:.2f})"
        lines.append(f"| {r['shape']}, {options} | {words['short'][r['method']]} | {time} | {memory} |")
    return lines


def _plot(rows: list[dict]) -> str:
    """The plot, in English in every edition (its text is drawn into the SVG; see WORDS)."""
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


def render(data: dict, lang: str = "en") -> str:
    """The Markdown that replaces the marker, in the words of edition ``lang``."""
    words = _words(lang)
    meta, rows = data["meta"], data["rows"]
    where = measured_on(words["where"], meta, allocator=meta.get("allocator", words["default"]))
    image = f'<img alt="{words["alt"]}" src="data:image/svg+xml;base64,{cached_plot(__file__, rows, _plot)}">'
    block = [where, "", *_goal_lines(rows, lang), "", words["note"], "", *table(_table(rows, lang)), ""]
    return "\n".join([*block, f'<figure class="benchmarks-plot">{image}</figure>', ""])


def on_page_markdown(markdown: str, page, config, files) -> str:
    return substitute(markdown, page, config, marker=MARKER, data=DATA, render=render, what="linear benchmarks")
