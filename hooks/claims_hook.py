"""MkDocs hook: pages fill themselves with the claims of ``derivations/``, checked during the build.

Markers in a page's Markdown:

    <!-- claims: entropy.definition entropy.bounds -->  these claims, in this order
    <!-- claims: entropy.* -->                          the claims of this page matching the glob, not yet shown
    <!-- claims-folded: kernel.* -->                    the same, with each derivation folded (click to open)
    <!-- claims-table -->                               every claim with its status (the verification page)

A claim of a page that no marker places is appended at the end of that page. At the start of every
build two processes start side by side: ``python -m derivations --json`` (the checker, once per build)
and ``hooks/claims_export.py`` (the claims with their math as ``sympy.latex``); the checker's report
is needed only when pages are written out, so it runs while the notebooks execute.

The build warns (and a strict build fails) when the checker fails or reports a failing claim, when
a derivation cannot be built, or when a claim names a page the site does not have.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import build_cache
import claims_html

log = logging.getLogger("mkdocs.hooks.claims")

ROOT = Path(__file__).resolve().parent.parent
_MARKER = re.compile(r"<!--\s*(claims-table|claims-folded|claims)\s*:?\s*([^>]*?)\s*-->")
_TIMEOUT_S = 300
#: The heading over the claims of a page that no marker places.
FURTHER = {"en": "Further checked claims", "ko": "그 밖의 검증된 명제"}


class _Job:
    """A child Python process whose JSON output is read once, when first needed, and kept in the build cache
    under ``cache_key``: a build that finds it there starts no process; one that finds another build computing
    it waits for that build's result."""

    def __init__(self, name: str, args: list[str], kind: str, cache_key: str):
        self.name, self.args, self.kind, self.cache_key = name, args, kind, cache_key
        self.proc: subprocess.Popen | None = None
        self._value: dict | None = build_cache.get(kind, cache_key)
        self._done = self._value is not None
        self._lock = None
        if not self._done:
            self._lock = build_cache.Lock(kind, cache_key)
            if self._lock.acquire(block=False):
                self._start()

    def _start(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen(
            [sys.executable, *self.args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def value(self) -> dict | None:
        if self._done:
            return self._value
        self._done = True
        if self.proc is None:  # another build holds the entry: wait for it, then read what it stored
            self._lock.acquire()
            self._value = build_cache.get(self.kind, self.cache_key)
            if self._value is not None:
                self._lock.release()
                return self._value
            self._start()
        try:
            out, err = self.proc.communicate(timeout=_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            log.warning("%s took longer than %d s and was stopped", self.name, _TIMEOUT_S)
            return None
        try:
            self._value = json.loads(out)
            build_cache.put(self.kind, self.cache_key, self._value)
        except json.JSONDecodeError as exc:
            log.warning("%s gave no JSON (%s); exit status %s\n%s", self.name, exc, self.proc.returncode, err[-3000:])
        finally:
            self._lock.release()
        return self._value

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._lock is not None:
            self._lock.release()


_state: dict = {}


def on_pre_build(config) -> None:
    on_shutdown()
    derivations = build_cache.tree_hash(ROOT / "derivations")
    report_key = build_cache.key("report", derivations, build_cache.versions("sympy", "mpmath", "numpy"))
    export_key = build_cache.key(
        "export", derivations, build_cache.tree_hash(ROOT / "hooks" / "claims_export.py"), build_cache.versions("sympy")
    )
    _state["lang"] = config.theme["language"]
    _state["report"] = _Job(
        "python -m derivations --json", ["-m", "derivations", "--json"], "claims-report", report_key
    )
    _state["export"] = _Job("hooks/claims_export.py", [str(ROOT / "hooks" / "claims_export.py")], "claims", export_key)


def on_files(files, config):
    _state["pages"] = {f.src_uri for f in files.documentation_pages()}
    return files


def _entries() -> list[dict]:
    exported = _state["export"].value()
    return exported["claims"] if exported else []


def _select(pattern_text: str, page_uri: str, shown_here: set[str]) -> list[dict]:
    """Exact ids in the order given (any page); globs match this page's claims not yet shown."""
    entries, chosen = _entries(), []
    for pattern in pattern_text.replace(",", " ").split():
        if any(ch in pattern for ch in "*?["):
            matches = [e for e in entries if e["page"] == page_uri and fnmatch.fnmatchcase(e["id"], pattern)]
        else:
            matches = [e for e in entries if e["id"] == pattern]
            if not matches:
                log.info("%s: no claim with id %r (yet)", page_uri, pattern)
        chosen += [e for e in matches if e["id"] not in shown_here and e not in chosen]
    return chosen


def on_page_markdown(markdown: str, page, config, files) -> str:
    uri = page.file.src_uri
    own = [e for e in _entries() if e["page"] == uri]
    if not own and not _MARKER.search(markdown):
        return markdown
    shown_here: set[str] = set()

    def blocks(entries: list[dict], folded: bool = False) -> str:
        shown_here.update(e["id"] for e in entries)
        lang = _state["lang"]
        return "\n\n".join(claims_html.claim_block(e, e["page"] == uri, folded, lang) for e in entries)

    def replace(m: re.Match) -> str:
        kind, arg = m.group(1), m.group(2)
        if kind == "claims-table":
            return claims_html.claims_table(_entries(), uri, _state["lang"])
        return blocks(_select(arg, uri, shown_here), folded=kind == "claims-folded")

    markdown = _MARKER.sub(replace, markdown)
    rest = [e for e in own if e["id"] not in shown_here]
    if rest:
        log.info("%s: %d claim(s) placed by no marker, appended: %s", uri, len(rest), ", ".join(e["id"] for e in rest))
        heading = FURTHER.get(_state["lang"], FURTHER["en"])
        markdown += f"\n\n## {heading} {{#further-checked-claims}}\n\n" + blocks(rest) + "\n"
    return markdown


def on_post_page(output: str, page, config) -> str:
    if "claim-status" not in output and 'class="admonition claim"' not in output:
        return output
    return claims_html.fill_status(output, _state["report"].value(), _state["lang"])


def on_post_build(config) -> None:
    report = _state["report"].value()
    results = {c["id"]: c for c in (report or {}).get("claims", [])}
    pages = _state.get("pages", set())
    for e in _entries():
        if e["error"]:
            log.warning("claim %s: its derivation cannot be built: %s", e["id"], e["error"])
        if e["page"] not in pages:
            log.warning("claim %s names the page %r, which the site does not have", e["id"], e["page"])
        r = results.get(e["id"])
        if report is not None and r is None:
            log.warning("claim %s is missing from the checker's report", e["id"])
        elif r is not None and not r["holds"]:
            f = r["failure"] or {}
            log.warning(
                "claim %s FAILED its check (%s, step %s): %s", e["id"], f.get("scope"), f.get("step"), f.get("remained")
            )


def on_shutdown() -> None:
    for key in ("report", "export"):
        if key in _state:
            _state[key].stop()
