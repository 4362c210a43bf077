"""The cross-entropy functions of the NumPy backend: losses, their vector-Jacobian products, explain.

Each call is validated into a ``_Call`` (kernels/_validate.py's checks, torch's exception types), with the
logits viewed as (N, C, S) (kernels/_layout.py); the block loops are kernels/numpy/_ce.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels import _validate as validate
from kernels import explain as _explain
from kernels._generated import numpy_ce as _emitted_ce
from kernels._layout import layout, loss_shape
from kernels.numpy import _ce
from kernels.numpy._arrays import as_array, reduce, upstream, working_dtype

#: Whether cross_entropy emits explain's warnings (``warn_on_misuse``); cross_entropy reads it first.
MISUSE = _explain.MisuseFlag()


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
        return loss_shape(self.input.shape)


def _arrays(input, target, weight):
    weight = None if weight is None else as_array(weight, "weight")
    return as_array(input, "input"), as_array(target, "target"), weight


def _ce_call(input, target, weight, ignore_index, reduction, label_smoothing) -> _Call:
    """cross_entropy's checks (kernels/_validate.py, torch's order), then the target read by its kind."""
    input, target, weight = _arrays(input, target, weight)
    dtypes = input.dtype.name, target.dtype.name
    call = validate.cross_entropy_call(input.shape, target.shape, *dtypes, ignore_index, reduction, label_smoothing)
    if call.kind == "prob":
        shape = layout(input.shape)
        if weight is not None:
            validate.weight(weight.shape, shape[1], prefix="cross_entropy: ")
        logits, target = input.reshape(shape), target.reshape(shape)
        return _Call("prob", logits, target, None, weight, call.reduction, call.eps, input)
    return _index_call(input, target, weight, call.ignore_index, call.reduction, call.eps)


def _nll_call(input, target, weight, ignore_index, reduction) -> _Call:
    """nll_loss's checks: class-index targets only."""
    input, target, weight = _arrays(input, target, weight)
    reduction = validate.reduction(reduction)
    ignore_index = validate.ignore_index(ignore_index, "nll_loss")
    validate.floating_input(input.dtype.name, "nll_loss")
    if input.ndim >= 2 and target.shape == input.shape:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported: nll_loss takes class indices")
    validate.index_target(input.shape, target.shape, target.dtype.name)
    return _index_call(input, target, weight, ignore_index, reduction, 0.0)


def _index_call(input, target, weight, ignore_index, reduction, eps) -> _Call:
    """Class-index targets: the weight's checks, then (N, 1, S) int64 targets, ignored positions set to 0."""
    rows, num_classes, positions = shape = layout(input.shape)
    if weight is not None:
        validate.weight(weight.shape, num_classes)
        validate.weight_dtype(weight.dtype.name, input.dtype.name)
    validate.uint8_with_smoothing(target.dtype.name, weight is not None, eps, reduction)
    t = target.reshape(rows, 1, positions).astype(np.int64)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= num_classes))
    if bad.any():
        raise validate.out_of_range(int(t[bad][0]), num_classes, ignore_index)
    safe_target = np.where(valid, t, 0)
    return _Call("index", input.reshape(shape), safe_target, valid, weight, reduction, eps, input)


def _mean_denominator(c: _Call, acc):
    """What 'mean' divides by: the sum of w_t over kept positions (index targets), else the number of positions."""
    if c.kind == "index":
        return _ce.target_weight(c.target, c.valid, c.weight, acc).sum()
    n, num_classes, s = c.logits.shape
    return n * s if num_classes else np.nan


def _per_position(c: _Call, grad_output, acc) -> np.ndarray:
    """g of each position, (N, 1, S): grad_output times the reduction's factor; exactly 0 where ignored."""
    n, _, s = c.logits.shape
    den = _mean_denominator(c, acc) if c.reduction == "mean" else 1
    g = upstream(grad_output, c.reduction, den, c.shape, acc)
    g = np.broadcast_to(g, c.shape).reshape(n, 1, s) if c.reduction == "none" else np.broadcast_to(g, (n, 1, s))
    return g if c.valid is None else np.where(c.valid, g, acc.type(0))


