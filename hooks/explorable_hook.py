"""MkDocs hook: the explorable, and its static table for readers without JavaScript.

Marker in a page's Markdown:

    <!-- explorable: logits=2,1,0.1 target=0 mode=raw -->

becomes a ``<div class="vce-explorable">`` that docs/javascripts/vce_explorable.js mounts, holding a table of
the same quantities at these logits for each way of feeding the loss (raw logits, softmax first, sigmoid
first). The table is computed at build time by the very scripts the widget runs (the emitted
docs/javascripts/_generated/vce_*.js and docs/javascripts/vce_rows.js), in Node, so both show the same
numbers. A malformed marker or a failing script is a build warning, so a strict build fails.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.explorable")

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [
    ROOT / "docs" / "javascripts" / "_generated" / "vce_ce.js",
    ROOT / "docs" / "javascripts" / "_generated" / "vce_binary.js",
    ROOT / "docs" / "javascripts" / "vce_rows.js",
]
MARKER = re.compile(r"<!--\s*explorable\s*:?\s*([^>]*?)\s*-->")
MODES = {"raw": "raw logits", "softmax": "softmax first", "sigmoid": "sigmoid first (the bug)"}
_RUN = """
const vm = require("vm"), fs = require("fs");
const ctx = {}; vm.createContext(ctx);
const [files, z, t] = JSON.parse(fs.readFileSync(0, "utf8"));
for (const f of files) vm.runInContext(fs.readFileSync(f, "utf8"), ctx, { filename: f });
const out = {};
for (const mode of ["raw", "softmax", "sigmoid"]) out[mode] = ctx.VCE.rows.explore(z, t, mode);
process.stdout.write(JSON.stringify(out));
"""


def parse(args: str) -> tuple[list[float], int, str]:
    """(logits, target, mode) of a marker; ValueError naming the fix."""
    fields = dict(part.split("=", 1) for part in args.split() if "=" in part)
    logits = [float(v) for v in fields.get("logits", "2,1,0.1").split(",")]
    target, mode = int(fields.get("target", 0)), fields.get("mode", "raw")
    if not 2 <= len(logits) <= 10 or not 0 <= target < len(logits) or mode not in MODES:
        raise ValueError(f"explorable marker {args!r}: 2..10 logits, a target in [0, C), mode one of {list(MODES)}")
    return logits, target, mode


def compute(logits: list[float], target: int) -> dict:
    """VCE.rows.explore for each mode, run by Node on the scripts the page loads."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is needed to compute the explorable's static table: install Node.js (>= 18)")
    request = json.dumps([[str(p) for p in SCRIPTS], logits, target])
    done = subprocess.run([node, "-e", _RUN], input=request, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the explorable's scripts failed in node: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def _f(v: float) -> str:
    return f"{v:.4f}"


#: The static table's words in each edition (the widget's own are in docs/javascripts/vce_explorable.js).
WORDS = {
    "en": {
        "modes": MODES,
        "target": " (target)",
        "class": "class",
        "logit": "logit z",
        "loss": "Loss",
        "limits": "Fed through a sigmoid, the target's softmax can never pass {best} and the loss never drops "
        "below {floor} for C = {c}.",
        "static": "The interactive version needs JavaScript. These are its numbers at the logits below, computed "
        "when the site was built by the same scripts:",
    },
    "ko": {
        "modes": {"raw": "원시 로짓", "softmax": "소프트맥스를 먼저", "sigmoid": "시그모이드를 먼저 (버그)"},
        "target": " (타깃)",
        "class": "클래스",
        "logit": "로짓 z",
        "loss": "손실",
        "limits": "시그모이드를 거치면 C = {c}일 때 타깃의 소프트맥스는 {best}를 넘을 수 없고 손실은 {floor} 아래로 "
        "내려가지 않습니다.",
        "static": "대화형 버전은 JavaScript가 필요합니다. 아래는 같은 스크립트가 사이트를 빌드할 때 아래 로짓에서 "
        "계산한 "
        "값입니다:",
    },
}


def render(logits: list[float], target: int, mode: str, results: dict, lang: str = "en") -> str:
    """The widget's host element with the static table inside, in the words of edition ``lang``."""
    words = WORDS.get(lang, WORDS["en"])
    names = words["modes"]
    head = "".join(f"<th>softmax, {names[m]}</th><th>dL/dz, {names[m]}</th>" for m in MODES)
    rows = []
    for k, z in enumerate(logits):
        cells = "".join(
            f"<td>{_f(results[m]['probs'][k])}</td><td>{_f(results[m]['gradLogits'][k])}</td>" for m in MODES
        )
        rows.append(f"<tr><td>{k}{words['target'] if k == target else ''}</td><td>{_f(z)}</td>{cells}</tr>")
    losses = "; ".join(f"{names[m]}: {_f(results[m]['loss'])}" for m in MODES)
    sig = results["sigmoid"]
    limits = words["limits"].format(best=_f(sig["bestProb"]), floor=_f(sig["lossFloor"]), c=len(logits))
    data = html.escape(",".join(repr(z) for z in logits))
    return "\n".join(
        [
            f'<div class="vce-explorable" data-logits="{data}" data-target="{target}" data-mode="{mode}">',
            f'<p class="vce-static">{words["static"]}</p>',
            f'<table class="vce-static-table"><thead><tr><th>{words["class"]}</th><th>{words["logit"]}</th>{head}'
            "</tr></thead>",
            f"<tbody>{''.join(rows)}</tbody></table>",
            f'<p class="vce-static">{words["loss"]}, {losses}. {limits}</p>',
            "</div>",
        ]
    )


def on_page_markdown(markdown: str, page, config, files) -> str:
    def replace(match: re.Match) -> str:
        try:
            logits, target, mode = parse(match.group(1))
            return render(logits, target, mode, compute(logits, target), config.theme["language"])
        except (ValueError, RuntimeError, OSError) as exc:
            log.warning("explorable on %s: %s", page.file.src_path, exc)
            return match.group(0)

    return MARKER.sub(replace, markdown)
