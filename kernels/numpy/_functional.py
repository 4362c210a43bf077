"""The cross-entropy functions of the NumPy backend: losses, their vector-Jacobian products, explain.

Each call is validated into a ``_Call`` (kernels/_validate.py's checks, torch's exception types), with the
logits viewed as (N, C, S) (kernels/_layout.py); the block loops are kernels/numpy/_ce.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from kernels import _validate as validate
from kernels import explain as _explain
from kernels._extras import extras as extras_of
from kernels._generated import numpy_ce as _emitted_ce
from kernels._layout import layout, loss_shape
from kernels.numpy import _ce, _extras
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
    extras: _extras.Extras = _extras.OFF

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


def _ce_call(input, target, weight, ignore_index, reduction, label_smoothing, extras=_extras.OFF) -> _Call:
    """cross_entropy's checks (kernels/_validate.py, torch's order), then the target read by its kind."""
    input, target, weight = _arrays(input, target, weight)
    dtypes = input.dtype.name, target.dtype.name
    call = validate.cross_entropy_call(input.shape, target.shape, *dtypes, ignore_index, reduction, label_smoothing)
    if call.kind == "prob":
        shape = layout(input.shape)
        if weight is not None:
            validate.weight(weight.shape, shape[1], prefix="cross_entropy: ")
        logits, target = input.reshape(shape), target.reshape(shape)
        return _Call("prob", logits, target, None, weight, call.reduction, call.eps, input, extras)
    c = _index_call(input, target, weight, call.ignore_index, call.reduction, call.eps)
    c.extras = extras
    return c


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


def _per_position(c: _Call, grad_output, acc, den=None) -> np.ndarray:
    """g of each position, (N, 1, S): grad_output times the reduction's factor (1 / den for 'mean', den the
    call's mean denominator unless given); exactly 0 where ignored."""
    n, _, s = c.logits.shape
    if den is None:
        den = _mean_denominator(c, acc) if c.reduction == "mean" else 1
    g = upstream(grad_output, c.reduction, den, c.shape, acc)
    g = np.broadcast_to(g, c.shape).reshape(n, 1, s) if c.reduction == "none" else np.broadcast_to(g, (n, 1, s))
    return g if c.valid is None else np.where(c.valid, g, acc.type(0))


def _loss(c: _Call, terms=None) -> np.ndarray:
    """The loss of a validated call; ``terms``: (nll, smooth) per position when already computed."""
    acc = working_dtype(c.dtype)
    if c.extras.on:  # in chunks, with the z-loss's own terms
        with np.errstate(all="ignore"):
            nll, smooth, zl = (
                terms
                or _extras.cross_entropy_terms(c.logits, c.kind, c.target, c.valid, c.weight, c.eps, acc, c.extras)[0]
            )
            plain = _loss(dataclasses.replace(c, extras=_extras.OFF), (nll, smooth))
            count = _extras.z_loss_count(c.kind, c.valid, c.logits.shape)
            return _extras.add_z_loss(plain, None if c.extras.z_loss == 0 else zl, c.reduction, count, c.shape, c.dtype)
    with np.errstate(all="ignore"):
        den = _mean_denominator(c, acc)
        if c.kind == "prob":
            losses = terms[0] if terms else _ce.prob_loss(c.logits, c.target, c.weight, c.eps, acc)
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


def cross_entropy(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, *, lse_square_scale=0.0,
    softcap=None,
):  # fmt: skip
    """torch.nn.functional.cross_entropy on arrays (index or probability targets); ``lse_square_scale`` and
    ``softcap`` as in kernels.torch.cross_entropy (the z-loss and soft-capping; off by default)."""
    if MISUSE.on:  # opt-in, warn_on_misuse(): explain's warnings for this call
        _explain.warn(_explain.from_numpy(input, target, weight, ignore_index, reduction, label_smoothing))
    extras = extras_of(lse_square_scale, softcap)
    return _loss(_ce_call(input, target, weight, ignore_index, reduction, label_smoothing, extras))


def _cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """cross_entropy without the misuse warnings (explain's last check runs this)."""
    return _loss(_ce_call(input, target, weight, ignore_index, reduction, label_smoothing))


def _with_grad(c: _Call, grad_output):
    """(terms or None, gradient) of a validated call: in chunks with the extras, else in one blocked pass."""
    acc = working_dtype(c.dtype)
    g = _per_position(c, grad_output, acc)
    if c.extras.on:
        count = _extras.z_loss_count(c.kind, c.valid, c.logits.shape)
        gz = _per_position(c, grad_output, acc, den=count) if c.extras.z_loss > 0 else None
        return _extras.cross_entropy_terms(c.logits, c.kind, c.target, c.valid, c.weight, c.eps, acc, c.extras, g, gz)
    if c.kind == "prob":
        return None, _ce.prob_grad(c.logits, c.target, c.weight, c.eps, g, acc)
    return _ce.index_loss_and_grad(c.logits, c.target, c.valid, c.weight, c.eps, g, acc)


def cross_entropy_grad(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, grad_output=None, *,
    lse_square_scale=0.0, softcap=None,
):  # fmt: skip
    """Vector-Jacobian product of cross_entropy with respect to ``input``."""
    c = _ce_call(input, target, weight, ignore_index, reduction, label_smoothing, extras_of(lse_square_scale, softcap))
    with np.errstate(all="ignore"):
        _, grad = _with_grad(c, grad_output)
    return grad.astype(c.input.dtype, copy=False).reshape(c.input.shape)


def cross_entropy_with_grad(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, grad_output=None, *,
    lse_square_scale=0.0, softcap=None,
):  # fmt: skip
    """(cross_entropy(...), cross_entropy_grad(...)) from one pass over the logits (class indices).

    The gradient is written block by block into one preallocated array while each block is in cache;
    loss and gradient cost one exponential per element and no other N x C array. ``input`` is not
    modified. Probability targets are accepted too (two passes there).
    """
    c = _ce_call(input, target, weight, ignore_index, reduction, label_smoothing, extras_of(lse_square_scale, softcap))
    with np.errstate(all="ignore"):
        terms, grad = _with_grad(c, grad_output)
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
