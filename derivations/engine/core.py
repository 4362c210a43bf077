"""Claims, derivations and the checker.

A *claim* is a named statement with its assumptions and a derivation: a chain

    lhs  rel_1  e_1  rel_2  e_2  ...  rel_m  e_m = rhs

where each link ``e_{i-1} rel_i e_i`` carries a one-line justification and a *rule* that shows it
(a rule returns what remains; the link holds when nothing remains). A claim builds its derivation
for a symbolic number of classes ``n`` (the general scope) and for concrete ``n`` (2..8 by default);
the checker runs every scope it can and records which ones held. The numeric spot check, which
evaluates the same links at random points independently of any rule, is in ``derivations/engine/spot_check.py``.

Every rule is a computer-algebra check, not a formal proof: where a rule relies on an assumption
(positivity for ``expand_log``, the index range for ``refine``), the claim states it in words.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from derivations.engine.result import SCALAR, Failure, Result

#: A rule shows ``a rel b`` and returns what remains: ``S.Zero`` (or ``S.true``) when it holds.
Rule = Callable[[sp.Basic, sp.Basic], sp.Basic]

#: The symbolic number of classes used by the general scope.
N = sp.Symbol("n", integer=True, positive=True)

_RELATIONS = {"=": sp.Eq, ">=": sp.Ge, "<=": sp.Le}


def is_general(n) -> bool:
    """Whether a derivation is being built for the general scope (the symbol N), not for a concrete int."""
    return isinstance(n, sp.Symbol)


@dataclass(frozen=True)
class Step:
    """One link of a derivation: ``previous rel expr``, shown by ``rule``, justified by ``why``."""

    expr: sp.Basic
    why: str
    rule: Rule | None = None
    rel: str = "="


@dataclass(frozen=True)
class Derivation:
    """A chain from ``lhs`` through ``steps``; the last step's expression is the right-hand side.

    ``indices`` are free integer symbols (a class index k, a target t) that a concrete scope
    enumerates over 1..n, so that a statement about "every k" is checked for every k.
    """

    lhs: sp.Basic
    steps: tuple[Step, ...]
    rule: Rule
    indices: tuple[sp.Symbol, ...] = ()

    @property
    def rhs(self) -> sp.Basic:
        return self.steps[-1].expr

    @property
    def relation(self) -> str:
        rels = {s.rel for s in self.steps} - {"="}
        if len(rels) > 1:
            raise ValueError(f"derivation mixes relations {sorted(rels)}")
        return rels.pop() if rels else "="

    def statement(self) -> sp.Basic:
        """The claim as one SymPy relational, lhs rel rhs (unevaluated)."""
        return _RELATIONS[self.relation](self.lhs, self.rhs, evaluate=False)


def chain(lhs: sp.Basic, *steps: Step | tuple, rule: Rule, indices: Sequence[sp.Symbol] = ()) -> Derivation:
    """Build a Derivation; a step may be given as a tuple ``(expr, why[, rule[, rel]])``."""
    built = tuple(s if isinstance(s, Step) else Step(*s) for s in steps)
    if not built:
        raise ValueError("a derivation needs at least one step")
    return Derivation(lhs, built, rule, tuple(indices))


@dataclass(frozen=True)
class Claim:
    """A named, checked statement.

    build(n) returns the derivation for ``n`` = the symbol N (general scope) or an int (concrete).
    sample(n, rng) returns numeric values for every free symbol of build(n) (a concrete n), drawn
    from the assumptions (probabilities on the simplex, real logits, ...), for the float spot check.
    """

    id: str
    title: str
    build: Callable[[sp.Basic], Derivation]
    assumptions: tuple[str, ...]
    sympy_assumptions: tuple[str, ...]
    sample: Callable[[int, object], dict] | None = None
    general: bool = True
    concrete: tuple[int, ...] = tuple(range(2, 9))
    declared: tuple[str, ...] = ()
    page: str = ""
    source: str = ""

    def derivation(self) -> Derivation:
        """The derivation shown to readers: general n where claimed, otherwise the smallest concrete n."""
        return self.build(N if self.general else self.concrete[0])


def _holds(remainder: sp.Basic) -> bool:
    return remainder is sp.S.true or remainder == 0


def _check_derivation(d: Derivation, scope: str) -> Failure | None:
    prev = d.lhs
    for number, step in enumerate(d.steps, start=1):
        rule = step.rule or d.rule
        try:
            remainder = rule(prev, step.expr)
        except Exception as exc:  # a rule that crashes has not shown the link
            return Failure(scope, number, step.why, f"rule raised {type(exc).__name__}: {exc}")
        if not _holds(remainder):
            return Failure(scope, number, step.why, sp.sstr(remainder))
        prev = step.expr
    return None


def concrete_instances(d: Derivation, n: int):
    """Substitute every assignment of the free indices in 1..n (or the derivation itself)."""
    if not d.indices:
        yield d, ""
        return
    for values in itertools.product(range(1, n + 1), repeat=len(d.indices)):
        subs = dict(zip(d.indices, values, strict=True))
        label = ", ".join(f"{k} = {v}" for k, v in subs.items())
        steps = tuple(Step(_subs(s.expr, subs), s.why, s.rule, s.rel) for s in d.steps)
        yield Derivation(_subs(d.lhs, subs), steps, d.rule), label


def _subs(expr: sp.Basic, subs: dict) -> sp.Basic:
    return expr.xreplace(subs)


def check(claim: Claim, scopes: str = "all") -> Result:
    """Check a claim in its general scope (if it claims one) and for each concrete n.

    scopes: 'all', 'general' or 'concrete'. The claim holds when every scope it runs holds.
    """
    start = time.perf_counter()
    result = Result(claim.id, claim.title, holds=True)
    methods = []
    if claim.general and scopes in ("all", "general"):
        label, failure = _run(claim, N)
        methods.append("symbolic, " + label)
        if failure:
            result.holds, result.failure = False, failure
        else:
            result.scopes.append(label)
    if result.holds and scopes in ("all", "concrete"):
        if claim.concrete:
            methods.append("symbolic, concrete n")
        for n in claim.concrete:
            _, failure = _run(claim, n)
            if failure:
                result.holds, result.failure = False, failure
                break
            result.scopes.append(f"n = {n}")
    if claim.declared:
        methods.append("with declared link")
    result.method = "; ".join(methods)
    result.seconds = time.perf_counter() - start
    return result


def general_scope(d: Derivation) -> str:
    """'general n', or SCALAR when the derivation does not depend on the number of classes."""
    exprs = (d.lhs, *(s.expr for s in d.steps))
    return "general n" if any(N in sp.sympify(e).free_symbols for e in exprs) else SCALAR


def _run(claim: Claim, n) -> tuple[str, Failure | None]:
    """Build the derivation for n (the symbol N or an int) once, check it; returns (scope, failure)."""
    scope = "general n" if n is N else f"n = {n}"
    try:
        d = claim.build(n)
    except Exception as exc:
        return scope, Failure(scope, 0, "building the derivation", f"{type(exc).__name__}: {exc}")
    if n is N:
        scope = general_scope(d)
        instances = [(d, "")]
    else:
        instances = concrete_instances(d, n)
    for inst, label in instances:
        failure = _check_derivation(inst, f"{scope}, {label}" if label else scope)
        if failure:
            return scope, failure
    return scope, None
