"""Print every registered claim as JSON, its math already rendered by ``sympy.latex``.

    python hooks/claims_export.py

The site build (hooks/claims_hook.py) runs this in a fresh process next to ``python -m derivations --json``
(the checker), so that each build, ``mkdocs serve`` rebuilds included, shows the claims as they are on
disk now (the output is cached by the hash of ``derivations/``, translations included). A claim whose
derivation cannot be built is exported with its error instead of its math. Each claim carries its texts in
every language of ``derivations/i18n/`` and the problems of that translation (missing, stale).
"""

from __future__ import annotations

import json
import sys

import sympy as sp

from derivations import all_claims
from derivations.engine.core import general_scope
from derivations.i18n import catalogue

#: How a step's relation reads in TeX.
RELATIONS = {"=": "=", ">=": r"\geq", "<=": r"\leq"}


def export(claim) -> dict:
    """One claim: its data, and the statement and steps of the derivation shown to readers, as TeX."""
    entry = {
        "id": claim.id,
        "title": claim.title,
        "page": claim.page,
        "source": claim.source,
        "assumptions": list(claim.assumptions),
        "sympy_assumptions": list(claim.sympy_assumptions),
        "declared": list(claim.declared),
        "general": claim.general,
        "concrete": list(claim.concrete),
        "error": None,
    }
    try:
        d = claim.derivation()
        entry["statement"] = sp.latex(d.statement())
        entry["lhs"] = sp.latex(d.lhs)
        entry["relation"] = RELATIONS[d.relation]
        entry["rhs"] = sp.latex(d.rhs)
        entry["steps"] = [
            {
                "tex": sp.latex(s.expr),
                "rel": RELATIONS[s.rel],
                "why": s.why,
                # a link that rests on a declared fact (rules_inequality.declared) rather than a computation
                "declared": getattr(s.rule, "fact", None),
            }
            for s in d.steps
        ]
        entry["shown_for"] = general_scope(d) if claim.general else f"n = {claim.concrete[0]}"
    except Exception as exc:  # shown on the page and reported by the build, never hidden
        entry["error"] = f"{type(exc).__name__}: {exc}"
    return entry


def with_translations(entry: dict, catalogues: dict[str, dict]) -> dict:
    """Add each language's texts for the claim (``translations[lang]``) and what is wrong with them, if anything."""
    entry["translations"] = {}
    for lang, entries in catalogues.items():
        texts, problems = catalogue.translated(entry, entries)
        entry["translations"][lang] = {**texts, "problems": problems}
    return entry


def main() -> int:
    catalogues = {p.stem: catalogue.load(p.stem) for p in sorted(catalogue.HERE.glob("*.toml"))}
    claims = [with_translations(export(c), catalogues) for c in all_claims()]
    json.dump({"sympy": sp.__version__, "claims": claims}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
