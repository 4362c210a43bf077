"""How the kernel tests compare numbers: one helper, one tolerance table, one parity runner.

`assert_close(actual, expected, atol=, rtol=, what=)` passes where |a - e| <= atol + rtol |e| element by
element, where NaN sits in the same places and infinities are equal. On failure it says how many elements
differ, where the worst one is, its two values, and where NaN or inf appears on one side only.

`check_parity(ours, theirs, args, ...)` runs a loss from `kernels.torch` and its `torch.nn.functional`
twin on the same inputs, and compares output shape, dtype, value and the gradients (vector-Jacobian
products with one random upstream gradient) by the tolerance of the dtype in `TOLERANCES`. In float64
torch's result is the expected value; in float32, float16 and bfloat16 the expected value is torch in
float64 on the same rounded inputs, and torch's own result in the dtype is the bar ours must clear.

`seeded(*key)` is the generator every test case draws from: one seed per case key, the same on every run.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
import torch


def seeded(*key) -> torch.Generator:
    """A generator seeded from the case key: the same numbers on every run and every machine."""
    return torch.Generator().manual_seed(zlib.crc32(repr(key).encode()))


@dataclass(frozen=True)
class Tol:
    atol: float
    rtol: float
    # True: the oracle is torch in float64 on the same (already rounded) inputs, and an element also
    # passes when ours is at least as close to that oracle as torch in this dtype is.
    oracle: bool = False


TOLERANCES = {
    # float64: ours and torch evaluate the same max-shifted expressions with sums in another order; a sum
    # of n terms in another order moves by about n * 2^-53, which is 1e-13 relative for n in the thousands.
    torch.float64: Tol(atol=1e-12, rtol=1e-12),
    # float32: eps = 2^-23 = 1.2e-7; log-sum-exp over a few hundred classes and reductions in a different
    # order stay well under 1e-5 relative; 1e-6 absolute covers values near 0 (softmax tails, -0. losses).
    # Held to the float64 oracle too: torch's own float32 result can be further off (e.g. products of
    # subnormal probabilities in kl_div's target gradient), and ours must not be penalised for beating it.
    torch.float32: Tol(atol=1e-6, rtol=1e-5, oracle=True),
    # float16: the inputs are exact float16 numbers, so the float64 value on them is the true answer. A
    # kernel that accumulates in float32 and rounds once is within half an ulp, 2^-11 relative; we allow
    # one ulp, 2^-10. Absolute 1e-5 covers results in float16's subnormal range (spacing 6e-8).
    torch.float16: Tol(atol=1e-5, rtol=2.0**-10, oracle=True),
    # bfloat16: 8 significand bits, one ulp = 2^-7 relative; float32's exponent range, so no subnormal
    # concern at the sizes tested; the absolute 1e-5 covers values at 0.
    torch.bfloat16: Tol(atol=1e-5, rtol=2.0**-7, oracle=True),
}

#: The dtypes of TOLERANCES as pytest parameters, named without "torch.".
DTYPES = [pytest.param(d, id=str(d).removeprefix("torch.")) for d in TOLERANCES]


def _as_f64(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().to(torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


def assert_close(actual, expected, *, atol: float, rtol: float, what: str, reference=None, scale=None) -> None:
    """Assert actual ~ expected elementwise; `reference` (torch's own result in a low-precision dtype) loosens
    it only where ours is at least as close to `expected` as the reference is, or equal to it.

    `scale`, for a sum of products such as a matmul's gradient, is the same sum of the products' magnitudes
    (|G|^T |X| for G^T X): a float sum's rounding error is bounded relative to it, not to the result, which
    cancellation can make arbitrarily small. The relative tolerance applies to max(|expected|, scale)."""
    with np.errstate(invalid="ignore", over="ignore"):
        size = None if scale is None else _as_f64(scale)
        _assert_close(_as_f64(actual), _as_f64(expected), atol, rtol, what, reference, size)


def _assert_close(a, e, atol, rtol, what, reference, scale=None):
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    a_nan, e_nan = np.isnan(a), np.isnan(e)
    both = ~a_nan & ~e_nan
    inf = both & (np.isinf(a) | np.isinf(e))
    err = np.where(both & ~inf, np.abs(a - e), 0.0)
    size = np.abs(np.where(both, e, 0.0))
    if scale is not None:
        size = np.maximum(size, np.where(both & np.isfinite(scale), scale, 0.0))
    bad = (err > atol + rtol * size) | (inf & (a != e)) | (a_nan != e_nan)
    if reference is not None:
        # as close as torch in this dtype: a smaller error, or the very value torch gives (NaN and inf included)
        r = _as_f64(reference)
        ref_err = np.where(both & ~inf & ~np.isnan(r), np.abs(r - e), np.inf)
        bad &= ~(both & ~inf & (err <= ref_err)) & ~((a == r) | (a_nan & np.isnan(r)))
    if not bad.any():
        return
    lines = [f"{what}: {int(bad.sum())} of {a.size} elements differ (atol={atol:g}, rtol={rtol:g})"]
    # the worst element: largest error, with NaN/inf disagreements ranked above every finite error
    score = np.where(bad, np.where(both & ~inf, err, np.inf), -1.0)
    worst = np.unravel_index(int(np.argmax(score)), a.shape) if a.ndim else ()
    diff = abs(a[worst] - e[worst]) if both[worst] else math.nan
    index = tuple(int(i) for i in worst)
    lines.append(f"  worst at index {index}: actual={float(a[worst])!r}, expected={float(e[worst])!r}, |diff|={diff:g}")
    if reference is not None:
        lines.append(f"  torch in this dtype there: {float(r[worst])!r}")
    for name, mask in (
        ("NaN in actual where expected is not", a_nan & ~e_nan),
        ("NaN in expected where actual is not", e_nan & ~a_nan),
        ("infinite on one side only or of other sign", inf & (a != e)),
    ):
        if mask.any():
            first = tuple(int(i) for i in np.argwhere(mask)[0])
            at = f"first at {first}: actual={float(a[first])!r}, expected={float(e[first])!r}"
            lines.append(f"  {name}: {int(mask.sum())} ({at})")
    raise AssertionError("\n".join(lines))


def _upcast(x):
    return x.to(torch.float64) if isinstance(x, torch.Tensor) and x.is_floating_point() else x


def _upstream(out: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The upstream gradient of every run: fixed random values in [0.5, 1.5), rounded to `dtype`."""
    gen = torch.Generator().manual_seed(1234)
    g = torch.rand(out.shape, generator=gen, dtype=torch.float64) + 0.5
    return g.to(dtype).to(out.dtype).to(out.device)


def _run(fn, args, kwargs, grad_args, dtype):
    """fn(*args, **kwargs) on fresh leaves; returns the output and d<out, upstream>/d args[i], i in grad_args."""
    leaves = [a.detach().requires_grad_() if i in grad_args else a for i, a in enumerate(args)]
    out = fn(*leaves, **kwargs)
    if not grad_args:
        return out, []
    grads = torch.autograd.grad(out, [leaves[i] for i in grad_args], _upstream(out, dtype), allow_unused=True)
    return out, list(grads)


def check_parity(ours, theirs, args, kwargs=None, *, grad_args=(0,), what: str) -> None:
    """Compare ours(*args, **kwargs) with theirs(...) on the same tensors: value, shape, dtype, gradients."""
    kwargs = dict(kwargs or {})
    dtype = args[0].dtype
    tol = TOLERANCES[dtype]
    got, got_grads = _run(ours, args, kwargs, grad_args, dtype)
    ref, ref_grads = _run(theirs, args, kwargs, grad_args, dtype)
    assert got.shape == ref.shape, f"{what}: output shape {tuple(got.shape)}, torch gives {tuple(ref.shape)}"
    assert got.dtype == ref.dtype, f"{what}: output dtype {got.dtype}, torch gives {ref.dtype}"
    expected, expected_grads, reference, reference_grads = ref, ref_grads, None, [None] * len(ref_grads)
    if tol.oracle:
        reference, reference_grads = ref, ref_grads
        args64 = [_upcast(a) for a in args]
        expected, expected_grads = _run(theirs, args64, {k: _upcast(v) for k, v in kwargs.items()}, grad_args, dtype)
        # where the true value is not representable in this dtype, the right answer is the rounded one (inf)
        expected = _through(expected, dtype)
        expected_grads = [None if g is None else _through(g, dtype) for g in expected_grads]
    assert_close(got, expected, atol=tol.atol, rtol=tol.rtol, what=f"{what}: value", reference=reference)
    for k, (g, e) in enumerate(zip(got_grads, expected_grads, strict=True)):
        name = f"{what}: grad wrt argument {grad_args[k]}"
        assert (g is None) == (e is None), f"{name}: ours gives a gradient: {g is not None}, torch: {e is not None}"
        if g is not None:
            assert g.dtype == args[grad_args[k]].dtype, f"{name}: dtype {g.dtype}"
            assert_close(g, e, atol=tol.atol, rtol=tol.rtol, what=name, reference=reference_grads[k])


def _through(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """float64 values, except where rounding to `dtype` overflows: there the rounded value (+-inf)."""
    rounded = x.to(dtype).to(torch.float64)
    return torch.where(torch.isfinite(rounded) | ~torch.isfinite(x), x, rounded)
