"""The language-model extras on arrays: the z-loss and soft-capping, chunk by chunk of rows (NumPy backend).

    soft-capping   z <- c tanh(z / c) in a copy of the chunk (kernel.softcap); dL/dz = dL/dz' (1 - (z' / c)^2)
    z-loss         s lse^2 per counted position (kernel.ce_z_loss); its gradient raises the row coefficient of
                   exp(z - m) by 2 g_z s lse / d (kernel.ce_z_loss_grad); 'mean' divides it by the count

``chunk`` gives one chunk's loss terms and, with upstream scales, its gradient; kernels/numpy/_linear.py
calls it on each chunk of logits, ``cross_entropy_terms`` on chunks of the caller's logits (never modified).
"""

from __future__ import annotations

import numpy as np

from kernels._chunking import chunk_rows
from kernels._extras import OFF, Extras  # noqa: F401  (OFF: the default of the calls' extras)
from kernels._generated import numpy_ce as _emitted
from kernels.numpy import _ce
from kernels.numpy._arrays import reduce


def chunk(z, kind, target, valid, weight, eps, acc, extras: Extras, g=None, gz=None):
    """((nll, smooth, zl) per position, dL/dz or None) of one chunk z (rows, C, S) in ``acc``, which it may modify.
    g, gz: the chunk's upstream scales of the loss and of the z-loss, (rows, 1, S)."""
    factor = None
    if extras.cap is not None:
        z = _emitted.softcap_into(z, z, extras.cap)  # z' = c tanh(z / c)
        factor = _emitted.softcap_grad(z, extras.cap) if g is not None else None  # 1 - (z' / c)^2
    z_loss = None if gz is None else (gz, extras.z_loss)
    grad = smooth = None
    if kind == "prob":
        nll = _ce.prob_loss(z, target, weight, eps, acc)
        if g is not None:
            grad = _ce.prob_grad(z, target, weight, eps, g, acc, z_loss)
    elif g is None:
        nll, smooth = _ce.index_loss(z, target, valid, weight, eps, acc)
    else:
        (nll, smooth), grad = _ce.index_loss_and_grad(z, target, valid, weight, eps, g, acc, z_loss)
    zl = None
    if extras.z_loss > 0:
        m, d = _ce._stats(z)
        zl = _emitted.ce_z_loss_term(extras.z_loss, m, d)  # s lse^2
        zl = zl if valid is None else np.where(valid, zl, acc.type(0))
    if factor is not None:
        grad *= factor
    return (nll, smooth, zl), grad


def z_loss_count(kind, valid, shape) -> float:
    """What 'mean' divides the z-loss by: the number of counted positions."""
    return int(valid.sum()) if kind == "index" else shape[0] * shape[2]


def store(terms, ix, parts) -> None:
    """Write one chunk's (nll, smooth, zl) into the rows ``ix`` of every position's terms (None: not computed)."""
    for into, part in zip(terms, parts, strict=True):
        if part is not None:
            into[ix] = part


def cross_entropy_terms(logits, kind, target, valid, weight, eps, acc, extras, g=None, gz=None):
    """((nll, smooth, zl), grad or None) over every chunk of rows of the (N, C, S) logits."""
    n, c, s = logits.shape
    rows = chunk_rows(n, c * s, acc.itemsize)
    nll, smooth, zl = (np.zeros((n, 1, s), dtype=acc) for _ in range(3))
    grad = None if g is None else np.empty(logits.shape, dtype=acc)
    for r0 in range(0, n, rows):
        ix = slice(r0, min(n, r0 + rows))
        parts = [None if a is None else a[ix] for a in (target, valid, g, gz)]
        z = logits[ix].astype(acc, copy=True)
        found, gc = chunk(z, kind, parts[0], parts[1], weight, eps, acc, extras, parts[2], parts[3])
        store((nll, smooth, zl), ix, found)
        if gc is not None:
            grad[ix] = gc
    return (nll, smooth, zl), grad


def add_z_loss(loss, zl, reduction, count, shape, dtype):
    """The cross-entropy's loss plus the z-loss reduced over its own count (its own shape for 'none')."""
    if zl is None:
        return loss
    extra = zl.reshape(shape) if reduction == "none" else reduce(zl, reduction, count, zl.dtype)
    return np.asarray(loss.astype(zl.dtype) + extra).astype(dtype)
