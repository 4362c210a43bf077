"""Translated pages and notebooks: where they live, what they translate, and what they must keep.

A translation of ``docs/<page>.md`` is ``translations/<lang>/<page>.md``; of ``docs/notebooks/<nb>.py``,
``translations/<lang>/notebooks/<nb>.py``. Its first line names the English source and the hash of the
English it translates, so an English edit makes the translation stale, and a test says so:

    <!-- translation of docs/entropy.md, source 1a2b3c4d5e6f -->         (a page)
    # translation of docs/notebooks/gradient_check.py, source 1a2b3c4d5e6f   (a notebook)

What a translation keeps from its English source, checked by ``problems``: the math (``$...$``,
``$$...$$``), the inline code, the code blocks, the HTML comments (claim and explorable markers), the link
targets, and the heading anchors, which stay English (``## 기울기 확인 {#checking-the-gradient}``). A
notebook keeps its cell structure and its code cells byte for byte; only markdown cells are translated.

    python hooks/translations.py status LANG      every page: translated, stale or missing
    python hooks/translations.py hash FILE        the source hash a translation of FILE records
    python hooks/translations.py anchors FILE     the English heading anchors a translation must carry
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TRANSLATIONS = ROOT / "translations"
_HEADER = {
    ".md": re.compile(r"\A<!-- translation of (\S+), source ([0-9a-f]{12}) -->\n"),
    ".py": re.compile(r"\A# translation of (\S+), source ([0-9a-f]{12})\n"),
}
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_DISPLAY = re.compile(r"\$\$.+?\$\$", re.S)
#: Inline math, which Markdown lets run across one line break (never a blank line).
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)((?:[^$\n]|\n(?!\n))+?)(?<![\\$])\$")
#: Inline code, which may also wrap onto a second line.
_CODE = re.compile(r"`(?:[^`\n]|\n(?!\n))+`")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_ANCHOR = re.compile(r"\s*\{#([\w.-]+)\}\s*$")
HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")


def source_hash(path: Path) -> str:
    """12 hex digits of SHA-256 over the English file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def translation_path(src: Path, lang: str) -> Path:
    """translations/<lang>/<path under docs/> for an English page or notebook."""
    return TRANSLATIONS / lang / src.resolve().relative_to(DOCS)


def read(path: Path) -> tuple[str | None, str | None, str]:
    """(English source it names, the hash it records, the text after the header line)."""
    text = path.read_text(encoding="utf-8")
    m = _HEADER[path.suffix].match(text)
    if not m:
        return None, None, text
    return m.group(1), m.group(2), text[m.end() :]


def header(src: Path) -> str:
    """The first line of a translation of ``src``, recording the English it translates now."""
    rel = src.resolve().relative_to(ROOT).as_posix()
    if src.suffix == ".py":
        return f"# translation of {rel}, source {source_hash(src)}\n"
    return f"<!-- translation of {rel}, source {source_hash(src)} -->\n"


def _markdown_of_notebook(text: str) -> str:
    """The markdown cells of a jupytext percent-format notebook, uncommented, one after another."""
    return "\n\n".join(cell for kind, cell in cells(text) if kind == "markdown")


