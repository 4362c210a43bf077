"""MkDocs hook: the GPU benchmark, docs/data/gpu-benchmarks.json, as goals and tables, or the plain fact that no
GPU has run it.

Marker in a page's Markdown:

    <!-- benchmarks-gpu -->   the device and date, each goal of the GPU run with whether the measurement meets it,
                              and the tables of cross-entropy and linear-head figures; without the file, a
                              sentence saying that no GPU has run the benchmark yet and how to run it

The JSON is what ``python -m benchmarks.gpu --out DIR`` writes as DIR/docs/data/gpu-benchmarks.json on a GPU
(scripts/device_check.sh), to be committed; nothing here measures. A file from a CPU (the interpreter's smoke run)
or a malformed one is a build warning, so a strict build fails.
"""

from __future__ import annotations

from benchmark_page import ROOT, substitute, table, words_of

DATA = ROOT / "docs" / "data" / "gpu-benchmarks.json"
MARKER = "<!-- benchmarks-gpu -->"
CE_COLUMNS = ("torch", "torch_compile", "ours_torch", "triton", "triton_overwrite", "liger")
LINEAR_COLUMNS = ("reference", "torch_chunked", "triton", "liger")
# (key, method, figure, limit, at most): the goals of the GPU run, judged on every cross-entropy case at V >= 32000
GOALS = [
    ("time", "triton", "time_ratio", 0.5, True),
    ("liger", "triton", "ahead_of_liger", 1.0, True),  # our fwd+bwd time over Liger's: below 1 is ahead
    ("memory", "triton", "peak_extra_L", 1.01, True),
    ("memory_overwrite", "triton_overwrite", "peak_extra_L", 0.01, True),
    ("bandwidth", "triton", "copy_bound_fraction", 1 / 1.3, False),
]
WORDS = {
    "en": {
        "none": "**No GPU has run this benchmark yet**, so no figure from a GPU is on this page. On a machine "
        "with one, `bash scripts/device_check.sh` runs the CUDA tests and `python -m benchmarks.gpu`, which "
        "writes `$OUT/docs/data/gpu-benchmarks.json`; committed as `docs/data/gpu-benchmarks.json`, it "
        "appears here with its goals judged.",
        "where": "Measured on **{device}** on **{date}** (torch {torch}, {rounds} rounds, CUDA events; copy_ "
        "bandwidth {bandwidth} GB/s).",
        "goals": {
            "time": "`kernels.triton` forward + backward <= 0.5x `F.cross_entropy`",
            "liger": "`kernels.triton` ahead of Liger-Kernel (time ratio to it < 1)",
            "memory": "`kernels.triton` peak extra memory <= 1 L (torch's: {torch_peak})",
            "memory_overwrite": "the overwrite variant's peak extra memory 0 L (at most 0.01 L)",
            "bandwidth": "`kernels.triton` within 1.3x of the copy-bandwidth bound (3 L of traffic)",
        },
        "not_measured": "**not measured**",
        "met": "met",
        "missed": "**missed**",
        "goal": "{mark}: {what}; worst {value:.2f} ({case}); met at {met} of {total}",
        "ce_head": "N x V, dtype",
        "linear_head": "N x V x H, dtype",
        "cell": "{ms:.2f} ms, {ratio:.2f}x, {peak:.2f} L",
        "note": "Each cell: forward + backward time (median over rounds), its ratio to the unit measured in the "
        "same round (`F.cross_entropy`; for the linear head `F.cross_entropy(F.linear(x, W), t)`), and the "
        "peak memory above the inputs in L (one logits tensor; for the linear head N V 4 bytes).",
    },
    "ko": {
        "none": "**아직 어떤 GPU에서도 이 벤치마크를 실행한 적이 없으므로**, 이 페이지에는 GPU에서 나온 수치가 "
        "없습니다. GPU가 있는 머신에서 `bash scripts/device_check.sh`를 실행하면 CUDA 테스트와 "
        "`python -m benchmarks.gpu`가 실행되고, 이것이 `$OUT/docs/data/gpu-benchmarks.json`을 씁니다. 이 파일을 "
        "`docs/data/gpu-benchmarks.json`으로 커밋하면 목표 달성 여부와 함께 여기에 나타납니다.",
        "where": "**{device}**에서 **{date}**에 측정했습니다 (torch {torch}, {rounds}라운드, CUDA 이벤트; copy_ "
        "대역폭 {bandwidth} GB/s).",
        "goals": {
            "time": "`kernels.triton`의 순전파 + 역전파 <= `F.cross_entropy`의 0.5x",
            "liger": "`kernels.triton`이 Liger-Kernel보다 빠름 (시간 비율 < 1)",
            "memory": "`kernels.triton`의 추가 최대 메모리 <= 1 L (torch: {torch_peak})",
            "memory_overwrite": "덮어쓰기 변형의 추가 최대 메모리 0 L (최대 0.01 L)",
            "bandwidth": "`kernels.triton`이 복사 대역폭 한계의 1.3배 이내 (3 L의 메모리 이동)",
        },
        "not_measured": "**측정하지 않음**",
        "met": "달성",
        "missed": "**미달**",
        "goal": "{mark}: {what}; 최악의 경우 {value:.2f} ({case}); {total}가지 경우 중 {met}가지에서 달성",
        "ce_head": "N x V, dtype",
        "linear_head": "N x V x H, dtype",
        "cell": "{ms:.2f} ms, {ratio:.2f}x, {peak:.2f} L",
        "note": "각 칸은 순전파 + 역전파 시간(라운드별 중앙값), 같은 라운드에서 잰 기준(`F.cross_entropy`; 선형 "
        "헤드는 `F.cross_entropy(F.linear(x, W), t)`)에 대한 비율, 입력을 뺀 최대 메모리(L 단위: 로짓 텐서 "
        "하나, 선형 헤드는 N V 4바이트)입니다.",
    },
}


