"""The fused variants held to torch: kernels.torch.cross_entropy_overwrite_logits and
kernels.numpy.cross_entropy_with_grad, the in-place twins of the emitted kernels, and the two gradient
paths of kernels.torch.cross_entropy (e = exp(z - m) kept from forward, or recomputed from m).

Parity: value and gradient against torch.nn.functional.cross_entropy in float64 on the same inputs
(float32 and bfloat16 by the dtype tolerances of tests/_compare.py) on a grid of shapes, reductions and
options. The overwrite contract: after forward the input holds the gradient for grad_output = 1 (the
base of a view too); after backward a leaf's .grad shares its storage; what it refuses and what autograd
catches. Every input the overwrite variant receives is a fresh copy, so torch's reference is untouched.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _compare import TOLERANCES, assert_close

import kernels.numpy as kn
import kernels.torch as kt
from kernels._generated import numpy_ce, torch_ce
from kernels.torch._fold import C32

SHAPES = [(7, 11), (3, 5, 4), (9,)]  # (N, C), (N, C, d) spatial, (C) with a 0-d target
REDUCTIONS = ["mean", "sum", "none"]
OPTIONS = {
    "plain": {},
    "weight+ignore+ls": {"weight": True, "ignore_index": 2, "label_smoothing": 0.2},
    "ls": {"label_smoothing": 0.1},
}


def _inputs(shape, options, dtype, seed=0):
    """logits (scaled so rows are far from uniform), class-index targets (some = ignore_index), kwargs."""
    gen = torch.Generator().manual_seed(seed)
    logits = (torch.randn(shape, generator=gen, dtype=torch.float64) * 4).to(dtype)
    num_classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = torch.randint(0, num_classes, target_shape, generator=gen)
    kwargs = dict(options)
    if kwargs.pop("weight", False):
        kwargs["weight"] = (torch.rand(num_classes, generator=gen, dtype=torch.float64) + 0.5).to(dtype)
    if "ignore_index" in kwargs and target.dim():
        target.view(-1)[::3] = kwargs["ignore_index"]
    return logits, target, kwargs


def _torch_reference(logits, target, kwargs, reduction, upstream):
    """F.cross_entropy in float64 on the same (rounded) inputs: value and gradient."""
    x = logits.detach().to(torch.float64).requires_grad_()
    kw = {k: (v.to(torch.float64) if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    out = F.cross_entropy(x, target, reduction=reduction, **kw)
    (grad,) = torch.autograd.grad(out, x, upstream.to(torch.float64))
    return out.detach(), grad


def _upstream(shape, dtype):
    return (torch.rand(shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64) + 0.5).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_overwrite_logits_matches_torch(shape, option, reduction, dtype):
    logits, target, kwargs = _inputs(shape, OPTIONS[option], dtype)
    tol = TOLERANCES[dtype]
    x = logits.clone().requires_grad_()
    out = kt.cross_entropy_overwrite_logits(x, target, reduction=reduction, **kwargs)
    upstream = _upstream(out.shape, dtype)
    expected, expected_grad = _torch_reference(logits, target, kwargs, reduction, upstream)
    assert out.dtype == dtype and out.shape == expected.shape
    assert_close(out, expected, atol=tol.atol, rtol=max(tol.rtol, 1e-12), what="overwrite: value")
    out.backward(upstream)
    assert_close(x.grad, expected_grad, atol=tol.atol, rtol=max(tol.rtol, 1e-12), what="overwrite: gradient")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", OPTIONS)
def test_after_forward_the_input_holds_the_gradient_and_backward_returns_that_storage(option, reduction):
    logits, target, kwargs = _inputs((6, 10), OPTIONS[option], torch.float64)
    x = logits.clone().requires_grad_()
    out = kt.cross_entropy_overwrite_logits(x, target, reduction=reduction, **kwargs)
    _, unscaled = _torch_reference(logits, target, kwargs, reduction, torch.ones_like(out))
    assert_close(x.detach(), unscaled, atol=1e-12, rtol=1e-12, what="input after forward")
    upstream = _upstream(out.shape, torch.float64)
    out.backward(upstream)
    _, expected = _torch_reference(logits, target, kwargs, reduction, upstream)
    assert_close(x.grad, expected, atol=1e-12, rtol=1e-12, what="gradient")
    assert x.grad.data_ptr() == x.data_ptr(), "the gradient should be the input's own storage (no N x C copy)"


def test_a_view_overwrites_its_base():
    logits, target, _ = _inputs((6, 8), {}, torch.float64)
    logits, target = logits.view(2, 3, 8), target.view(2, 3)  # (B, T, V) as a language model emits it
    base = logits.clone().requires_grad_()
    flat = base.view(-1, 8)
    kt.cross_entropy_overwrite_logits(flat, target.view(-1)).backward()
    _, expected = _torch_reference(logits.view(-1, 8), target.view(-1), {}, "mean", torch.ones(()))
    assert_close(base.detach().view(-1, 8), expected, atol=1e-12, rtol=1e-12, what="base after the call")
    assert_close(base.grad.view(-1, 8), expected, atol=1e-12, rtol=1e-12, what="base.grad")


def test_without_a_gradient_nothing_is_overwritten():
    logits, target, kwargs = _inputs((5, 7), OPTIONS["weight+ignore+ls"], torch.float32)
    plain = logits.clone()  # requires_grad False
    assert torch.equal(
        kt.cross_entropy_overwrite_logits(plain, target, **kwargs), kt.cross_entropy(logits, target, **kwargs)
    )
    assert torch.equal(plain, logits)
    with torch.no_grad():
        x = logits.clone().requires_grad_()
        kt.cross_entropy_overwrite_logits(x, target, **kwargs)
    assert torch.equal(x.detach(), logits)


def test_refuses_a_parameter_and_an_output_its_producer_saved():
    logits, target, _ = _inputs((4, 6), {}, torch.float32)
    parameter = torch.nn.Parameter(logits.clone())
    with pytest.raises(RuntimeError, match=r"nn\.Parameter"):
        kt.cross_entropy_overwrite_logits(parameter, target)
    assert torch.equal(parameter.detach(), logits)
    source = logits.clone().requires_grad_()
    squashed = torch.tanh(source) * 1.0  # a fresh product: tanh's saved output is not the input
    kt.cross_entropy_overwrite_logits(squashed, target).backward()  # allowed
    tanh_out = torch.tanh(source)
    with pytest.raises(RuntimeError, match=r"TanhBackward0.*saved it"):
        kt.cross_entropy_overwrite_logits(tanh_out, target)
    with pytest.raises(RuntimeError, match=r"TanhBackward0.*saved it"):
        kt.cross_entropy_overwrite_logits(tanh_out.view(2, 12).view(4, 6), target)  # through views too


def test_refuses_probability_targets():
    logits, _, _ = _inputs((4, 6), {}, torch.float32)
    x = logits.clone().requires_grad_()
    with pytest.raises(RuntimeError, match="class-index targets only"):
        kt.cross_entropy_overwrite_logits(x, torch.softmax(torch.randn(4, 6), 1))
    assert torch.equal(x.detach(), logits)


def test_autograd_catches_another_op_that_saved_the_logits():
    logits, target, _ = _inputs((4, 6), {}, torch.float64)
    x = logits.clone().requires_grad_()
    hidden = x * 2.0
    penalty = hidden.pow(2).mean()  # pow saves `hidden` for its backward
    loss = kt.cross_entropy_overwrite_logits(hidden, target) + penalty
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_second_backward_raises_instead_of_scaling_twice():
    logits, target, _ = _inputs((4, 6), {}, torch.float64)
    x = logits.clone().requires_grad_()
    out = kt.cross_entropy_overwrite_logits(x * 1.0, target)
    out.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="backward ran twice"):
        out.backward()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cross_entropy_second_backward_recomputes_and_a_third_derivative_raises(dtype):
    logits, target, kwargs = _inputs((5, 9), OPTIONS["weight+ignore+ls"], dtype)
    x = logits.clone().requires_grad_()
    out = kt.cross_entropy(x, target, **kwargs)
    (first,) = torch.autograd.grad(out, x, retain_graph=True)  # from e kept by forward
    (second,) = torch.autograd.grad(out, x)  # recomputed from the saved m
    tol = TOLERANCES[dtype]
    assert_close(second, first, atol=tol.atol, rtol=tol.rtol, what="second backward")
    (grad,) = torch.autograd.grad(kt.cross_entropy(x, target, **kwargs), x, create_graph=True)
    (hv,) = torch.autograd.grad((grad * grad.detach()).sum(), x, create_graph=True)  # H v for v = the gradient
    (expected,) = torch.autograd.grad(F.cross_entropy(x, target, **kwargs), x, create_graph=True)
    (expected_hv,) = torch.autograd.grad((expected * expected.detach()).sum(), x)
    assert_close(hv, expected_hv, atol=tol.atol, rtol=tol.rtol, what="Hessian-vector product")
    with pytest.raises(RuntimeError, match=r"a third derivative is not supported by kernels\.torch\.cross_entropy"):
        hv.sum().backward()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_numpy_with_grad_matches_torch_and_the_separate_calls(shape, option, reduction, dtype):
    torch_dtype = {np.float64: torch.float64, np.float32: torch.float32, np.float16: torch.float16}[dtype]
    logits, target, kwargs = _inputs(shape, OPTIONS[option], torch_dtype)
    x = logits.numpy().copy()
    kw = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    g = _upstream(kt.cross_entropy(logits, target, reduction=reduction, **kwargs).shape, torch_dtype)
    loss, grad = kn.cross_entropy_with_grad(x, target.numpy(), reduction=reduction, grad_output=g.numpy(), **kw)
    assert np.array_equal(x, logits.numpy()), "cross_entropy_with_grad must not modify its input"
    assert loss.dtype == x.dtype and grad.dtype == x.dtype and grad.shape == x.shape
    expected, expected_grad = _torch_reference(logits, target, kwargs, reduction, g)
    tol = TOLERANCES[torch_dtype]
    assert_close(loss, expected, atol=tol.atol, rtol=tol.rtol, what="with_grad: value")
    assert_close(grad, expected_grad, atol=tol.atol, rtol=tol.rtol, what="with_grad: gradient")
    t = target.numpy()
    np.testing.assert_array_equal(loss, kn.cross_entropy(x, t, reduction=reduction, **kw))
    np.testing.assert_array_equal(grad, kn.cross_entropy_grad(x, t, reduction=reduction, grad_output=g.numpy(), **kw))


def test_numpy_with_grad_takes_probability_targets():
    logits, _, _ = _inputs((5, 7), {}, torch.float64)
    p = torch.softmax(torch.randn(5, 7, dtype=torch.float64), 1)
    loss, grad = kn.cross_entropy_with_grad(logits.numpy(), p.numpy(), label_smoothing=0.1)
    x = logits.clone().requires_grad_()
    expected = F.cross_entropy(x, p, label_smoothing=0.1)
    expected.backward()
    assert_close(loss, expected.detach(), atol=1e-12, rtol=1e-12, what="value")
    assert_close(grad, x.grad, atol=1e-12, rtol=1e-12, what="gradient")


_INTO = [name.removesuffix("_into") for name in dir(torch_ce) if name.endswith("_into")]


@pytest.mark.parametrize("name", _INTO)
@pytest.mark.parametrize("alias", [False, True], ids=["fresh-out", "out-is-the-block"])
def test_every_into_twin_computes_its_pure_expression(name, alias):
    """<name>_into(out, ...) equals <name>(...) in both backends, also when out is the block it reads."""
    rng = np.random.default_rng(3)
    values = {  # a (4, 6, 1) block, row-level (4, 1, 1) coefficients, a (1, 6, 1) class vector
        "z": rng.normal(size=(4, 6, 1)) * 3,
        "m": None,
        "u": -rng.uniform(0, 20, size=(4, 6, 1)),
        "e": rng.uniform(0.01, 1, size=(4, 6, 1)),
        "a": rng.normal(size=(4, 1, 1)),
        "b": rng.normal(size=(4, 1, 1)),
        "g": rng.normal(size=(4, 1, 1)),
        "w": rng.uniform(0.5, 1.5, size=(1, 6, 1)),
        "y": rng.uniform(size=(4, 6, 1)),
        "v": rng.normal(size=(4, 6, 1)),  # a direction in logit space
        "sv": rng.normal(size=(4, 1, 1)),  # its softmax-weighted row sum
        "la": np.array([-np.inf, -9.0, -0.5, 0.0]).reshape(4, 1, 1),  # log2 a <= 0; -inf for a = 0
    }
    values["m"] = values["z"].max(axis=1, keepdims=True)
    values["c"] = C32  # a Python float: torch.add takes it as alpha
    values["cap"] = 5.0  # softcap, a Python float
    values["s"] = values["la"] - C32 * values["m"]  # s = log2 a - c m <= -c m; -inf where a = 0
    for module, as_array in ((numpy_ce, np.asarray), (torch_ce, torch.from_numpy)):
        pure, into = getattr(module, name), getattr(module, f"{name}_into")
        names = pure.__code__.co_varnames[: pure.__code__.co_argcount]
        args = [values[p] if isinstance(values[p], float) else as_array(values[p].copy()) for p in names]
        expected = pure(*args)
        out = args[0] if alias else (np.empty_like(args[0]) if module is numpy_ce else torch.empty_like(args[0]))
        got = into(out, *args)
        assert got is out
        assert_close(got, expected, atol=1e-15, rtol=1e-15, what=f"{module.__name__}.{name}_into")
