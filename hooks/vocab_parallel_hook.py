"""MkDocs hook: what vocab-parallel cross-entropy sends and its time, docs/data/vocab_parallel.json, as a table.

Marker in a page's Markdown:

    <!-- benchmarks-vocab-parallel -->   where and when it was measured, then per option set the bytes each rank
                                         sends per token (ours, gathering the logits, Megatron's three
                                         all-reduces), the collectives of one forward and the time ratio

The JSON is what ``python -m benchmarks.vocab_parallel --json docs/data/vocab_parallel.json`` writes; nothing
here measures. A missing or malformed file is a build warning, so a strict build fails.
"""

from __future__ import annotations

from benchmark_page import ROOT, measured_on, substitute, table, words_of

DATA = ROOT / "docs" / "data" / "vocab_parallel.json"
MARKER = "<!-- benchmarks-vocab-parallel -->"
#: The words around the figures in each edition.
WORDS = {
    "en": {
        "where": "Measured on **{machine}** on **{date}** (torch {torch}, {rounds} rounds, float32, gloo on "
        "127.0.0.1, one torch thread per rank).",
        "head": "| N x C, ranks, options | bytes per token: ours | gathering the logits | Megatron-LM | "
        "collectives in forward | forward + backward, P ranks / one process |",
        "options": {"plain": "plain", "ls": "label smoothing 0.1"},
        "collectives": "{count} (the {header:.0f}-byte header check, then the statistics)",
        "note": "Bytes are those each rank sends, counted on the collectives of one forward: a ring all-gather of "
        "b bytes per rank sends (P - 1) b from each, a ring all-reduce 2 (P - 1) / P b; Megatron-LM's three "
        "all-reduces carry one float32 per token each. Time: the slowest rank's median against "
        "`kernels.torch.cross_entropy` on the whole logits in one process, on the same machine.",
    },
    "ko": {
        "where": "**{machine}**에서 **{date}**에 측정했습니다 (torch {torch}, {rounds}라운드, float32, "
        "127.0.0.1의 gloo, 랭크마다 torch 스레드 1개).",
        "head": "| N x C, 랭크, 옵션 | 토큰당 바이트: 우리 구현 | 로짓 모으기 | Megatron-LM | "
        "순전파의 집합 통신 | 순전파 + 역전파, P개 랭크 / 한 프로세스 |",
        "options": {"plain": "옵션 없음", "ls": "레이블 스무딩 0.1"},
        "collectives": "{count}번 ({header:.0f}바이트 헤더 확인, 그다음 통계)",
        "note": "바이트는 순전파 한 번의 집합 통신에서 센, 각 랭크가 보내는 양입니다. "
        "랭크마다 b바이트인 링 all-gather는 각 랭크에서 (P - 1) b를, "
        "링 all-reduce는 2 (P - 1) / P b를 보냅니다. "
        "Megatron-LM의 all-reduce 세 번은 토큰마다 float32 하나씩을 나릅니다. "
        "시간은 가장 느린 랭크의 중앙값을 같은 기계의 한 프로세스에서 "
        "전체 로짓에 `kernels.torch.cross_entropy`를 쓴 시간과 비교한 것입니다.",
    },
}


def _table(rows: list[dict], lang: str = "en") -> list[str]:
    words = words_of(WORDS, lang)
    lines = [words["head"], "|---|---|---|---|---|---|"]
    for r in rows:
        options = words["options"].get(r["options"], r["options"])
        collectives = words["collectives"].format(count=r["ours_collectives"], header=r["header_bytes"])
        ratio = r["sharded_seconds"] / r["single_seconds"]
        lines.append(
            f"| {r['shape']}, {r['ranks']}, {options} | {r['ours_bytes_per_token']:.0f} | "
            f"{r['gather_bytes_per_token']:.0f} | {r['megatron_bytes_per_token']:.0f} | {collectives} | "
            f"{ratio:.2f}x ({r['sharded_seconds'] * 1e3:.0f} / {r['single_seconds'] * 1e3:.0f} ms) |"
        )
    return lines


def render(data: dict, lang: str = "en") -> str:
    """The Markdown that replaces the marker, in the words of edition ``lang``."""
    words = words_of(WORDS, lang)
    where = measured_on(words["where"], data["meta"])
    return "\n".join([where, "", *table(_table(data["rows"], lang)), "", words["note"], ""])


def on_page_markdown(markdown: str, page, config, files) -> str:
    return substitute(markdown, page, config, marker=MARKER, data=DATA, render=render, what="vocab-parallel benchmark")
