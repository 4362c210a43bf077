"""MkDocs hook: the linear head's time against its rows per chunk, docs/data/linear_tradeoff.json, as a table.

Marker in a page's Markdown:

    <!-- benchmarks-linear-tradeoff -->   where and when it was measured, then per shape the three matrix
                                          products alone (the floor), ours by default, and ours with whole-row
                                          chunks of R rows: time ratio to the reference and peak memory

The JSON is what ``python -m benchmarks.linear_tradeoff --json docs/data/linear_tradeoff.json`` writes;
nothing here measures. A missing or malformed file is a build warning, so a strict build fails.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.linear_tradeoff")

ROOT = Path(__file__).resolve().parent.parent
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


def _words(lang: str) -> dict:
    """The words of edition ``lang``; English for an edition that has none here."""
    return WORDS.get(lang, WORDS["en"])


def _name(method: str, words: dict) -> str:
    if method.startswith("ours_rows_"):
        return words["method"]["rows"].format(rows=method.removeprefix("ours_rows_"))
    return words["method"][method]


def _table(rows: list[dict], lang: str = "en") -> list[str]:
    words = _words(lang)
    lines = [words["head"], "|---|---|---|---|"]
    for r in rows:
        low, high = r["time_ratio_range"]
        memory = "-" if r.get("peak_extra_L") is None else f"{r['peak_extra_L']:.3f} L"
        time = f"{r['time_ratio']:.2f}x ({low:.2f}-{high:.2f})"
        lines.append(f"| {r['shape']} | {_name(r['method'], words)} | {time} | {memory} |")
    return lines


def render(data: dict, lang: str = "en") -> str:
    """The Markdown that replaces the marker, in the words of edition ``lang``."""
    words, meta = _words(lang), data["meta"]
    where = words["where"].format(
        machine=meta.get("machine", "?"),
        date=meta.get("date", "?"),
        torch=meta.get("torch", "?"),
        rounds=meta.get("rounds", "?"),
    )
    table = ['<div class="benchmarks-table" markdown>', "", *_table(data["rows"], lang), "", "</div>"]
    return "\n".join([where, "", *table, ""])


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    try:
        block = render(json.loads(DATA.read_text()), lang=config.theme["language"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        shown = DATA.relative_to(ROOT)
        log.warning("linear trade-off benchmark: cannot show %s on %s: %s", shown, page.file.src_path, exc)
        return markdown
    return markdown.replace(MARKER, block)
