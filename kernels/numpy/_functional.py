"""NumPy backend: torch.nn.functional's cross-entropy family on arrays, emitted from the derivations.

Each loss returns a NumPy array (0-d for 'mean' / 'sum'); ``<name>_grad(..., grad_output=None)``
returns the vector-Jacobian product with respect to ``input`` (grad_output defaults to ones of the
loss's shape), and ``cross_entropy_with_grad`` both from one pass. Arguments, defaults, exception types
and messages follow kernels.torch. The math comes from `kernels/_generated/numpy_*.py`; float16 is
computed and summed in float32. No SciPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels import _explain_front as _explain
from kernels import _numpy_ce as _ce
from kernels import _validate as _v
from kernels._generated import numpy_ce as _emitted_ce
from kernels._numpy_pointwise import (
    as_array,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    distribution_cross_entropy,
    entropy,
    kl_div,
    kl_div_grad,
    kl_divergence,
    reduce,
    working_dtype,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "cross_entropy_with_grad",
    "distribution_cross_entropy",
    "entropy",
    "explain",
    "kl_div",
    "kl_div_grad",
    "kl_divergence",
    "nll_loss",
    "nll_loss_grad",
    "warn_on_misuse",
]

_WARN_ON_MISUSE = False  # set by warn_on_misuse(); cross_entropy reads it first, one global lookup


@dataclass
class _Call:
    """A validated call: logits as (N, C, S), the target, the mask of kept positions, the options."""

    kind: str  # 'index' or 'prob'
    logits: np.ndarray  # (N, C, S)
    target: np.ndarray  # (N, 1, S) int64 with ignored positions set to 0, or (N, C, S) probabilities
    valid: np.ndarray | None  # (N, 1, S)
    weight: np.ndarray | None
    reduction: str
    eps: float
    input: np.ndarray

    @property
    def dtype(self):
        extra = () if self.weight is None else (self.weight,)
        return self.input.dtype if self.kind == "index" else np.result_type(self.input, self.target, *extra)

    @property
    def shape(self) -> tuple:
        """The loss's shape for reduction='none'."""
        return () if self.input.ndim == 1 else (self.input.shape[0], *self.input.shape[2:])


def _layout(x: np.ndarray) -> tuple[int, int, int]:
    """(N, C, S): rows, classes, spatial positions; the input is viewed so, never copied class-last."""
    if x.ndim == 1:
        return 1, x.shape[0], 1
    return x.shape[0], x.shape[1], math.prod(x.shape[2:])


def _setup(fn, input, target, weight, ignore_index, reduction, label_smoothing=0.0) -> _Call:
    input, target = as_array(input, "input"), as_array(target, "target")
    weight = None if weight is None else as_array(weight, "weight")
    reduction = _v.reduction(reduction)
    ignore_index = _v.ignore_index(ignore_index, fn)
    eps = _v.label_smoothing(label_smoothing)
    _v.floating_input(input.dtype.name, "log_softmax" if fn == "cross_entropy" else fn)
    if fn == "cross_entropy":
        kind = _v.ce_target_kind(input.shape, target.shape, target.dtype.name, ignore_index)
    elif input.ndim >= 2 and target.shape == input.shape:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported: nll_loss takes class indices")
    else:
        _v.index_target(input.shape, target.shape, target.dtype.name)
        kind = "index"
    layout = _layout(input)
    num_classes = layout[1]
    if kind == "prob":
        if weight is not None:
            _v.weight(weight.shape, num_classes, prefix="cross_entropy: ")
        return _Call(kind, input.reshape(layout), target.reshape(layout), None, weight, reduction, eps, input)
    if weight is not None:
        _v.weight(weight.shape, num_classes)
        _v.weight_dtype(weight.dtype.name, input.dtype.name)
    _v.uint8_with_smoothing(target.dtype.name, weight is not None, eps, reduction)
    t = target.reshape(layout[0], 1, layout[2]).astype(np.int64)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= num_classes))
    if bad.any():
        raise _v.out_of_range(int(t[bad][0]), num_classes, ignore_index)
    return _Call(kind, input.reshape(layout), np.where(valid, t, 0), valid, weight, reduction, eps, input)


def _den(c: _Call, acc):
    """The mean's denominator: sum of w_t over kept positions (index targets), else the number of positions."""
    if c.kind == "index":
        return _ce.target_weight(c.target, c.valid, c.weight, acc).sum()
    n, num_classes, s = c.logits.shape
    return n * s if num_classes else np.nan


def _scale(c: _Call, grad_output, acc) -> np.ndarray:
    """g of each position, (N, 1, S): grad_output times the reduction's factor; exactly 0 where ignored."""
    shape = c.shape if c.reduction == "none" else ()
    g = np.ones(shape, dtype=acc) if grad_output is None else np.asarray(grad_output).astype(acc)
    g = g / _den(c, acc) if c.reduction == "mean" else g
    n, _, s = c.logits.shape
    g = np.broadcast_to(g, shape).reshape(n, 1, s) if c.reduction == "none" else np.broadcast_to(g, (n, 1, s))
    return g if c.valid is None else np.where(c.valid, g, acc.type(0))


