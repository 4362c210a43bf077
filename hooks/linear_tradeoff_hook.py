"""MkDocs hook: the linear head's time against its rows per chunk, docs/data/linear_tradeoff.json, as a table.

Marker in a page's Markdown:

    <!-- benchmarks-linear-tradeoff -->   where and when it was measured, then per shape the three matrix
                                          products alone (the floor), ours by default, and ours with whole-row
                                          chunks of R rows: time ratio to the reference and peak memory

The JSON is what ``python -m benchmarks.linear_tradeoff --json docs/data/linear_tradeoff.json`` writes;
nothing here measures. A missing or malformed file is a build warning, so a strict build fails.
"""

from __future__ import annotations

from benchmark_page import ROOT, measured_on, substitute, table, words_of

DATA = ROOT / "docs" / "data" / "linear_tradeoff.json"
MARKER = "<!-- benchmarks-linear-tradeoff -->"
#: The words around the figures in each edition; "method" names each method ({rows}: its rows per chunk).
WORDS = {
    "en": {
        "where": "Measured on **{machine}** on **{date}** (torch {torch}, {rounds} rounds, float32, one thread, "
        "plain options).",
        "head": "| N x H x C | method | f+b time, multiple of the reference (rounds) | memory beyond the gradients |",
        "method": {
            "three_matmuls": "the three matrix products alone, unchunked",
            "ours": "ours, by default",
            "rows": "ours, `batch_chunk_size={rows}`",
        },
    },
    "ko": {
        "where": "**{machine}**에서 **{date}**에 측정했습니다 (torch {torch}, {rounds}라운드, float32, 스레드 1개, "
        "옵션 없음).",
        "head": "| N x H x C | 방법 | f+b 시간, 기준의 배수 (라운드) | 기울기 외의 메모리 |",
        "method": {
            "three_matmuls": "행렬 곱 세 번만, 청크 없이",
            "ours": "우리 구현, 기본값",
            "rows": "우리 구현, `batch_chunk_size={rows}`",
        },
    },
}


def _name(method: str, words: dict) -> str:
    if method.startswith("ours_rows_"):
        return words["method"]["rows"].format(rows=method.removeprefix("ours_rows_"))
    return words["method"][method]


def _table(rows: list[dict], lang: str = "en") -> list[str]:
    words = words_of(WORDS, lang)
    lines = [words["head"], "|---|---|---|---|"]
    for r in rows:
        low, high = r["time_ratio_range"]
        memory = "-" if r.get("peak_extra_L") is None else f"{r['peak_extra_L']:.3f} L"
        time = f"{r['time_ratio']:.2f}x ({low:.2f}-{high:.2f})"
        lines.append(f"| {r['shape']} | {_name(r['method'], words)} | {time} | {memory} |")
    return lines


def render(data: dict, lang: str = "en") -> str:
    """The Markdown that replaces the marker, in the words of edition ``lang``."""
    where = measured_on(words_of(WORDS, lang)["where"], data["meta"])
    return "\n".join([where, "", *table(_table(data["rows"], lang)), ""])


def on_page_markdown(markdown: str, page, config, files) -> str:
    return substitute(
        markdown, page, config, marker=MARKER, data=DATA, render=render, what="linear trade-off benchmark"
    )
