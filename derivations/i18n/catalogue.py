"""Reading a claim catalogue, and what makes an entry missing, stale or wrong."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
#: The prose of a claim, as exported for the site (hooks/claims_export.py): the fields a catalogue translates.
TEXT_FIELDS = ("title", "assumptions", "steps", "declared")
#: Inline math and backticked code: copied, never translated.
_SPAN = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$|`([^`]+)`")


def english_texts(entry: dict) -> dict:
    """The translatable text of an exported claim: title, assumptions, each step's why, declared facts."""
    return {
        "title": entry["title"],
        "assumptions": list(entry["assumptions"]),
        "steps": [s["why"] for s in entry.get("steps") or []],
        "declared": list(entry.get("declared") or []),
    }


def source_hash(texts: dict) -> str:
    """12 hex digits of SHA-256 over the English texts (canonical JSON), the ``source`` an entry records."""
    blob = json.dumps({k: texts[k] for k in TEXT_FIELDS}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def load(lang: str, path: Path | None = None) -> dict[str, dict]:
    """The catalogue of ``lang`` as {claim id: entry}; an absent file is an empty catalogue."""
    path = path or HERE / f"{lang}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def spans(text: str) -> list[str]:
    """The math and code spans of a text, in order: what a translation must keep exactly."""
    return [m.group(0) for m in _SPAN.finditer(text)]


def problems(texts: dict, entry: dict | None) -> list[str]:
    """Why ``entry`` is not a current, faithful translation of ``texts`` (empty: it is)."""
    if entry is None:
        return ["missing"]
    found = []
    if entry.get("source") != source_hash(texts):
        found.append(f"stale: it translates {entry.get('source')!r}, the English is now {source_hash(texts)!r}")
    for field in TEXT_FIELDS:
        en = texts[field] if isinstance(texts[field], list) else [texts[field]]
        raw = entry.get(field, [] if isinstance(texts[field], list) else "")
        ko = raw if isinstance(raw, list) else [raw]
        if len(ko) != len(en):
            found.append(f"{field}: {len(ko)} item(s) for the English {len(en)}")
            continue
        for i, (e, k) in enumerate(zip(en, ko, strict=True)):
            if not k.strip():
                found.append(f"{field}[{i}]: empty")
            elif spans(e) != spans(k):
                found.append(f"{field}[{i}]: math or code differs: {spans(e)} against {spans(k)}")
    return found


def translated(entry: dict, catalogue: dict[str, dict]) -> tuple[dict, list[str]]:
    """The texts to show for an exported claim in the catalogue's language, and the entry's problems.

    A missing or structurally wrong entry falls back to the English texts; a stale one is still shown
    (its problems say so) because a slightly old translation reads better than none.
    """
    texts = english_texts(entry)
    mine = catalogue.get(entry["id"])
    found = problems(texts, mine)
    if mine is None or any(not p.startswith("stale") for p in found):
        return texts, found
    return {k: mine.get(k, texts[k]) for k in TEXT_FIELDS}, found
