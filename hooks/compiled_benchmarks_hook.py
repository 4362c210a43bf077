"""MkDocs hook: cross-entropy inside torch.compile, docs/data/compiled_benchmarks.json, as goals and a table.

Marker in a page's Markdown:

    <!-- benchmarks-compiled -->   where and when it was measured, each goal with whether the measurement
                                   meets it, and the table of time ratios to the compiled F.cross_entropy

The JSON is what ``python -m benchmarks.compiled --json docs/data/compiled_benchmarks.json`` writes; nothing
here measures. A missing or malformed file is a build warning, so a strict build fails.
"""

from __future__ import annotations

from benchmark_page import ROOT, measured_on, substitute, table, words_of

DATA = ROOT / "docs" / "data" / "compiled_benchmarks.json"
MARKER = "<!-- benchmarks-compiled -->"
COLUMNS = ("ours compiled", "ours eager", "torch eager")
# (what, method, limit): ratios to torch.compile(F.cross_entropy), forward + backward
GOALS = [
    ("compiled with ours <= 1.0x compiled with F.cross_entropy, every shape", "ours compiled", 1.0),
    ("stretch: compiled with ours <= 0.8x, every shape", "ours compiled", 0.8),
]
#: The words around the figures in each edition; "goals" translates each goal's ``what`` above and "columns"
#: the table's headings, one per method of COLUMNS (English: as they are).
WORDS = {
    "en": {
        "where": "Measured on **{machine}** on **{date}** (torch {torch}, {rounds} rounds, float32, one thread, "
        "inductor).",
        "not_measured": "**not measured**",
        "met": "met",
        "missed": "**missed** (by {by:.0%})",
        "goal": "{mark}: {what}; worst {ratio:.2f}x ({shape}, {options}); met at {met} of {total}",
        "goals": {},
        "case": "N x C, options",
        "columns": {method: method for method in COLUMNS},
        "note": "Each figure is forward + backward of `loss = f(logits, target); loss.backward()`, as the median "
        "over rounds of its ratio to `torch.compile(F.cross_entropy)` timed right before it (range in brackets). "
        "**ours compiled**: `torch.compile` of the same function calling `kernels.torch.cross_entropy` "
        "(`fullgraph=True`); **ours eager**, **torch eager**: the two functions not compiled. w+ign+ls: weight, "
        "ignore_index and label_smoothing=0.1 set.",
    },
    "ko": {
        "where": "**{machine}**에서 **{date}**에 측정했습니다 (torch {torch}, {rounds}라운드, float32, 스레드 1개, "
        "inductor).",
        "not_measured": "**측정하지 않음**",
        "met": "달성",
        "missed": "**미달** ({by:.0%} 초과)",
        "goal": "{mark}: {what}; 최악의 경우 {ratio:.2f}x ({shape}, {options}); {total}가지 경우 중 {met}가지에서 달성",
        "goals": {
            "compiled with ours <= 1.0x compiled with F.cross_entropy, every shape": (
                "모든 형태에서 우리 구현으로 컴파일한 것 <= F.cross_entropy로 컴파일한 것의 1.0x"
            ),
            "stretch: compiled with ours <= 0.8x, every shape": (
                "도전 목표: 모든 형태에서 우리 구현으로 컴파일한 것 <= 0.8x"
            ),
        },
        "case": "N x C, 옵션",
        "columns": {
            "ours compiled": "우리 구현 (컴파일)",
            "ours eager": "우리 구현 (eager)",
            "torch eager": "torch (eager)",
        },
        "note": "각 수치는 `loss = f(logits, target); loss.backward()`의 순전파 + 역전파 시간을 바로 앞에서 잰 "
        "`torch.compile(F.cross_entropy)`와 비교한 비율의 라운드별 중앙값입니다 (괄호 안은 범위). "
        "**우리 구현 (컴파일)**은 `kernels.torch.cross_entropy`를 호출하는 같은 함수를 `torch.compile`한 것이고 "
        "(`fullgraph=True`), **우리 구현 (eager)**와 **torch (eager)**는 두 함수를 컴파일하지 않은 것입니다. "
        "w+ign+ls는 weight, ignore_index, label_smoothing=0.1을 설정한 경우입니다.",
    },
}


def _words(lang: str) -> dict:
    return words_of(WORDS, lang)


def _goal_lines(rows: list[dict], lang: str = "en") -> list[str]:
    words = _words(lang)
    lines = []
    for what, method, limit in GOALS:
        picked = [r for r in rows if r["method"] == method]
        what = words["goals"].get(what, what)
        if not picked:
            lines.append(f"- {words['not_measured']}: {what}")
            continue
        worst = max(picked, key=lambda r: r["ratio_to_compiled_torch"])
        ratio = worst["ratio_to_compiled_torch"]
        met = [r for r in picked if r["ratio_to_compiled_torch"] <= limit]
        mark = words["met"] if ratio <= limit else words["missed"].format(by=ratio / limit - 1)
        goal = words["goal"].format(
            mark=mark,
            what=what,
            ratio=ratio,
            shape=worst["shape"],
            options=worst["options"],
            met=len(met),
            total=len(picked),
        )
        lines.append(f"- {goal}")
    return lines


def _table(rows: list[dict], lang: str = "en") -> list[str]:
    words = _words(lang)
    cells = {(r["shape"], r["options"], r["method"]): r for r in rows}
    keys = list(dict.fromkeys((r["shape"], r["options"]) for r in rows))
    head = [words["case"], *(words["columns"][method] for method in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---|" * len(COLUMNS)]
    for shape, options in keys:
        row = []
        for method in COLUMNS:
            r = cells.get((shape, options, method))
            low, high = (r or {}).get("range") or (None, None)
            row.append("-" if r is None else f"{r['ratio_to_compiled_torch']:.2f}x ({low:.2f}-{high:.2f})")
        short = "plain" if options == "plain" else "w+ign+ls"
        lines.append(f"| {shape}, {short} | " + " | ".join(row) + " |")
    return lines


def render(data: dict, lang: str = "en") -> str:
    """The Markdown that replaces the marker, in the words of edition ``lang``."""
    words, rows = _words(lang), data["rows"]
    where = measured_on(words["where"], data["meta"])
    return "\n".join([where, "", *_goal_lines(rows, lang), "", words["note"], "", *table(_table(rows, lang)), ""])


def on_page_markdown(markdown: str, page, config, files) -> str:
    return substitute(markdown, page, config, marker=MARKER, data=DATA, render=render, what="compiled benchmarks")
