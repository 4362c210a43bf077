"""MkDocs hook: math typeset at build time by KaTeX, so pages carry no math JavaScript and load nothing remote.

Where math is found in a built page:
  - ``.arithmatex`` elements (pymdownx.arithmatex, generic mode: ``\\(...\\)`` and ``\\[...\\]``), which also
    covers the claim blocks of claims_hook.py and the docstrings of the API reference;
  - notebook containers from mkdocs-jupyter, ``.jp-RenderedMarkdown`` (markdown cells) and ``.jp-RenderedLatex``
    (SymPy's LaTeX output), where math is raw ``$...$``, ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]`` text.

TeX goes to one long-lived node process (hooks/katex_render.js, KaTeX from npm: ``npm ci``); a TeX error is a
build warning, so ``mkdocs build --strict`` fails on it. KaTeX's stylesheet and fonts are added to the site from
node_modules (nothing is copied into docs/). The notebook template's MathJax and mermaid loaders, which point at
CDNs, are removed.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from notebook_math import find_math, math_regions

log = logging.getLogger("mkdocs.hooks.katex")

ROOT = Path(__file__).resolve().parent.parent
KATEX = ROOT / "node_modules" / "katex" / "dist"
ASSETS = "assets/katex"
_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
_DELIMITED = re.compile(r"^\s*(\\\(|\\\[)(.*)(\\\)|\\\])\s*$", re.S)
_NB_LOADERS = [
    re.compile(r"<!-- Load mathjax -->\s*<script src=\"[^\"]*\">\s*</script>", re.S),
    re.compile(r"<!-- MathJax configuration -->.*?<!-- End of mathjax configuration -->", re.S),
    re.compile(
        r"<script type=\"module\">\s*document\.addEventListener\(\"DOMContentLoaded\".*?"
        r"<!-- End of mermaid configuration -->",
        re.S,
    ),
]
_LOADING_TAG = re.compile(r"<(script|img|iframe|source|link)\b[^>]*>", re.I)
_URL = re.compile(r"\b(src|href|rel)=\"([^\"]*)\"", re.I)
#: <link> relations that make the browser fetch something (a canonical or alternate link does not).
_FETCHING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "manifest", "dns-prefetch"}


class _KaTeX:
    """One node process; requests and answers are JSON arrays, one line each."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise PluginError("node is needed to typeset math at build time: install Node.js (>= 18)")
        self.proc = subprocess.Popen(
            [node, str(ROOT / "hooks" / "katex_render.js")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.cache: dict[tuple[str, bool], dict] = {}

    def render(self, items: list[tuple[str, bool]]) -> list[dict]:
        todo = sorted({i for i in items if i not in self.cache})
        if todo:
            self.proc.stdin.write(json.dumps([{"tex": t, "display": d} for t, d in todo]) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
            if not line:
                raise PluginError("the KaTeX process (hooks/katex_render.js) stopped; see its error above")
            self.cache.update(zip(todo, json.loads(line), strict=True))
        return [self.cache[i] for i in items]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


_state: dict = {}


def _katex() -> _KaTeX:
    if "katex" not in _state:
        _state["katex"] = _KaTeX()
    return _state["katex"]


def on_config(config):
    if not (KATEX / "katex.min.css").is_file():
        raise PluginError(f"KaTeX is missing from {KATEX}: run `npm ci` in {ROOT} (scripts/setup.sh does)")
    css = f"{ASSETS}/katex.min.css"
    if css not in config.extra_css:
        config.extra_css.insert(0, css)
    return config


def on_files(files, config):
    """KaTeX's stylesheet and fonts, served from node_modules as if they were in docs/."""
    sources = [KATEX / "katex.min.css", *sorted((KATEX / "fonts").iterdir())]
    for src in sources:
        uri = f"{ASSETS}/{src.relative_to(KATEX).as_posix()}"
        files.append(File.generated(config, uri, abs_src_path=str(src)))
    return files


def _typeset(page, found: list[tuple[int, int, str, bool]], text: str) -> str:
    """Replace each (start, end, tex, display) span of ``text`` by KaTeX's HTML."""
    results = _katex().render([(tex, display) for _, _, tex, display in found])
    out, last = [], 0
    for (start, end, tex, _display), result in zip(found, results, strict=True):
        out.append(text[last:start])
        if "error" in result:
            log.warning("%s: KaTeX cannot typeset %r: %s", page.file.src_uri, tex, result["error"])
            out.append(f'<span class="katex-error" title="{html.escape(result["error"])}">{html.escape(tex)}</span>')
        else:
            out.append(result["html"])
        last = end
    out.append(text[last:])
    return "".join(out)


def _arithmatex(page, output: str) -> str:
    found = []
    for m in _ARITHMATEX.finditer(output):
        inner = _DELIMITED.match(html.unescape(m.group(2)))
        if inner is None:
            log.warning("%s: math without \\( \\) or \\[ \\] delimiters: %r", page.file.src_uri, m.group(2)[:80])
            continue
        start = m.start(2)
        found.append((start, m.end(2), inner.group(2), inner.group(1) == r"\["))
    return _typeset(page, found, output) if found else output


def _remote_loads(output: str) -> list[str]:
    """Resources a browser would fetch from another host when it shows this page."""
    remote = []
    for tag in _LOADING_TAG.finditer(output):
        attrs = {k.lower(): v for k, v in _URL.findall(tag.group(0))}
        if tag.group(1).lower() == "link" and not _FETCHING_RELS & set(attrs.get("rel", "").lower().split()):
            continue
        url = attrs.get("src") or attrs.get("href") or ""
        host = urlsplit(url).hostname if url.startswith(("http:", "https:", "//")) else None
        if host and host not in ("127.0.0.1", "localhost"):
            remote.append(url)
    return remote


def on_post_page(output: str, page, config) -> str:
    if "jp-Notebook" in output:
        for loader in _NB_LOADERS:
            output = loader.sub("", output)
        found = [hit for start, end in math_regions(output) for hit in find_math(output, start, end)]
        if found:
            output = _typeset(page, found, output)
    output = _arithmatex(page, output)
    for url in _remote_loads(output):
        log.warning("%s would load %s from another host: the site must work offline", page.file.src_uri, url)
    return output


def on_shutdown() -> None:
    if "katex" in _state:
        _state.pop("katex").close()
