"""kernels.numpy against mpmath at 50 digits: every loss and `<name>_grad`, and the information quantities.

The mpmath oracle evaluates each loss from its definition, e.g. -log(exp(z_t) / sum_j exp(z_j)), with no
max-shift or other stabilisation, and differentiates it numerically at 50 digits. The comparison with torch
in float64 and float32 is in tests/test_numpy_vs_torch.py.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
from _compare import assert_close

import kernels.numpy as kn

DIGITS = 50


def _log_softmax_def(row):
    """log(exp(z_c) / sum_j exp(z_j)): the textbook form, safe here because mpmath's exponent is unbounded."""
    total = mpmath.fsum(mpmath.exp(v) for v in row)
    return [mpmath.log(mpmath.exp(v) / total) for v in row]


def _reduce(losses, reduction, denom):
    if reduction == "none":
        return losses
    total = mpmath.fsum(losses)
    return total if reduction == "sum" else total / denom


def mp_cross_entropy(z, t, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    C, eps = len(z[0]), mpmath.mpf(label_smoothing)
    w = weight if weight is not None else [1] * C
    losses, denom = [], 0
    for row, tn in zip(z, t, strict=True):
        lp = _log_softmax_def(row)
        if isinstance(tn, list):  # probability target, smoothed: (1 - eps) p + eps / C; mean divides by N
            losses.append(-mpmath.fsum(w[c] * ((1 - eps) * tn[c] + eps / C) * lp[c] for c in range(C)))
            denom += 1
        elif tn == ignore_index:
            losses.append(mpmath.mpf(0))
        else:  # (1 - eps) w_t (-lp_t) + eps / C sum_c w_c (-lp_c); mean divides by the sum of w_t
            smooth = -mpmath.fsum(w[c] * lp[c] for c in range(C))
            losses.append((1 - eps) * (-w[tn] * lp[tn]) + eps / C * smooth)
            denom += w[tn]
    return _reduce(losses, reduction, denom)


def mp_nll_loss(x, t, weight=None, ignore_index=-100, reduction="mean"):
    """-w_t x_t at kept positions; mean divides by the sum of w_t over them."""
    w = weight if weight is not None else [1] * len(x[0])
    keep = [tn != ignore_index for tn in t]
    losses = [-w[tn] * row[tn] if k else mpmath.mpf(0) for row, tn, k in zip(x, t, keep, strict=True)]
    return _reduce(losses, reduction, mpmath.fsum(w[tn] for tn, k in zip(t, keep, strict=True) if k))


def mp_bce(z, y, weight=None, pos_weight=None, reduction="mean"):
    """-w [pw y log s + (1 - y) log(1 - s)], s = 1 / (1 + exp(-z)); weight, pos_weight along the last dim."""
    C = len(z[0])
    rows = [
        [
            -(weight[c] if weight is not None else 1)
            * ((pos_weight[c] if pos_weight is not None else 1) * yv * mpmath.log(s) + (1 - yv) * mpmath.log(1 - s))
            for c, (yv, s) in enumerate((yv, 1 / (1 + mpmath.exp(-zv))) for zv, yv in zip(zr, yr, strict=True))
        ]
        for zr, yr in zip(z, y, strict=True)
    ]
    return rows if reduction == "none" else _reduce([v for r in rows for v in r], reduction, len(rows) * C)


def mp_kl_div(x, t, log_target=False, reduction="mean"):
    """Pointwise p (log p - x) with 0 log 0 = 0, or exp(t) (t - x) for log targets."""
    if log_target:
        rows = [[mpmath.exp(b) * (b - a) for a, b in zip(r, s, strict=True)] for r, s in zip(x, t, strict=True)]
    else:
        rows = [[_xlogy(b, b) - b * a for a, b in zip(r, s, strict=True)] for r, s in zip(x, t, strict=True)]
    if reduction == "none":
        return rows
    total = mpmath.fsum(v for r in rows for v in r)
    return {"sum": total, "mean": total / (len(rows) * len(rows[0])), "batchmean": total / len(rows)}[reduction]


def _xlogy(a, b):
    return mpmath.mpf(0) if a == 0 else mpmath.mpf(a) * mpmath.log(mpmath.mpf(b))  # 0 log 0 = 0


MP_LOSS = {
    "cross_entropy": mp_cross_entropy,
    "nll_loss": mp_nll_loss,
    "binary_cross_entropy_with_logits": mp_bce,
    "kl_div": mp_kl_div,
}
X2, X3 = [[0.3, -1.2, 2.5], [1.0, 1.0, -4.0]], [[0.3, -1.2, 2.5, 0.1], [1.0, 1.0, -4.0, 2.0], [5.0, -5.0, 0.5, 0.0]]
P2, LOGQ = [[0.2, 0.0, 0.8], [0.5, 0.25, 0.25]], [[-1.5, -0.5, -2.0], [-0.1, -3.0, -2.5]]
W3 = {"weight": [0.5, 2.0, 1.25]}
MP_CASES = {  # name -> (function, input, target, options)
    "ce": ("cross_entropy", X2, [2, 0], {}),
    "ce-weight-ignore-ls": (
        "cross_entropy",
        X3,
        [2, 1, 3],
        {"weight": [0.5, 2.0, 1.25, 0.75], "ignore_index": 1, "label_smoothing": 0.15},
    ),
    "ce-prob-ls-weight": ("cross_entropy", X2, P2, {**W3, "label_smoothing": 0.1}),
    "ce-pm1e4": ("cross_entropy", [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [1e4, 1e4, 1e4]], [0, 0, 2], {}),
    "ce-1e300-ls": ("cross_entropy", [[1e300, -1e300, 0.0], [3.0, 2.0, 1.0]], [1, 0], {"label_smoothing": 0.5}),
    "nll": ("nll_loss", LOGQ, [2, 1], {**W3, "ignore_index": 0}),
    "bce": ("binary_cross_entropy_with_logits", [[0.3, -30.0, 2.5], [40.0, -1e4, 0.0]], P2, W3),
    "bce-pos-weight": ("binary_cross_entropy_with_logits", X2, P2, {**W3, "pos_weight": [3.0, 0.5, 1.0]}),
    "kl": ("kl_div", LOGQ, P2, {}),
    "kl-log-target": ("kl_div", LOGQ, [[-1.0, -2.0, -0.7], [0.0, -9.0, -40.0]], {"log_target": True}),
}


def _mp(v):
    return [_mp(u) for u in v] if isinstance(v, list) else (mpmath.mpf(v) if isinstance(v, float) else v)


def _arr(v):
    return np.asarray(v, dtype=np.int64 if isinstance(v[0], int) else np.float64)


def _flat(out):
    return [v for r in out for v in (r if isinstance(r, list) else [r])] if isinstance(out, list) else [out]


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("case", list(MP_CASES))
def test_numpy_matches_mpmath_at_50_digits(case, reduction):
    name, x, t, kwargs = MP_CASES[case]
    if reduction == "batchmean" and name != "kl_div":
        pytest.skip("batchmean belongs to kl_div alone")
    xa, ta = _arr(x), _arr(t)
    np_kwargs = {k: _arr(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loss = getattr(kn, name)(xa, ta, **np_kwargs, reduction=reduction)
        go = np.linspace(0.5, 1.5, np.size(loss)).reshape(np.shape(loss))
        grad = getattr(kn, f"{name}_grad")(xa, ta, **np_kwargs, reduction=reduction, grad_output=go)
    exact_grad = np.zeros(xa.shape)
    with mpmath.workdps(DIGITS):
        z, target = _mp(x), _mp(t)
        mp_kwargs = {k: _mp(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        loss_of = lambda zz: MP_LOSS[name](zz, target, **mp_kwargs, reduction=reduction)  # noqa: E731
        exact = np.array([float(v) for v in _flat(loss_of(z))]).reshape(np.shape(loss))
        gos = [mpmath.mpf(float(g)) for g in go.ravel()]
        for i, j in np.ndindex(*xa.shape):
            # d/dz_ij of <grad_output, loss(z)>: the vector-Jacobian product, by 50-digit differentiation
            def along(h, i=i, j=j):
                zz = [row[:] for row in z]
                zz[i][j] += h
                return mpmath.fsum(g * v for g, v in zip(gos, _flat(loss_of(zz)), strict=True))

            exact_grad[i, j] = float(mpmath.diff(along, 0))
    # a float64 kernel rounds differences like z - lse at the size of the largest logit: 4 ulps of it, absolute
    atol = 4 * np.finfo(np.float64).eps * max(1.0, float(np.max(np.abs(xa))))
    assert_close(loss, exact, atol=atol, rtol=1e-14, what=f"{case} {reduction}: value vs mpmath")
    assert_close(grad, exact_grad, atol=atol, rtol=1e-13, what=f"{case} {reduction}: grad vs mpmath")


@pytest.mark.parametrize("fn", ["entropy", "distribution_cross_entropy", "kl_divergence"])
def test_information_quantities_match_mpmath(fn):
    p = [[0.2, 0.0, 0.8], [0.5, 0.25, 0.25], [1.0, 0.0, 0.0]]
    q = [[0.1, 0.3, 0.6], [0.25, 0.25, 0.5], [0.5, 0.5, 0.0]]
    # H(p) = -sum p log p;  H(p, q) = -sum p log q;  D(p || q) = sum p log p - p log q
    term = {
        "entropy": lambda a, b: -_xlogy(a, a),
        "distribution_cross_entropy": lambda a, b: -_xlogy(a, b),
        "kl_divergence": lambda a, b: _xlogy(a, a) - _xlogy(a, b),
    }[fn]
    with mpmath.workdps(DIGITS):
        exact = [float(mpmath.fsum(term(a, b) for a, b in zip(r, s, strict=True))) for r, s in zip(p, q, strict=True)]
    args = (np.array(p),) if fn == "entropy" else (np.array(p), np.array(q))
    got = getattr(kn, fn)(*args, axis=-1)
    assert_close(got, exact, atol=1e-16, rtol=1e-14, what=f"{fn} vs mpmath")
    got_t = getattr(kn, fn)(*(a.T for a in args), axis=0)  # the same numbers along the other axis
    assert_close(got_t, got, atol=0, rtol=1e-15, what=f"{fn} along axis 0")
