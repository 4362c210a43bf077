"""Each claims module says what it holds: its docstring names every claim declared in it, and lists none
declared elsewhere (a claim's metadata, derivation and description stay in one file)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from derivations import all_claims

ROOT = Path(__file__).resolve().parent.parent
IDS = {c.id for c in all_claims()}


def listed(doc: str, ids: set[str]) -> set[str]:
    """The ids a docstring lists in its indented formula block: at the start of a line (a table of claims), or
    inside parentheses at the end of a line or continuing onto the next, as in ``... (kernel.exp2)``. Ids
    mentioned in prose (unindented lines) do not count."""
    found = set()
    for line in (line for line in doc.splitlines() if line.startswith("    ")):
        head = re.match(r"\s*([a-z_]+\.[a-z0-9_]+)\s", line + " ")
        tail = re.search(r"\(([a-z0-9_., ]+)\)?\s*$", line)
        for group in [head.group(1)] if head else []:
            found.add(group)
        for name in tail.group(1).replace(",", " ").split() if tail else []:
            found.add(name)
    return found & ids


def problems(doc: str, held: set[str], ids: set[str]) -> list[str]:
    """What is wrong with a module docstring: a held claim it does not name, a listed claim held elsewhere."""
    named = {i for i in ids if re.search(rf"(?<![\w.]){re.escape(i)}(?!\w)", doc)}
    out = [f"holds {i} but does not name it" for i in sorted(held - named)]
    return out + [f"lists {i}, which is declared elsewhere" for i in sorted(listed(doc, ids) - held)]


def test_every_claims_module_docstring_names_its_claims_and_only_lists_its_own():
    held = defaultdict(set)
    for c in all_claims():
        held[c.source].add(c.id)
    found = {}
    for source, ids in sorted(held.items()):
        doc = ast.get_docstring(ast.parse((ROOT / source).read_text(encoding="utf-8"))) or ""
        found[source] = problems(doc, ids, IDS)
    assert {k: v for k, v in found.items() if v} == {}


def test_the_docstring_check_catches_a_missing_and_a_foreign_claim():
    doc = """Softmax.

    softmax.shift_invariance    softmax(z + c) = softmax(z)
    the log-sum-exp, stable                                   (softmax.lse_shift, kernel.lse)
    """
    held = {"softmax.shift_invariance", "softmax.lse_shift", "softmax.log_softmax"}
    assert problems(doc, held, IDS) == [
        "holds softmax.log_softmax but does not name it",
        "lists kernel.lse, which is declared elsewhere",
    ]
