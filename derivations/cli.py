"""Command line: verify every claim (table or JSON), or emit the kernels.

python -m derivations [--json] [--only PATTERN] [--jobs N] [--list]
python -m derivations emit [--check]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from derivations.catalogue import all_claims
from derivations.engine.core import Result, check


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m derivations", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=("verify", "emit"), default="verify")
    parser.add_argument("--json", action="store_true", help="print the verification report as JSON")
    parser.add_argument("--only", metavar="PATTERN", help="check only claims whose id matches (glob or substring)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--list", action="store_true", help="list claim ids, their files and titles; check nothing")
    parser.add_argument("--check", action="store_true", help="emit: compare with kernels/_generated/, write nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "emit":
        from derivations.emission.emit import main as emit_main

        return emit_main(check_only=args.check)
    claims = all_claims()
    if args.only:
        pattern = args.only if any(ch in args.only for ch in "*?[") else f"*{args.only}*"
        claims = [c for c in claims if fnmatch.fnmatch(c.id, pattern)]
        if not claims:
            print(f"no claim id matches {args.only!r}; `python -m derivations --list` shows the ids", file=sys.stderr)
            return 2
    if args.list:
        ids, sources = max(len(c.id) for c in claims), max(len(c.source) for c in claims)
        for c in claims:
            print(f"{c.id:{ids}s}  {c.source:{sources}s}  {c.title}")
        return 0
    start = time.perf_counter()
    results = verify_ids([c.id for c in claims], jobs=args.jobs)
    elapsed = time.perf_counter() - start
    if args.json:
        print(json.dumps(report(results, claims, elapsed), indent=2))
    else:
        print(table(results))
        failed = [r for r in results if not r.holds]
        print(f"\n{len(results) - len(failed)} of {len(results)} claims hold ({elapsed:.1f} s)")
        for r in failed:
            f = r.failure
            print(f"FAILED {r.id}: {f.scope}, step {f.step} ({f.why}); remained: {f.remained}")
    return 0 if all(r.holds for r in results) else 1


def _check_id(claim_id: str) -> Result:
    from derivations.catalogue import claim_by_id

    return check(claim_by_id(claim_id))


def verify_ids(ids: list[str], jobs: int = 1) -> list[Result]:
    """Check the named claims, in parallel worker processes when jobs > 1; results keep the order."""
    if jobs <= 1 or len(ids) <= 1:
        by_id = {c.id: c for c in all_claims()}
        return [check(by_id[i]) for i in ids]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_check_id, ids))


def report(results: list[Result], claims, elapsed: float) -> dict:
    """The JSON report: one entry per claim with its statement's assumptions and declared links."""
    by_id = {c.id: c for c in claims}
    entries = []
    for r in results:
        c = by_id[r.id]
        entry = r.as_dict()
        entry.update(
            assumptions=list(c.assumptions),
            sympy_assumptions=list(c.sympy_assumptions),
            declared=list(c.declared),
            source=c.source,
            page=c.page,
        )
        entries.append(entry)
    import sympy

    return {
        "sympy": sympy.__version__,
        "seconds": round(elapsed, 2),
        "holds": all(r.holds for r in results),
        "claims": entries,
    }


def table(results: list[Result]) -> str:
    rows = [("id", "title", "scope", "method", "result", "seconds")]
    for r in results:
        rows.append((r.id, r.title, r.scope, r.method, "holds" if r.holds else "FAILS", f"{r.seconds:.2f}"))
    widths = [min(max(len(row[i]) for row in rows), 48) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            (cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "~").ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