def cells(text: str) -> list[tuple[str, str]]:
    """(kind, source) of each cell of a percent-format notebook; markdown sources uncommented."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    return [(c.cell_type, c.source) for c in nb.cells]


def anchors(markdown_text: str) -> list[str]:
    """The heading ids a Markdown text gets (toc's slugify, or an explicit {#id}), in order."""
    import markdown

    md = markdown.Markdown(extensions=["toc", "attr_list"])
    md.convert(_FENCE.sub("", markdown_text))
    out: list[str] = []

    def walk(tokens):
        for t in tokens:
            out.append(t["id"])
            walk(t["children"])

    walk(md.toc_tokens)
    return out


def notebook_anchors(text: str) -> list[str]:
    """The heading ids of a notebook as mkdocs-jupyter sets them (its slugify), or an explicit {#id}."""
    from mkdocs_jupyter.utils import slugify

    out = []
    for line in _FENCE.sub("", _markdown_of_notebook(text)).splitlines():
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            explicit = _ANCHOR.search(m.group(1))
            out.append(explicit.group(1) if explicit else slugify(m.group(1)))
    return out


def invariants(text: str) -> dict[str, list[str]]:
    """What a translation must keep, each as a list: code blocks in order, the rest as multisets."""
    fences = [m.group(0) for m in _FENCE.finditer(text)]
    prose = _FENCE.sub("", text)
    display = _DISPLAY.findall(prose)
    prose = _DISPLAY.sub("", prose)
    comments = _COMMENT.findall(prose)
    prose = _COMMENT.sub("", prose)
    code = _CODE.findall(prose)
    prose = _CODE.sub("", prose)
    return {
        "code blocks": fences,
        "display math": sorted(display),
        "inline math": sorted(re.sub(r"\s+", " ", m.group(0)) for m in _INLINE.finditer(prose)),  # a wrap is a space
        "inline code": sorted(re.sub(r"\s+", " ", c) for c in code),
        "HTML comments": sorted(comments),
        "link targets": sorted(_LINK.findall(prose)),
    }


def _differences(en: dict[str, list[str]], ko: dict[str, list[str]]) -> list[str]:
    found = []
    for what in en:
        if en[what] != ko[what]:
            lost = list((Counter(en[what]) - Counter(ko[what])).elements())
            added = list((Counter(ko[what]) - Counter(en[what])).elements())
            detail = f"missing {lost[:3]}, added {added[:3]}" if lost or added else "order differs"
            found.append(f"{what} differ from the English: {detail}")
    return found


def _math_problems(text: str) -> list[str]:
    """Hangul in math is allowed only inside \\text{...} (KaTeX's strict mode rejects it elsewhere)."""
    found = []
    for m in [*_DISPLAY.finditer(text), *_INLINE.finditer(text)]:
        if HANGUL.search(re.sub(r"\\text\{[^{}]*\}", "", m.group(0))):
            found.append(f"Hangul in math outside \\text{{}}: {m.group(0)[:60]}")
    return found


def problems(src: Path, lang: str) -> list[str]:
    """Why the translation of ``src`` is missing, stale or unfaithful (empty: it is current and faithful)."""
    path = translation_path(src, lang)
    if not path.exists():
        return [f"missing: no {path.relative_to(ROOT)}"]
    named, recorded, body = read(path)
    rel = src.resolve().relative_to(ROOT).as_posix()
    if named is None:
        return [f"{path.relative_to(ROOT)}: its first line must be {header(src).strip()!r}"]
    found = []
    if named != rel:
        found.append(f"its header names {named}, not {rel}")
    if recorded != source_hash(src):
        found.append(f"stale: it translates {recorded}, the English is now {source_hash(src)}")
    english = src.read_text(encoding="utf-8")
    if src.suffix == ".py":
        en_cells, ko_cells = cells(english), cells(body)
        if [k for k, _ in en_cells] != [k for k, _ in ko_cells]:
            found.append(f"cell structure differs: {len(en_cells)} English cells, {len(ko_cells)} translated")
        else:
            for i, ((kind, e), (_, k)) in enumerate(zip(en_cells, ko_cells, strict=True)):
                if kind != "markdown" and e != k:
                    found.append(f"cell {i} ({kind}) is not byte-identical to the English")
        english, body = _markdown_of_notebook(english), _markdown_of_notebook(body)
        en_ids, ko_ids = notebook_anchors(src.read_text(encoding="utf-8")), notebook_anchors(read(path)[2])
    else:
        en_ids, ko_ids = anchors(english), anchors(body)
    if en_ids != ko_ids:
        found.append(f"heading anchors differ: English {en_ids}, translated {ko_ids}")
    found += _differences(invariants(english), invariants(body))
    found += _math_problems(body)
    return found


def sources() -> list[Path]:
    """Every English page and notebook the site builds."""
    return sorted(DOCS.glob("*.md")) + sorted((DOCS / "notebooks").glob("*.py"))


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "hash":
        print(source_hash(Path(argv[1])))
        return 0
    if len(argv) == 2 and argv[0] == "anchors":
        src = Path(argv[1])
        text = src.read_text(encoding="utf-8")
        print("\n".join(notebook_anchors(text) if src.suffix == ".py" else anchors(text)))
        return 0
    if len(argv) == 2 and argv[0] == "status":
        bad = 0
        for src in sources():
            found = problems(src, argv[1])
            bad += bool(found)
            print(f"{src.relative_to(ROOT)}: " + ("; ".join(found) if found else "translated, current"))
        return 1 if bad else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
