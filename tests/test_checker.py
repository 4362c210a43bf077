"""The checker itself: it reports failures with the failing step, never crashes, and the CLI says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import sympy as sp

from derivations import catalogue, cli
from derivations.engine.core import Claim, N, chain, check
from derivations.engine.result import describe_scopes
from derivations.engine.rules import sums
from derivations.engine.rules_concrete import simplified
from derivations.engine.rules_inequality import declared
from derivations.engine.samplers import simplex
from derivations.engine.spot_check import spot_check
from derivations.engine.symbols import k, p, total, z


def _sample(size, rng):
    return simplex(p, size, rng)


def _claim(build, **kw):
    return Claim("toy.claim", "toy", build, ("p positive",), ("p[j] positive",), _sample, **kw)


def _rule(size):
    return sums((total(p[sp.Symbol("j", integer=True)], size), 1)) if size is N else simplified()


def test_true_chain_holds_in_every_scope():
    def build(size):
        return chain(
            total(2 * p[sp.Symbol("j", integer=True)], size),
            (2 * total(p[sp.Symbol("j", integer=True)], size), "linearity"),
            rule=_rule(size),
        )

    result = check(_claim(build))
    assert result.holds and result.scope == "general n; n = 2..8"


def test_wrong_second_link_is_named():
    j = sp.Symbol("j", integer=True)

    def build(size):
        return chain(
            total(2 * p[j], size),
            (2 * total(p[j], size), "linearity"),
            (3 * total(p[j], size), "a planted slip"),
            rule=_rule(size),
        )

    result = check(_claim(build))
    assert not result.holds
    assert result.failure.step == 2 and result.failure.why == "a planted slip"
    assert result.failure.remained == "-1"  # 2 - 3 times sum p, with sum p = 1


def test_rule_that_raises_is_a_failure_not_a_crash():
    def boom(a, b):
        raise RuntimeError("cannot decide")

    def build(size):
        return chain(p[1], (p[1], "same", boom), rule=simplified())

    result = check(_claim(build, general=False))
    assert not result.holds and "RuntimeError: cannot decide" in result.failure.remained


def test_builder_that_raises_is_a_failure():
    def build(size):
        raise ValueError("no derivation")

    result = check(_claim(build))
    assert not result.holds and result.failure.step == 0


def test_concrete_indices_are_enumerated_and_the_bad_one_is_reported():
    """A statement true for k = 1 only must fail at k = 2 (so every k is checked)."""

    def build(size):
        return chain(z[k] * sp.KroneckerDelta(k, 1), (z[k], "only true at k = 1"), rule=simplified(), indices=(k,))

    result = check(_claim(build, general=False))
    assert not result.holds and "k = 2" in result.failure.scope


def test_declared_link_is_recorded_as_a_method():
    def build(size):
        return chain(p[1], (p[1] + 0, "declared", declared("a fact")), rule=simplified())

    result = check(_claim(build, general=False, concrete=(2,), declared=("a fact",)))
    assert result.holds and "declared" in result.method


def test_spot_check_catches_a_link_a_wrong_rule_accepted():
    def build(size):
        return chain(p[1], (2 * p[1], "wrongly accepted", declared("nothing")), rule=simplified())

    claim = _claim(build, general=False)
    assert check(claim).holds  # the declared link is taken on trust ...
    problems = spot_check(claim, np.random.default_rng(0), n=3, trials=1)
    assert problems and "wrongly accepted" in problems[0]  # ... and the numbers expose it


def test_describe_scopes():
    assert describe_scopes(["general n", "n = 2", "n = 3", "n = 4"]) == "general n; n = 2..4"
    assert describe_scopes(["n = 2", "n = 5"]) == "n = 2, 5"
    assert describe_scopes([]) == "none"


def test_cli_exit_status_and_failure_message(monkeypatch, capsys):
    j = sp.Symbol("j", integer=True)

    def bad(size):
        return chain(total(p[j], size), (2 * total(p[j], size), "planted doubling"), rule=_rule(size))

    planted = _claim(bad)
    monkeypatch.setattr(cli, "all_claims", lambda: [planted])
    monkeypatch.setattr(catalogue, "all_claims", lambda: [planted])
    assert cli.main(["--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "FAILS" in out and "FAILED toy.claim: general n, step 1 (planted doubling)" in out
    assert cli.main(["--jobs", "1", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["holds"] is False and report["claims"][0]["failure"]["step"] == 1
    assert cli.main(["--only", "nothing-matches"]) == 2


def test_module_runs_and_reports_json():
    """`python -m derivations --json --only ce.` runs in a fresh process and every listed claim holds."""
    proc = subprocess.run(
        [sys.executable, "-m", "derivations", "--json", "--only", "softmax."],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["holds"] and report["claims"] and all(c["holds"] for c in report["claims"])
    assert {"id", "title", "scope", "method", "seconds", "assumptions"} <= set(report["claims"][0])


def test_cli_list_names_the_file_that_holds_each_claim(capsys):
    from derivations import all_claims

    assert cli.main(["--list", "--only", "kernel.ce_folded*"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    expected = [c for c in all_claims() if c.id.startswith("kernel.ce_folded")]
    assert [r[:2] for r in rows] == [[c.id, c.source] for c in expected] and len(rows) == 3
    root = Path(__file__).resolve().parent.parent
    assert all((root / c.source).is_file() for c in all_claims()), "every claim's source is a file of the project"
