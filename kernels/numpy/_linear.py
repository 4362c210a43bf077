"""linear_cross_entropy on arrays, chunked: cross_entropy(input @ W.T + b, target) without the N x C logits.

For rows r0..r1: z = x[r0:r1] W^T + b (one chunk, reused), its loss terms and, for the gradient,
g = dL/dz from kernels/numpy/_ce.py in the same pass; then dL/dx[r0:r1] = g W, dL/dW += g^T x[r0:r1],
dL/db += sum_rows g (claims linear.input_gradient, linear.weight_gradient, linear.weight_gradient_chunks).
The loss is reduced once over all rows: 'mean' divides by the weight of every kept row (linear.chunked_mean).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels import _validate as validate
from kernels._chunking import linear_chunk_rows
from kernels._extras import extras as extras_of
from kernels._generated import numpy_ce as _emitted_ce
from kernels._linear_call import linear_call, matching_dtypes
from kernels.numpy import _ce, _extras
from kernels.numpy._arrays import as_array, reduce, upstream, working_dtype


@dataclass
class _Call:
    x: np.ndarray  # (N, H)
    w: np.ndarray  # (C S, H)
    b: np.ndarray | None  # (C S)
    kind: str  # 'index' or 'prob'
    target: np.ndarray  # (N, 1, S) safe int64 targets, or (N, C, S) probabilities
    valid: np.ndarray | None
    weight: np.ndarray | None
    reduction: str
    eps: float
    num_classes: int
    loss_shape: tuple
    rows: int  # per chunk
    dtype: np.dtype
    extras: _extras.Extras = _extras.OFF


def _call(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, label_smoothing, options):
    x, w, t = as_array(input, "input"), as_array(linear_weight, "linear_weight"), as_array(target, "target")
    b = None if linear_bias is None else as_array(linear_bias, "linear_bias")
    weight = None if weight is None else as_array(weight, "weight")
    call = linear_call(x.shape, w.shape, None if b is None else b.shape, t.shape, ignore_index)
    matching_dtypes(x.dtype.name, w.dtype.name, None if b is None else b.dtype.name)
    ce = validate.cross_entropy_call(
        call.logits_shape, t.shape, x.dtype.name, t.dtype.name, call.ignore_index, reduction, label_smoothing
    )
    n, c, s, h = call.rows, call.num_classes, call.positions, call.in_features
    rows = linear_chunk_rows(n, c * s, h, working_dtype(x.dtype).itemsize, options)
    loss_shape = (call.logits_shape[0], *call.logits_shape[2:]) if call.batched else ()
    args = (x.reshape(n, h), w.reshape(c * s, h), None if b is None else b.reshape(c * s))
    if ce.kind == "prob":
        if weight is not None:
            validate.weight(weight.shape, c, prefix="cross_entropy: ")
        dtype = np.result_type(x, t, *(() if weight is None else (weight,)))
        return _Call(*args, "prob", t.reshape(n, c, s), None, weight, ce.reduction, ce.eps, c, loss_shape, rows, dtype)
    if weight is not None:
        validate.weight(weight.shape, c)
        validate.weight_dtype(weight.dtype.name, x.dtype.name)
    validate.uint8_with_smoothing(t.dtype.name, weight is not None, ce.eps, ce.reduction)
    t = t.reshape(n, 1, s).astype(np.int64)
    valid = t != ce.ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise validate.out_of_range(int(t[bad][0]), c, ce.ignore_index)
    safe = np.where(valid, t, 0)
    return _Call(*args, "index", safe, valid, weight, ce.reduction, ce.eps, c, loss_shape, rows, x.dtype)


def _den(c: _Call, acc):
    """'mean' divides by the sum of w_t over every kept row (index targets), else by the number of positions."""
    if c.kind == "index":
        return _ce.target_weight(c.target, c.valid, c.weight, acc).sum()
    n, _, s = c.target.shape
    return n * s if c.num_classes else np.nan


def _chunks(c: _Call, acc):
    n = c.x.shape[0]
    for r0 in range(0, n, c.rows):
        r1 = min(n, r0 + c.rows)
        z = c.x[r0:r1].astype(acc, copy=False) @ c.w.T.astype(acc, copy=False)  # one chunk of logits
        if c.b is not None:
            z += c.b.astype(acc, copy=False)
        yield r0, r1, z.reshape(r1 - r0, c.num_classes, -1)


def _run(c: _Call, g=None, gz=None):
    """((nll, smooth, zl) per position, (dL/dx, dL/dW, dL/db) or None) over every chunk; g, gz: (N, 1, S) upstream
    scales of the loss and of the z-loss."""
    acc = working_dtype(c.dtype)
    n, s = c.x.shape[0], c.w.shape[0] // c.num_classes
    nll, smooth, zl = (np.zeros((n, 1, s), dtype=acc) for _ in range(3))
    grads = None
    if g is not None:
        grads = [np.empty(c.x.shape, dtype=acc), np.zeros(c.w.shape, dtype=acc)]
        grads.append(None if c.b is None else np.zeros(c.b.shape, dtype=acc))
    for r0, r1, z in _chunks(c, acc):
        ix = slice(r0, r1)
        parts = [None if a is None else a[ix] for a in (c.target, c.valid, g, gz)]
        found, gc = _extras.chunk(z, c.kind, parts[0], parts[1], c.weight, c.eps, acc, c.extras, *parts[2:])
        _extras.store((nll, smooth, zl), ix, found)
        if gc is not None:
            gc = gc.reshape(r1 - r0, -1)
            grads[0][ix] = gc @ c.w.astype(acc, copy=False)  # dL/dx = g W
            grads[1] += gc.T @ c.x[ix].astype(acc, copy=False)  # dL/dW += g^T x, in the working dtype
            if grads[2] is not None:
                grads[2] += gc.sum(axis=0)  # dL/db += sum_rows g
    return (nll, smooth, zl), grads


def _loss(c: _Call, terms, acc) -> np.ndarray:
    nll, smooth, zl = terms
    den = _den(c, acc)
    if c.kind == "prob" or c.eps == 0:
        loss = reduce(nll.reshape(c.loss_shape), c.reduction, den, c.dtype)
    elif c.reduction == "none":  # (1 - eps) nll + eps/C smooth at each position
        loss = _emitted_ce.ce_smoothed_loss(nll, smooth, c.eps, c.num_classes).reshape(c.loss_shape).astype(c.dtype)
    else:  # torch reduces both terms first: with den = 0 the nll mean is 0/0 = nan whatever the smoothing term
        nll_term, smooth_term = (reduce(term, c.reduction, den, acc) for term in (nll, smooth))
        loss = np.asarray(_emitted_ce.ce_smoothed_loss(nll_term, smooth_term, c.eps, c.num_classes)).astype(c.dtype)
    count = _extras.z_loss_count(c.kind, c.valid, c.target.shape)
    return _extras.add_z_loss(loss, zl if c.extras.z_loss > 0 else None, c.reduction, count, c.loss_shape, c.dtype)


def linear_cross_entropy(
    input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean", ignore_index=None,
    label_smoothing=0.0, options=None, lse_square_scale=0.0, softcap=None,
):  # fmt: skip
    """torch.nn.functional.linear_cross_entropy on arrays, chunked as kernels.torch's (kernels/_chunking.py);
    ``lse_square_scale`` and ``softcap`` as in kernels.torch.linear_cross_entropy (off by default)."""
    c = _call(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, label_smoothing, options)
    c.extras = extras_of(lse_square_scale, softcap)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        return _loss(c, _run(c)[0], acc)


def linear_cross_entropy_grad(
    input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean", ignore_index=None,
    label_smoothing=0.0, options=None, grad_output=None, lse_square_scale=0.0, softcap=None,
):  # fmt: skip
    """(dL/dinput, dL/dlinear_weight, dL/dlinear_bias or None) of linear_cross_entropy, the vector-Jacobian
    products for ``grad_output`` (ones of the loss's shape by default), in the arguments' dtypes and shapes."""
    c = _call(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, label_smoothing, options)
    c.extras = extras_of(lse_square_scale, softcap)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        n, s = c.x.shape[0], c.w.shape[0] // c.num_classes
        den = _den(c, acc) if c.reduction == "mean" else 1
        g = upstream(grad_output, c.reduction, den, c.loss_shape, acc)
        g = (
            np.broadcast_to(g, c.loss_shape).reshape(n, 1, s)
            if c.reduction == "none"
            else np.broadcast_to(g, (n, 1, s))
        )
        g = g if c.valid is None else np.where(c.valid, g, acc.type(0))
        gz = None
        if c.extras.z_loss > 0:  # the z-loss's scales: 'mean' divides by the number of counted positions
            count = _extras.z_loss_count(c.kind, c.valid, c.target.shape)
            gz = upstream(grad_output, c.reduction, count if c.reduction == "mean" else 1, c.loss_shape, acc)
            gz = (
                np.broadcast_to(gz, c.loss_shape).reshape(n, 1, s)
                if c.reduction == "none"
                else np.broadcast_to(gz, (n, 1, s))
            )
            gz = gz if c.valid is None else np.where(c.valid, gz, acc.type(0))
        _, (gx, gw, gb) = _run(c, g, gz)
    shapes = (np.shape(input), np.shape(linear_weight), None if linear_bias is None else np.shape(linear_bias))
    grads = zip((gx, gw, gb), shapes, strict=True)
    return tuple(None if grad is None else grad.reshape(shape).astype(c.x.dtype) for grad, shape in grads)