def _loss(c: _Call, terms=None) -> np.ndarray:
    """The loss of a validated call; ``terms``: (nll, smooth) per position when already computed."""
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        den = _mean_denominator(c, acc)
        if c.kind == "prob":
            losses = _ce.prob_loss(c.logits, c.target, c.weight, c.eps, acc)
            return reduce(losses.reshape(c.shape), c.reduction, den, c.dtype)
        nll, smooth = terms or _ce.index_loss(c.logits, c.target, c.valid, c.weight, c.eps, acc)
        if c.eps == 0:
            return reduce(nll.reshape(c.shape), c.reduction, den, c.dtype)
        num_classes = c.logits.shape[1]
        if c.reduction == "none":  # (1 - eps) nll + eps/C smooth at each position
            return _emitted_ce.ce_smoothed_loss(nll, smooth, c.eps, num_classes).reshape(c.shape).astype(c.dtype)
        # torch reduces both terms first: with den = 0 the nll mean is 0/0 = nan whatever the smoothing term
        nll_term, smooth_term = (reduce(term, c.reduction, den, acc) for term in (nll, smooth))
        return np.asarray(_emitted_ce.ce_smoothed_loss(nll_term, smooth_term, c.eps, num_classes)).astype(c.dtype)


def explain(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """What cross_entropy will do with these arrays, and the likely mistakes in them: kernels.torch.explain's
    report for arrays (no autograd history: probabilities passed as logits are found from the values).
    Never raises on bad input; raises TypeError only when an argument is not a numeric array."""
    return _explain.from_numpy(input, target, weight, ignore_index, reduction, label_smoothing, run=_cross_entropy)


def warn_on_misuse(enabled: bool = True):
    """Emit explain's warnings (kernels.MisuseWarning) from every cross_entropy call, process-wide; as
    ``with warn_on_misuse(): ...``, for the block only. Off (the default), the cost is one boolean test."""
    return MISUSE.set(enabled)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """torch.nn.functional.cross_entropy on arrays (index or probability targets)."""
    if MISUSE.on:  # opt-in, warn_on_misuse(): explain's warnings for this call
        _explain.warn(_explain.from_numpy(input, target, weight, ignore_index, reduction, label_smoothing))
    return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def _cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """cross_entropy without the misuse warnings (explain's last check runs this)."""
    return _loss(_ce_call(input, target, weight, ignore_index, reduction, label_smoothing))


def cross_entropy_grad(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, grad_output=None
):
    """Vector-Jacobian product of cross_entropy with respect to ``input``."""
    c = _ce_call(input, target, weight, ignore_index, reduction, label_smoothing)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        g = _per_position(c, grad_output, acc)
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
    c = _ce_call(input, target, weight, ignore_index, reduction, label_smoothing)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        g = _per_position(c, grad_output, acc)
        if c.kind == "prob":
            terms, grad = None, _ce.prob_grad(c.logits, c.target, c.weight, c.eps, g, acc)
        else:
            terms, grad = _ce.index_loss_and_grad(c.logits, c.target, c.valid, c.weight, c.eps, g, acc)
    return _loss(c, terms), grad.astype(c.input.dtype, copy=False).reshape(c.input.shape)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """torch.nn.functional.nll_loss on arrays: -w_t x_t for log-probabilities x."""
    c = _nll_call(input, target, weight, ignore_index, reduction)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        losses = _ce.nll_loss(c.logits, c.target, c.valid, c.weight, acc)
        return reduce(losses.reshape(c.shape), c.reduction, _mean_denominator(c, acc), c.dtype)


def nll_loss_grad(input, target, weight=None, ignore_index=-100, reduction="mean", grad_output=None):
    """Vector-Jacobian product of nll_loss with respect to ``input``."""
    c = _nll_call(input, target, weight, ignore_index, reduction)
    acc = working_dtype(c.dtype)
    with np.errstate(all="ignore"):
        grad = _ce.nll_grad(c.logits, c.target, c.valid, c.weight, _per_position(c, grad_output, acc), acc)
    return grad.reshape(c.input.shape)
