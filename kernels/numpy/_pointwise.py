"""NumPy elementwise losses: BCE with logits, kl_div, and the information quantities along an axis.

The math is the emitted kernels/_generated/numpy_binary.py and numpy_kl.py; these functions
validate, broadcast, reduce and route gradients, with torch's exception types and messages.
"""

from __future__ import annotations

import warnings

import numpy as np

from kernels import _validate as validate
from kernels._generated import numpy_binary as _bce
from kernels._generated import numpy_kl as _kl
from kernels.numpy._arrays import as_array, reduce, upstream, working_dtype


def _sum_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo broadcasting: sum a gradient back to ``shape``."""
    grad = np.broadcast_to(grad, np.broadcast_shapes(grad.shape, shape))
    lead = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(lead))) if lead else grad
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _bce_setup(input, target, weight, reduction, pos_weight):
    input, target = as_array(input, "input"), as_array(target, "target")
    reduction = validate.reduction(reduction)
    validate.same_size(input.shape, target.shape)
    if target.dtype.kind != "f":
        name = validate.TORCH_NAMES.get(target.dtype.name, target.dtype.name)
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {name}: binary targets must be floating point"
        )
    validate.floating_input(input.dtype.name, "binary_cross_entropy_with_logits")
    extras = []
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is not None:
            extra = as_array(extra, name)
            if validate.broadcast(input.shape, extra.shape, name) != input.shape:
                raise RuntimeError(f"{name} of shape {extra.shape} does not broadcast to the input's shape")
        extras.append(extra)
    dtype = np.result_type(input, target)
    acc = working_dtype(dtype)
    w = extras[0].astype(acc) if extras[0] is not None else acc.type(1)
    pw = extras[1].astype(acc) if extras[1] is not None else None
    return input.astype(acc, copy=False), target.astype(acc, copy=False), w, pw, reduction, dtype, acc


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """torch.nn.functional.binary_cross_entropy_with_logits on arrays, in the stable softplus form."""
    z, y, w, pw, reduction, dtype, _ = _bce_setup(input, target, weight, reduction, pos_weight)
    with np.errstate(all="ignore"):
        loss = _bce.bce_loss(z, y, w) if pw is None else _bce.bce_loss_pos_weight(z, y, w, pw)
        return reduce(np.broadcast_to(loss, z.shape), reduction, z.size, dtype)


def binary_cross_entropy_with_logits_grad(
    input, target, weight=None, reduction="mean", pos_weight=None, grad_output=None
):
    """Vector-Jacobian product of binary_cross_entropy_with_logits with respect to ``input``."""
    z, y, w, pw, reduction, _, acc = _bce_setup(input, target, weight, reduction, pos_weight)
    with np.errstate(all="ignore"):
        g = upstream(grad_output, reduction, z.size, z.shape, acc)
        grad = _bce.bce_grad(z, y, w, g) if pw is None else _bce.bce_grad_pos_weight(z, y, w, pw, g)
        return np.broadcast_to(grad, z.shape).astype(np.asarray(input).dtype)


def _kl_setup(input, target, reduction):
    input, target = as_array(input, "input"), as_array(target, "target")
    reduction = validate.reduction(reduction, ("none", "batchmean", "sum", "mean"))
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported; pass floating-point input and target")
    shape = validate.broadcast(input.shape, target.shape, "target")
    if reduction == "mean":
        warnings.warn(validate.KL_MEAN_WARNING, UserWarning, stacklevel=3)
    den = int(np.prod(shape)) if reduction == "mean" else (input.shape[0] if input.ndim else 1)
    acc = working_dtype(np.result_type(input, target))
    return input, input.astype(acc), target.astype(acc), reduction, den, shape, acc


def kl_div(input, target, reduction="mean", log_target=False):
    """torch.nn.functional.kl_div on arrays: pointwise p (log p - input), 0 where p = 0."""
    _, x, t, reduction, den, shape, _ = _kl_setup(input, target, reduction)
    with np.errstate(all="ignore"):
        terms = _kl.kl_div_log_target_term(x, t) if log_target else _kl.kl_div_term(x, t)
        return reduce(np.broadcast_to(terms, shape), reduction, den, np.result_type(input, target))


def kl_div_grad(input, target, reduction="mean", log_target=False, grad_output=None):
    """Vector-Jacobian product of kl_div with respect to ``input``."""
    original, _, t, reduction, den, shape, acc = _kl_setup(input, target, reduction)
    with np.errstate(all="ignore"):
        g = upstream(grad_output, reduction, den, shape, acc)
        grad = _kl.kl_div_log_target_grad(t, g) if log_target else _kl.kl_div_grad(t, g)  # -g p
        return _sum_to(np.broadcast_to(grad, shape), original.shape).astype(original.dtype)


def _along(term, axis, *arrays):
    arrays = [as_array(a, "p") for a in arrays]
    dtype = np.result_type(*arrays)
    acc = working_dtype(dtype)
    with np.errstate(all="ignore"):
        return np.asarray(term(*(a.astype(acc) for a in arrays)).sum(axis=axis)).astype(dtype)


def entropy(p, axis=-1):
    """H(p) = -sum_j xlogy(p_j, p_j) along ``axis`` (0 log 0 = 0)."""
    return _along(_kl.entropy_term, axis, p)


def distribution_cross_entropy(p, q, axis=-1):
    """H(p, q) = -sum_j xlogy(p_j, q_j) along ``axis``."""
    return _along(_kl.cross_entropy_term, axis, p, q)


def kl_divergence(p, q, axis=-1):
    """D_KL(p || q) = sum_j xlogy(p_j, p_j) - xlogy(p_j, q_j) along ``axis``."""
    return _along(_kl.kl_term, axis, p, q)
