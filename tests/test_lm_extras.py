"""The z-loss (lse_square_scale) and soft-capping (softcap) of cross_entropy and linear_cross_entropy, both backends.

The oracle is their definition written with torch in float64: the capped logits c tanh(z / c) through
F.cross_entropy, plus s logsumexp^2 of every counted position ('mean': divided by their number), and its
autograd gradient. Planted slips in the claims (the z-loss gradient without its 2, the capped gradient
without the cap's derivative) must fail; bad values are refused with the fix named.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from _compare import assert_close, seeded

import kernels.numpy as knp
import kernels.torch as kt
from derivations.engine.core import Claim, chain, check
from derivations.engine.rules import scoped
from derivations.engine.symbols import LSE, k, z
from derivations.topics import lm_head_extras as extras


def reference(logits, target, *, lse_square_scale=0.0, softcap=None, **kwargs):
    capped = softcap * torch.tanh(logits / softcap) if softcap else logits
    loss = F.cross_entropy(capped, target, **kwargs)
    if not lse_square_scale:
        return loss
    term = lse_square_scale * torch.logsumexp(capped, 1) ** 2
    keep = (
        target != kwargs.get("ignore_index", -100) if target.dtype == torch.long else torch.ones_like(term, dtype=bool)
    )
    term = torch.where(keep, term, torch.zeros_like(term))
    reduction = kwargs.get("reduction", "mean")
    return loss + (term if reduction == "none" else term.sum() / (keep.sum() if reduction == "mean" else 1))


GRID = list(
    itertools.product(
        ["mean", "sum", "none"],
        ["index", "prob"],
        [dict(lse_square_scale=1e-2), dict(softcap=3.0), dict(lse_square_scale=1e-3, softcap=5.0)],
        [dict(), dict(label_smoothing=0.1, weight=True, ignore_index=2)],
        [1, 3],  # S: positions per row (S > 1: (N, C, S) logits, a K-dimensional linear weight)
    )
)


def _case(kind, extra, s, key):
    gen = seeded("extras", kind, sorted(extra), s, key)
    n, c = 9, 7
    shape = (n, c) if s == 1 else (n, c, s)
    logits = torch.randn(shape, generator=gen, dtype=torch.float64) * 4
    if kind == "index":
        target = torch.randint(0, c, shape[:1] + shape[2:], generator=gen)
        target[0] = 2
    else:
        target = torch.randn(shape, generator=gen, dtype=torch.float64).softmax(1)
    kwargs = {k_: v for k_, v in extra.items() if k_ != "weight" and not (kind == "prob" and k_ == "ignore_index")}
    if extra.get("weight"):
        kwargs["weight"] = torch.rand(c, generator=gen, dtype=torch.float64) + 0.5
    return logits, target, kwargs


def _against_reference(ours, inputs, make_logits, target, kwargs, what):
    leaves = [[t.clone().requires_grad_() for t in inputs] for _ in range(2)]
    got = ours(*leaves[0], target, **kwargs)
    want = reference(make_logits(*leaves[1]), target, **kwargs)
    upstream = torch.rand(want.shape, generator=seeded("upstream"), dtype=torch.float64) + 0.5
    got.backward(upstream)
    want.backward(upstream)
    assert_close(got, want.detach(), atol=1e-12, rtol=1e-12, what=f"{what}: loss")
    for a, b in zip(leaves[0], leaves[1], strict=True):
        assert_close(a.grad, b.grad, atol=1e-12, rtol=1e-12, what=f"{what}: gradient")


@pytest.mark.parametrize("reduction, kind, lm, extra, s", GRID)
def test_torch_cross_entropy(reduction, kind, lm, extra, s):
    logits, target, kwargs = _case(kind, extra, s, "ce")
    kwargs.update(reduction=reduction, **lm)
    before = logits.clone()
    _against_reference(kt.cross_entropy, [logits], lambda x: x, target, kwargs, f"{reduction} {kind} {lm}")
    assert torch.equal(logits, before), "the caller's logits were written"


@pytest.mark.parametrize("reduction, kind, lm, extra, s", GRID)
def test_torch_linear_cross_entropy(reduction, kind, lm, extra, s):
    logits, target, kwargs = _case(kind, extra, s, "linear")
    n, c = logits.shape[:2]
    x = torch.randn(n, 4, generator=seeded("x", s), dtype=torch.float64)
    w = torch.randn((c, 4) if s == 1 else (c, s, 4), generator=seeded("w", s), dtype=torch.float64)
    kwargs.update(reduction=reduction, **lm)
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4)

    def ours(x, w, target, **kw):
        return kt.linear_cross_entropy(x, w, target, options=options, **kw)

    _against_reference(ours, [x, w], lambda x, w: (x @ w.reshape(-1, 4).T).reshape(logits.shape), target, kwargs, lm)


@pytest.mark.parametrize("reduction, kind, lm, extra, s", GRID)
def test_numpy_cross_entropy_and_linear(reduction, kind, lm, extra, s):
    logits, target, kwargs = _case(kind, extra, s, "numpy")
    kwargs.update(reduction=reduction, **lm)
    leaf = logits.clone().requires_grad_()
    want = reference(leaf, target, **kwargs)
    upstream = torch.rand(want.shape, generator=seeded("upstream"), dtype=torch.float64) + 0.5
    want.backward(upstream)
    arrays = {k_: v.numpy() if isinstance(v, torch.Tensor) else v for k_, v in kwargs.items()}
    loss, grad = knp.cross_entropy_with_grad(logits.numpy(), target.numpy(), grad_output=upstream.numpy(), **arrays)
    np.testing.assert_allclose(loss, want.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, leaf.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(knp.cross_entropy(logits.numpy(), target.numpy(), **arrays), loss, rtol=1e-14)
    # the same logits through a linear layer with the identity as its weight (rows of C S inputs)
    n, c = logits.shape[:2]
    x = logits.reshape(n, -1).numpy()
    eye = np.eye(x.shape[1]).reshape(c, *logits.shape[2:], x.shape[1])
    if kind == "prob" or "ignore_index" not in arrays:
        arrays.pop("ignore_index", None)
    got = knp.linear_cross_entropy(x, eye, target.numpy(), **arrays)
    np.testing.assert_allclose(got, loss, rtol=1e-12, atol=1e-12)


def test_float32_and_bfloat16_stay_close_to_float64():
    logits, target, kwargs = _case("index", {}, 1, "low")
    kwargs.update(lse_square_scale=1e-2, softcap=5.0)
    exact = reference(logits, target, **kwargs)
    for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 2.0**-7)):
        got = kt.cross_entropy(logits.to(dtype), target, **kwargs)
        assert got.dtype == dtype
        assert_close(
            got.double(), reference(logits.to(dtype).double(), target, **kwargs), atol=tol, rtol=tol, what=str(dtype)
        )
    assert torch.isfinite(exact)


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(lse_square_scale=-1.0), ValueError, "lse_square_scale must be a finite number >= 0"),
        (dict(lse_square_scale=float("nan")), ValueError, "lse_square_scale"),
        (dict(softcap=0.0), ValueError, "softcap must be a finite number > 0 or None"),
        (dict(softcap="30"), TypeError, "must be numbers"),
    ],
)
def test_bad_values_are_refused_with_the_fix(kwargs, error, text):
    x, t = torch.randn(4, 5), torch.tensor([0, 1, 2, 3])
    for fn in (kt.cross_entropy, knp.cross_entropy):
        args = (x, t) if fn is kt.cross_entropy else (x.numpy(), t.numpy())
        with pytest.raises(error, match=text):
            fn(*args, **kwargs)
    with pytest.raises(error, match=text):
        kt.linear_cross_entropy(x, torch.randn(6, 5), t, **kwargs)


def _planted(build) -> Claim:
    return Claim("planted.extras", "a wrong extra", build, ("planted",), ("planted",), extras._sample, concrete=(2, 3))


def test_a_z_loss_gradient_without_its_two_fails():
    def build(n):
        wrong = extras.s * LSE(z, n) * extras.softmax_via_lse(k, n)  # 2 s LSE softmax, without the 2
        return chain(
            sp.Derivative(extras.s * LSE(z, n) ** 2, z[k]),
            (wrong, "planted"),
            rule=scoped(n, k, explicit_lse=False),
            indices=(k,),
        )

    assert not check(_planted(build)).holds


def test_a_capped_gradient_without_the_caps_derivative_fails():
    def build(n):
        good = extras.softcap_gradient(n)
        wrong = good.rhs.args[0] if isinstance(good.rhs, sp.Mul) else good.rhs  # drop one factor of the product
        return chain(
            good.lhs,
            (wrong, "planted: the factor 1 - (z' / c)^2 dropped"),
            rule=good.steps[0].rule or good.rule,
            indices=good.indices,
        )

    assert not check(_planted(build)).holds
