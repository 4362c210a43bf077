"""Find the raw TeX that mkdocs-jupyter leaves in a notebook page, for katex_hook.py to typeset.

nbconvert keeps math in markdown cells as escaped text (``$a&lt;b$``) inside ``.jp-RenderedMarkdown`` and puts
SymPy's LaTeX output (``$\\displaystyle ...$``) inside ``.jp-RenderedLatex``. Math never spans an HTML tag there,
so each text run between tags is scanned on its own; text inside ``code``, ``pre``, ``script`` and ``style`` is
left alone.
"""

from __future__ import annotations

import html
import re

_CONTAINER = re.compile(r'<div class="[^"]*\b(?:jp-RenderedMarkdown|jp-RenderedLatex)\b[^"]*"[^>]*>')
_DIV = re.compile(r"<div\b|</div>")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>|<!--.*?-->", re.S)
_VERBATIM = {"code", "pre", "script", "style"}
_PAIRS = (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False))
_BEGIN = re.compile(r"\\begin\{([a-zA-Z*]+)\}")


def math_regions(page: str) -> list[tuple[int, int]]:
    """(start, end) of the inside of every math-bearing notebook container (outermost ones only)."""
    regions, pos = [], 0
    while m := _CONTAINER.search(page, pos):
        depth, end = 1, m.end()
        for d in _DIV.finditer(page, m.end()):
            depth += 1 if d.group(0) == "<div" else -1
            if depth == 0:
                end = d.start()
                break
        regions.append((m.end(), end))
        pos = end
    return regions


def find_math(page: str, start: int, end: int) -> list[tuple[int, int, str, bool]]:
    """(start, end, tex, display) for each piece of math in page[start:end], outside verbatim elements."""
    found, verbatim, pos = [], 0, start
    for tag in _TAG.finditer(page, start, end):
        if not verbatim:
            found += _scan(page, pos, tag.start())
        closing, name = tag.group(1), (tag.group(2) or "").lower()
        if name in _VERBATIM and not tag.group(0).endswith("/>"):
            verbatim = max(0, verbatim + (-1 if closing else 1))
        pos = tag.end()
    if not verbatim:
        found += _scan(page, pos, end)
    return found


def _scan(page: str, start: int, end: int) -> list[tuple[int, int, str, bool]]:
    text, found, i = page[start:end], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and text.startswith("\\$", i):
            i += 2
            continue
        hit = _delimited(text, i)
        if hit is None:
            i += 1
            continue
        j, tex, display = hit
        found.append((start + i, start + j, html.unescape(tex).strip(), display))
        i = j
    return found


def _delimited(text: str, i: int) -> tuple[int, str, bool] | None:
    """If math starts at text[i]: (index after it, its TeX, display?)."""
    for left, right, display in _PAIRS:
        if text.startswith(left, i):
            j = text.find(right, i + len(left))
            return None if j < 0 else (j + len(right), text[i + len(left) : j], display)
    if m := _BEGIN.match(text, i):
        close = f"\\end{{{m.group(1)}}}"
        j = text.find(close, m.end())
        return None if j < 0 else (j + len(close), text[i : j + len(close)], True)
    if text[i] == "$" and i + 1 < len(text) and not text[i + 1].isspace():
        # inline $...$: the closing $ is not escaped, not after a space, not before a digit (so "$5 and $6" is prose)
        j = i + 1
        while (j := text.find("$", j)) >= 0:
            if text[j - 1] not in " \\\t\n" and not (j + 1 < len(text) and text[j + 1].isdigit()):
                return j + 1, text[i + 1 : j], False
            j += 1
    return None
