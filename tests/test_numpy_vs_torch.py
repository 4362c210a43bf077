"""kernels.numpy against torch in float64 (loss and `<name>_grad` vs autograd, with and without an upstream
gradient), and float32 inputs that stay float32. The 50-digit mpmath oracle is in tests/test_numpy_vs_mpmath.py.
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _compare import TOLERANCES, assert_close

import kernels.numpy as kn

F64 = TOLERANCES[torch.float64]
REDUCTIONS = ["none", "sum", "mean"]


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _cases():
    """name -> (function name, args, kwargs): arrays in float64; the first argument is differentiated."""
    r = _rng("numpy-cases")
    x, xs, x1 = r.normal(size=(5, 7)) * 3, r.normal(size=(2, 4, 3, 2)) * 3, r.normal(size=6) * 3
    t = np.array([0, 3, 6, 2, 3])
    ts = r.integers(0, 4, size=(2, 3, 2))
    w, w4 = r.uniform(0.5, 1.5, 7), r.uniform(0.5, 1.5, 4)
    p = r.dirichlet(np.ones(7), size=5)
    p[0, :3] = 0.0  # zero probabilities: 0 log 0 = 0
    y = r.uniform(size=(5, 7))
    return {
        "ce": ("cross_entropy", (x, t), {}),
        "ce-weight-ignore-ls": ("cross_entropy", (x, t), {"weight": w, "ignore_index": 3, "label_smoothing": 0.2}),
        "ce-ls1": ("cross_entropy", (x, t), {"label_smoothing": 1.0}),
        "ce-spatial-weight": ("cross_entropy", (xs, ts), {"weight": w4}),
        "ce-1d-0d-target": ("cross_entropy", (x1, np.array(4)), {}),
        "ce-empty": ("cross_entropy", (np.zeros((0, 7)), np.zeros(0, dtype=np.int64)), {}),
        "ce-all-ignored": ("cross_entropy", (x, np.full(5, -100)), {"label_smoothing": 0.1}),
        "ce-uint8-255": ("cross_entropy", (x, np.array([0, 255, 6, 255, 1], np.uint8)), {"ignore_index": 255}),
        "ce-prob-weight-ls": ("cross_entropy", (x, p), {"weight": w, "label_smoothing": 0.1}),
        "ce-prob-no-classes": ("cross_entropy", (np.zeros((2, 0)), np.zeros((2, 0))), {"label_smoothing": 0.1}),
        "nll": ("nll_loss", (np.log(p + 0.01), t), {"weight": w, "ignore_index": 6}),
        "nll-spatial": ("nll_loss", (xs, ts), {}),
        "bce": ("binary_cross_entropy_with_logits", (x, y), {}),
        "bce-weights": ("binary_cross_entropy_with_logits", (x, y), {"weight": w, "pos_weight": w[::-1].copy()}),
        "kl": ("kl_div", (np.log(r.dirichlet(np.ones(7), size=5)), p), {}),
        "kl-log-target": ("kl_div", (x, np.log(r.dirichlet(np.ones(7), size=5))), {"log_target": True}),
    }


CASES = _cases()


def _torch(name, args, kwargs, reduction, grad_output):
    """torch's loss and its vector-Jacobian product with respect to the first argument."""
    targs = [torch.from_numpy(np.array(a)) for a in args]
    targs[0].requires_grad_()
    tkw = {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kl_div's 'mean' warning
        out = getattr(F, name)(*targs, **tkw, reduction=reduction)
    go = torch.from_numpy(np.asarray(grad_output, dtype=np.float64)).reshape(out.shape)
    (grad,) = torch.autograd.grad(out, targs[0], go)
    return out.detach().numpy(), grad.numpy()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_numpy_matches_torch_float64(case, reduction):
    name, args, kwargs = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loss = getattr(kn, name)(*args, **kwargs, reduction=reduction)
    assert isinstance(loss, np.ndarray) and loss.dtype == np.float64, f"{case}: got {type(loss)} {loss.dtype}"
    go = np.linspace(0.5, 1.5, loss.size).reshape(loss.shape)  # a non-uniform upstream gradient
    expected, expected_grad = _torch(name, args, kwargs, reduction, go)
    assert loss.shape == expected.shape, f"{case}: shape {loss.shape} vs torch {expected.shape}"
    assert_close(loss, expected, atol=F64.atol, rtol=F64.rtol, what=f"{case}: value")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        grad = getattr(kn, f"{name}_grad")(*args, **kwargs, reduction=reduction, grad_output=go)
        default = getattr(kn, f"{name}_grad")(*args, **kwargs, reduction=reduction)
    assert_close(grad, expected_grad, atol=F64.atol, rtol=F64.rtol, what=f"{case}: grad")
    _, ones_grad = _torch(name, args, kwargs, reduction, np.ones(loss.shape))
    assert_close(default, ones_grad, atol=F64.atol, rtol=F64.rtol, what=f"{case}: grad, grad_output=None")


@pytest.mark.parametrize("case", ["ce-weight-ignore-ls", "ce-prob-weight-ls", "bce-weights", "kl"])
def test_numpy_float32_stays_float32(case):
    name, args, kwargs = CASES[case]
    args32 = [a.astype(np.float32) if a.dtype == np.float64 else a for a in args]
    kw32 = {k: v.astype(np.float32) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    loss = getattr(kn, name)(*args32, **kw32, reduction="none")
    grad = getattr(kn, f"{name}_grad")(*args32, **kw32, reduction="none")
    expected, expected_grad = _torch(name, args32, kw32, "none", np.ones(loss.shape))
    tol = TOLERANCES[torch.float32]
    assert loss.dtype == np.float32 and grad.dtype == np.float32, (loss.dtype, grad.dtype)
    assert_close(loss, expected, atol=tol.atol, rtol=tol.rtol, what=f"{case}: float32 value")
    assert_close(grad, expected_grad, atol=tol.atol, rtol=tol.rtol, what=f"{case}: float32 grad")
