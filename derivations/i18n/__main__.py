"""python -m derivations.i18n LANG [--skeleton]: the state of a claim catalogue against the English now."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from derivations import all_claims
from derivations.i18n.catalogue import english_texts, load, problems, source_hash


def exported_texts() -> list[tuple[str, str, dict]]:
    """(id, page, English texts) of every claim, read as hooks/claims_export.py exports them."""
    out = []
    for c in all_claims():
        steps = [{"why": s.why} for s in c.derivation().steps]
        entry = {"title": c.title, "assumptions": c.assumptions, "steps": steps, "declared": c.declared}
        out.append((c.id, c.page, english_texts(entry)))
    return out


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string or list of strings is valid TOML


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m derivations.i18n", description=__doc__)
    ap.add_argument("lang")
    ap.add_argument("--skeleton", action="store_true", help="print TOML entries (English text) to translate")
    ap.add_argument("--page", help="only the claims shown on this page (entropy.md)")
    ap.add_argument("--catalogue", type=Path, help="check this file instead of derivations/i18n/LANG.toml")
    args = ap.parse_args(argv)
    catalogue, bad = load(args.lang, args.catalogue), 0
    every = exported_texts()
    claims = [c for c in every if args.page in (None, c[1])]
    for cid, _, texts in claims:
        found = problems(texts, catalogue.get(cid))
        if not found:
            continue
        bad += 1
        if args.skeleton:
            print(f'\n["{cid}"]\nsource = "{source_hash(texts)}"')
            for field, value in texts.items():
                if value or field != "declared":
                    print(f"{field} = {_toml(value)}")
        else:
            print(f"{cid}: " + "; ".join(found))
    known = {cid for cid, _, _ in every}
    for cid in sorted(set(catalogue) - known):
        bad += 1
        print(f"{cid}: in the catalogue but no such claim", file=sys.stderr)
    where = args.catalogue or f"derivations/i18n/{args.lang}.toml"
    print(f"{bad} entr{'y' if bad == 1 else 'ies'} to fix in {where}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