def _words(lang: str) -> dict:
    return words_of(WORDS, lang)


def _figure(methods: dict, method: str, figure: str) -> float | None:
    """One figure of one method in one case; ``ahead_of_liger`` is its fwd+bwd time over Liger-Kernel's."""
    row, liger = methods.get(method), methods.get("liger")
    if row is None:
        return None
    if figure == "ahead_of_liger":
        return None if liger is None else row["forward_backward_ms"] / liger["forward_backward_ms"]
    return row.get(figure)


def _goal_lines(data: dict, lang: str = "en") -> list[str]:
    words = _words(lang)
    cases = [c for c in data["cross_entropy"] if c["v"] >= 32000]
    torch_peaks = [_figure(c["methods"], "torch", "peak_extra_L") for c in cases]
    torch_peaks = [p for p in torch_peaks if p is not None]
    torch_peak = f"{min(torch_peaks):.2f}-{max(torch_peaks):.2f} L" if torch_peaks else "-"
    lines = []
    for key, method, figure, limit, at_most in GOALS:
        what = words["goals"][key].format(torch_peak=torch_peak)
        got = [(v, c) for c in cases if (v := _figure(c["methods"], method, figure)) is not None]
        if not got:
            lines.append(f"- {words['not_measured']}: {what}")
            continue
        ok = [v <= limit if at_most else v >= limit for v, _ in got]
        value, case = (max if at_most else min)(got, key=lambda p: p[0])
        mark = words["met"] if all(ok) else words["missed"]
        where = f"{case['n']}x{case['v']}, {case['dtype']}"
        line = words["goal"].format(mark=mark, what=what, value=value, case=where, met=sum(ok), total=len(ok))
        lines.append(f"- {line}")
    return lines


def _table(cases: list[dict], columns: tuple[str, ...], head: str, words: dict) -> list[str]:
    present = [m for m in columns if any(m in c["methods"] for c in cases)]
    lines = ["| " + " | ".join([head, *present]) + " |", "|---|" + "---|" * len(present)]
    for case in cases:
        shape = "x".join(str(case[k]) for k in ("n", "v", "h") if k in case)
        cells = []
        for method in present:
            row = case["methods"].get(method)
            if row is None:
                cells.append("-")
                continue
            peak = row.get("peak_extra_L")
            peak = float("nan") if peak is None else peak
            cells.append(words["cell"].format(ms=row["forward_backward_ms"], ratio=row["time_ratio"], peak=peak))
        lines.append(f"| {shape}, {case['dtype']} | " + " | ".join(cells) + " |")
    return lines


def render(data: dict | None, lang: str = "en") -> str:
    """The Markdown that replaces the marker, in the words of edition ``lang``; ``data`` None: no GPU run yet."""
    words = _words(lang)
    if data is None:
        return words["none"]
    meta = data["meta"]
    if not str(meta.get("device", "")).strip() or str(meta["device"]).startswith("cpu"):
        raise ValueError(f"device {meta.get('device')!r} is not a GPU (a CPU smoke run is not a measurement)")
    facts = {key: meta.get(key, "?") for key in ("date", "torch", "rounds")}
    where = words["where"].format(device=meta["device"], bandwidth=meta.get("copy_bandwidth_GBps", "?"), **facts)
    block = [where, "", *_goal_lines(data, lang), "", words["note"], ""]
    tables = (
        (data["cross_entropy"], CE_COLUMNS, words["ce_head"]),
        (data["linear"], LINEAR_COLUMNS, words["linear_head"]),
    )
    for cases, columns, head in tables:
        if cases:
            block += [*table(_table(cases, columns, head, words)), ""]
    return "\n".join(block)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return substitute(
        markdown, page, config, marker=MARKER, data=DATA, render=render, what="GPU benchmarks", missing_ok=True
    )
