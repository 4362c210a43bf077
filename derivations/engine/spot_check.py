"""The numeric spot check: every link of a concrete derivation, evaluated at random points.

Independent of any rule or simplification: each side of each link is evaluated in ``digits``-digit
arithmetic (mpmath, through SymPy's evalf) at exact rational points drawn by the claim's sampler from
its assumptions, so a rule that "proves" a false link, or a declared fact that is wrong, is caught.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Claim, concrete_instances


def spot_check(claim: Claim, rng, n: int = 4, trials: int = 3, digits: int = 30) -> list[str]:
    """Evaluate every expression of the concrete derivation at random points (mpmath, ``digits``).

    Returns a list of problems (empty when every link holds numerically). Independent of any
    simplification: a rule that "proves" a false link is caught here. The sampler gives values for
    the plain entries (z[1], ..., z[n], t); an entry that a sampled index selects (z[t]) needs no key.
    """
    if claim.sample is None:
        raise ValueError(f"claim {claim.id} has no sampler for a numeric spot check")
    problems = []
    d = claim.build(n)
    for _ in range(trials):
        values = claim.sample(n, rng)
        for inst, label in concrete_instances(d, n):
            prev = _evaluate(inst.lhs, values, digits)
            for number, step in enumerate(inst.steps, start=1):
                cur = _evaluate(step.expr, values, digits)
                if not _numeric_holds(prev, cur, step.rel, digits):
                    problems.append(f"{label} step {number} ({step.why}): {prev} {step.rel} {cur} fails")
                prev = cur
    return problems


def _evaluate(expr: sp.Basic, values: dict, digits: int):
    # opaque statistics (LSE) are evaluated through their textbook definition
    expr = sp.sympify(expr).replace(lambda e: hasattr(e, "expand_explicit"), lambda e: e.expand_explicit())
    value = expr.doit()  # derivatives and sums first, while every entry is still a symbol
    for _ in range(2):  # the second pass fills the entries the first one selected: z[t] -> z[2] -> its value
        value = value.xreplace(values).doit()
    value = value.evalf(digits)
    if getattr(value, "free_symbols", None):
        raise ValueError(f"sample leaves free symbols {value.free_symbols} in {expr}")
    return value


def _numeric_holds(a, b, rel: str, digits: int) -> bool:
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        pairs = list(zip(sp.Matrix(a), sp.Matrix(b), strict=True))
    else:
        pairs = [(a, b)]
    tol = sp.Float(10) ** (-(digits - 8))
    for x, y in pairs:
        x, y = sp.N(x, digits), sp.N(y, digits)
        if x.has(sp.nan) or y.has(sp.nan):
            return False
        scale = 1 + max(abs(x), abs(y))
        if rel == "=" and not abs(x - y) <= tol * scale:
            return False
        if rel == ">=" and not x - y >= -tol * scale:
            return False
        if rel == "<=" and not x - y <= tol * scale:
            return False
    return True
