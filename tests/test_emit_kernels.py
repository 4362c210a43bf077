"""The emitted kernels' math: the overflow check refuses every exp that can overflow and passes every emitted
one, the kernel claims hold (and a wrong kernel form fails its claim), each emitted function computes its
SymPy expression at random points, and the printers refuse what they cannot print.

The emission itself (drift, determinism, the banner, safe writes) is tested in tests/test_emit.py.
"""

from __future__ import annotations

import pytest
import sympy as sp

from derivations import emission
from derivations.emission import kernel
from derivations.emission.kernel import SCALE, ZT, Exp2, M, S, Z
from derivations.emission.overflow import OverflowRisk, require_overflow_free


@pytest.mark.parametrize(
    "planted",
    [
        sp.exp(Z - ZT),
        sp.exp(Z),
        sp.exp(M - Z),
        sp.exp(Z - M + 1),
        sp.exp(Z - M) * sp.exp(M),
        Exp2(SCALE * Z - S),  # the folded shift with its sign flipped: s <= -c m makes c z - s unbounded
        Exp2(SCALE * M + S + 1),
    ],
    ids=str,
)
def test_overflow_check_refuses_an_exp_that_can_overflow(planted):
    with pytest.raises(OverflowRisk, match="planted"):
        require_overflow_free("planted", sp.Symbol("a") * planted)


def test_every_emitted_exp_passes_the_overflow_check():
    for k in emission.kernels():
        require_overflow_free(k.name, k.expr)  # raises on failure


def test_kernel_claims_hold_and_every_kernel_names_one():
    from derivations.engine.core import check

    results = {c.id: check(c) for c in emission.claims()}
    assert all(r.holds for r in results.values()), [(i, r.failure) for i, r in results.items() if not r.holds]
    assert {k.claim for k in emission.kernels()} <= set(results)


def test_a_wrong_kernel_form_fails_its_claim(monkeypatch):
    from derivations.emission.ce import loss_claims
    from derivations.engine.core import check

    right = loss_claims.forms()
    wrong = {**right, "ce_index_loss": right["ce_index_loss"].subs(sp.log(kernel.D), 0)}  # drops log d
    assert wrong["ce_index_loss"] != right["ce_index_loss"]
    monkeypatch.setattr(loss_claims, "forms", lambda: wrong)
    claim = next(c for c in emission.claims() if c.id == "kernel.ce_index_loss")
    assert not check(claim).holds


def _domain(symbol: sp.Symbol, rng) -> float:
    """A value inside the domain of a kernel argument (d >= 1, probabilities in (0, 1], C >= 1, u and log2 a
    <= 0, a row coefficient a in (0, 1] where log2_coef takes its logarithm)."""
    name = symbol.name
    if symbol.is_nonpositive:
        return -float(rng.uniform(0, 10))
    if name == "a":
        return float(rng.uniform(0.01, 1))
    if name == "d":
        return float(rng.uniform(1, 5))
    if name in ("p", "q", "eps"):
        return float(rng.uniform(0.01, 1))
    if name == "num_classes":
        return float(rng.integers(1, 10))
    if name == "cap":  # softcap c > 0
        return float(rng.uniform(1, 30))
    return float(rng.uniform(-3, 3))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_emitted_functions_compute_their_sympy_expressions(backend):
    """Print, don't exec, but check: each emitted function equals its expression at random points."""
    import importlib

    import numpy as np
    import torch

    rng = np.random.default_rng(7)
    for k in emission.kernels():
        module = importlib.import_module(f"kernels._generated.{backend}_{k.family}")
        for _ in range(5):
            values = {a: _domain(a, rng) for a in k.args}
            expected = float(k.expr.doit().subs(values).evalf(30))
            args = [
                np.array([v]) if backend == "numpy" else torch.tensor([v], dtype=torch.float64) for v in values.values()
            ]
            got = float(np.asarray(getattr(module, k.name)(*args)).reshape(-1)[0])
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), (backend, k.name, values)


@pytest.mark.parametrize(
    "expr",
    [
        sp.KroneckerDelta(Z, ZT),
        sp.Piecewise((Z, Z > 0), (0, True)),
        sp.Sum(Z, (sp.Symbol("j", integer=True), 1, 3)),
        sp.besselj(0, Z),
        sp.sqrt(Z),
    ],
    ids=str,
)
@pytest.mark.parametrize("backend", ["numpy", "torch", "triton"])
def test_printers_raise_on_what_they_cannot_print(expr, backend):
    from derivations.emission.printers import PRINTERS

    with pytest.raises(Exception, match=r"print|Unsupported|not supported"):
        PRINTERS[backend]().doprint(expr)