def _loss(c: _Call, parts=None) -> np.ndarray:
    """The loss of a validated call; ``parts``: (nll, smooth) per position when already computed."""
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        if c.kind == "prob":
            rows = _ce.prob_loss(c.logits, c.target, c.weight, c.eps, acc)
            return reduce(rows.reshape(c.shape), c.reduction, _den(c, acc), c.dtype)
        nll, smooth = parts or _ce.index_loss(c.logits, c.target, c.valid, c.weight, c.eps, acc)
        if c.eps == 0:
            return reduce(nll.reshape(c.shape), c.reduction, _den(c, acc), c.dtype)
        num_classes = c.logits.shape[1]
        if c.reduction == "none":  # (1 - eps) nll + eps/C smooth at each position
            return _emitted_ce.ce_smoothed_loss(nll, smooth, c.eps, num_classes).reshape(c.shape).astype(c.dtype)
        # torch reduces both terms first: with den = 0 the nll mean is 0/0 = nan whatever the smoothing term
        parts = [reduce(part, c.reduction, _den(c, acc), acc) for part in (nll, smooth)]
        return np.asarray(_emitted_ce.ce_smoothed_loss(*parts, c.eps, num_classes)).astype(c.dtype)


def explain(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """What cross_entropy will do with these arrays, and the likely mistakes in them: kernels.torch.explain's
    report for arrays (no autograd history: probabilities passed as logits are found from the values).
    Never raises on bad input; raises TypeError only when an argument is not a numeric array."""
    return _explain.from_numpy(input, target, weight, ignore_index, reduction, label_smoothing)


def warn_on_misuse(enabled: bool = True) -> _explain.Switch:
    """Emit explain's warnings (kernels.MisuseWarning) from every cross_entropy call, process-wide; as
    ``with warn_on_misuse(): ...``, for the block only. Off (the default), the cost is one boolean test."""
    return _explain.Switch(globals(), enabled)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """torch.nn.functional.cross_entropy on arrays (index or probability targets)."""
    if _WARN_ON_MISUSE:  # opt-in, warn_on_misuse(): explain's warnings for this call
        _explain.warn(_explain.from_numpy(input, target, weight, ignore_index, reduction, label_smoothing, final=False))
    return _loss(_setup("cross_entropy", input, target, weight, ignore_index, reduction, label_smoothing))


def cross_entropy_grad(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, grad_output=None
):
    """Vector-Jacobian product of cross_entropy with respect to ``input``."""
    c = _setup("cross_entropy", input, target, weight, ignore_index, reduction, label_smoothing)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        g = _scale(c, grad_output, acc)
        if c.kind == "prob":
            grad = _ce.prob_grad(c.logits, c.target, c.weight, c.eps, g, acc)
        else:
            grad = _ce.index_grad(c.logits, c.target, c.valid, c.weight, c.eps, g, acc)
    return grad.astype(c.input.dtype, copy=False).reshape(c.input.shape)


def cross_entropy_with_grad(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, grad_output=None
):
    """(cross_entropy(...), cross_entropy_grad(...)) from one pass over the logits (class indices).

    The gradient is written block by block into one preallocated array while each block is in cache;
    loss and gradient cost one exponential per element and no other N x C array. ``input`` is not
    modified. Probability targets are accepted too (two passes there).
    """
    c = _setup("cross_entropy", input, target, weight, ignore_index, reduction, label_smoothing)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        g = _scale(c, grad_output, acc)
        if c.kind == "prob":
            parts, grad = None, _ce.prob_grad(c.logits, c.target, c.weight, c.eps, g, acc)
        else:
            parts, grad = _ce.index_loss_and_grad(c.logits, c.target, c.valid, c.weight, c.eps, g, acc)
    return _loss(c, parts), grad.astype(c.input.dtype, copy=False).reshape(c.input.shape)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """torch.nn.functional.nll_loss on arrays: -w_t x_t for log-probabilities x."""
    c = _setup("nll_loss", input, target, weight, ignore_index, reduction)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        rows = _ce.nll_loss(c.logits, c.target, c.valid, c.weight, acc)
        return reduce(rows.reshape(c.shape), c.reduction, _den(c, acc), c.dtype)


def nll_loss_grad(input, target, weight=None, ignore_index=-100, reduction="mean", grad_output=None):
    """Vector-Jacobian product of nll_loss with respect to ``input``."""
    c = _setup("nll_loss", input, target, weight, ignore_index, reduction)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        grad = _ce.nll_grad(c.logits, c.target, c.valid, c.weight, _scale(c, grad_output, acc), acc)
    return grad.reshape(c.input.shape)
