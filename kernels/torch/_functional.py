"""PyTorch backend: a drop-in for torch.nn.functional's cross-entropy family, emitted from the derivations.

Same names, arguments, defaults, results and exception types as torch.nn.functional / torch.nn
(torch 2.13), with clearer messages. The math comes from `kernels/_generated/torch_*.py`; these wrappers
validate, reshape, mask and reduce. Differences that are improvements: half-precision inputs sum in
float32 (float16 label-smoothing mean stays finite at N = 4096, C = 10, where torch overflows to inf),
and no N x C log-probabilities are kept: forward saves per-row statistics (m and d, 2 N floats) and,
when a gradient will be needed, fills the gradient's own buffer with exp(z - m), which backward
finishes in place (forward + backward peak at 1 L, one logits tensor, against torch's 3 L). The opt-in
``cross_entropy_overwrite_logits`` writes the gradient over the logits instead (0 L; it destroys them).

On CUDA, class-index targets are range-checked before any kernel runs (an IndexError, never a
device-side assert); that check costs one device synchronisation per call, and
``with unchecked_targets():`` skips it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import warnings

import torch

from kernels import _explain_front as _explain
from kernels import _validate as _v
from kernels._generated import torch_kl as _kl
from kernels._torch_ce import CrossEntropyProb, NllLoss, acc_dtype
from kernels._torch_index import CrossEntropyIndex
from kernels._torch_pointwise import BinaryCrossEntropyWithLogits, KLDiv

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "KLDivLoss",
    "NLLLoss",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "cross_entropy_overwrite_logits",
    "distribution_cross_entropy",
    "entropy",
    "explain",
    "kl_div",
    "kl_divergence",
    "nll_loss",
    "unchecked_targets",
    "warn_on_misuse",
]

_UNCHECKED = contextvars.ContextVar("kernels_unchecked_targets", default=False)
_WARN_ON_MISUSE = False  # set by warn_on_misuse(); cross_entropy reads it first, one global lookup
_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


@contextlib.contextmanager
def unchecked_targets():
    """Skip the range check of class-index targets on CUDA (saves one device sync per call).

    An out-of-range target then reads out of bounds on the device: use only with targets known good.
    CPU targets are always checked (the check costs no synchronisation there).
    """
    token = _UNCHECKED.set(True)
    try:
        yield
    finally:
        _UNCHECKED.reset(token)


def explain(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """What cross_entropy will do with these arguments, and the likely mistakes in them; never raises on bad input.

    Returns a report: how the target is read (class indices or probabilities, by torch's shape rule), the
    class dimension and C, the positions counted and ignored, the denominator of 'mean', and ``findings``
    (``code``, ``severity`` 'info' / 'warning' / 'error', ``message`` naming the fix): probabilities passed as
    logits (a sigmoid / softmax in the input's autograd history, or rows that are distributions), one-hot or
    (N, 1) or float class indices, targets out of range, every position ignored, probability targets that do
    not sum to 1, float16 sums that overflow in torch, and every error torch raises, with its type.
    ``print(report)`` shows it. Costs a pass over the data and one cross_entropy forward. Raises TypeError
    only when an argument is not a tensor.
    """
    return _explain.from_torch(input, target, weight, ignore_index, reduction, label_smoothing)


def warn_on_misuse(enabled: bool = True) -> _explain.Switch:
    """Emit explain's warnings (kernels.MisuseWarning) from every cross_entropy call, process-wide.

    ``warn_on_misuse()`` turns them on, ``warn_on_misuse(False)`` off; ``with warn_on_misuse(): ...`` turns
    them on for the block and restores the previous setting after it. While on, each call costs an explain
    pass (no final forward); errors still raise torch's exception, not a warning. Off (the default), the cost
    is one boolean test.
    """
    return _explain.Switch(globals(), enabled)


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _classes(x: torch.Tensor) -> torch.Tensor:
    """(C) -> (1, C, 1); (N, C) -> (N, C, 1); (N, C, d1, ..., dk) -> (N, C, d1 ... dk): views, no class-last copy."""
    return x.reshape(_layout(x))


def _layout(x: torch.Tensor) -> tuple[int, int, int]:
    """(N, C, S) of an input: rows, classes, spatial positions (explicit sizes: empty tensors reshape too)."""
    if x.dim() == 1:
        return 1, x.shape[0], 1
    return x.shape[0], x.shape[1], math.prod(x.shape[2:])


def _shape_output(out: torch.Tensor, input: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction != "none":
        return out
    if input.dim() == 1:
        return out.reshape(())
    return out.reshape(input.shape[0], *input.shape[2:])


def _index_rows(input, target, weight, ignore_index, eps=0.0, reduction="none"):
    """(safe, valid), (N, 1, S): int64 class indices with ignored positions set to 0, and the kept ones.

    Checks what every class-index path shares first: the weight's shape and dtype, torch's uint8 limit.
    """
    rows, num_classes, positions = _layout(input)
    if weight is not None:
        _v.weight(tuple(weight.shape), num_classes)
        _v.weight_dtype(_name(weight.dtype), _name(input.dtype))
    _v.uint8_with_smoothing(_name(target.dtype), weight is not None, eps, reduction)
    t = target.reshape(rows, 1, positions).long()
    valid = t != ignore_index
    if (t.device.type == "cpu" or not _UNCHECKED.get()) and t.numel():
        low, high = torch.stack(torch.aminmax(t)).tolist()  # one pass, one device sync on CUDA
        if not 0 <= low <= high < num_classes:  # some target outside [0, C): ignored, or an error
            bad = valid & ((t < 0) | (t >= num_classes))
            if bool(bad.any()):
                raise _v.out_of_range(int(t[bad][0]), num_classes, ignore_index)
    if weight is not None and weight.requires_grad:
        raise RuntimeError(
            "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'. This input "
            "cannot have requires_grad True (as in torch, for class-index targets): pass weight.detach()"
        )
    return torch.where(valid, t, 0), valid


def cross_entropy(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
):
    """torch.nn.functional.cross_entropy: index or probability targets, weight, ignore_index, label_smoothing."""
    if _WARN_ON_MISUSE:  # opt-in, warn_on_misuse(): explain's warnings for this call
        _explain.warn(_explain.from_torch(input, target, weight, ignore_index, reduction, label_smoothing, final=False))
    _v.legacy("cross_entropy", size_average, reduce)
    reduction = _v.reduction(reduction)
    ignore_index = _v.ignore_index(ignore_index, "cross_entropy")
    eps = _v.label_smoothing(label_smoothing)
    _v.floating_input(_name(input.dtype), "log_softmax")
    kind = _v.ce_target_kind(tuple(input.shape), tuple(target.shape), _name(target.dtype), ignore_index)
    num_classes = input.shape[0] if input.dim() == 1 else input.shape[1]
    if kind == "prob":
        dtype = torch.promote_types(input.dtype, target.dtype)
        if weight is not None:
            _v.weight(tuple(weight.shape), num_classes, prefix="cross_entropy: ")
            dtype = torch.promote_types(dtype, weight.dtype)
        out = CrossEntropyProb.apply(_classes(input), _classes(target), weight, eps, reduction, dtype)
        return _shape_output(out, input, reduction)
    safe, valid = _index_rows(input, target, weight, ignore_index, eps, reduction)
    out = CrossEntropyIndex.apply(_classes(input), safe, valid, weight, eps, reduction)
    return _shape_output(out, input, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """torch.nn.functional.nll_loss: -w_t x_t for log-probabilities x (the input is not validated, as in torch)."""
    _v.legacy("nll_loss", size_average, reduce)
    reduction = _v.reduction(reduction)
    ignore_index = _v.ignore_index(ignore_index, "nll_loss")
    _v.floating_input(_name(input.dtype), "nll_loss")
    if input.dim() >= 2 and tuple(target.shape) == tuple(input.shape):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported: nll_loss takes class indices")
    _v.index_target(tuple(input.shape), tuple(target.shape), _name(target.dtype))
    safe, valid = _index_rows(input, target, weight, ignore_index)
    out = NllLoss.apply(_classes(input), safe, valid, weight, reduction)
    return _shape_output(out, input, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """torch.nn.functional.binary_cross_entropy_with_logits, in the stable softplus form."""
    _v.legacy("binary_cross_entropy_with_logits", size_average, reduce)
    reduction = _v.reduction(reduction)
    _v.same_size(tuple(input.shape), tuple(target.shape))
    if not target.dtype.is_floating_point:
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {_v.TORCH_NAMES.get(_name(target.dtype))}: "
            "binary targets must be floating point (target.float())"
        )
    _v.floating_input(_name(input.dtype), "binary_cross_entropy_with_logits")
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is None:
            continue
        if _v.broadcast(tuple(input.shape), tuple(extra.shape), name) != tuple(input.shape):
            raise RuntimeError(f"{name} of shape {tuple(extra.shape)} does not broadcast to the input's shape")
        if extra.requires_grad:
            raise RuntimeError(
                f"The function 'binary_cross_entropy_with_logits' is not differentiable with respect to argument "
                f"'{name}'. This input cannot have requires_grad True (as in torch): pass {name}.detach()"
            )
    dtype = torch.promote_types(input.dtype, target.dtype)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction, dtype)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """torch.nn.functional.kl_div: pointwise target (log target - input), 0 where the target is 0."""
    _v.legacy("kl_div", size_average, reduce)
    reduction = _v.reduction(reduction, ("none", "batchmean", "sum", "mean"))
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported; pass floating-point input and target (.float())")
    shape = _v.broadcast(tuple(input.shape), tuple(target.shape), "target")
    if reduction == "mean":
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    numel = 1
    for size in shape:
        numel *= size
    count = numel if reduction == "mean" else (input.shape[0] if input.dim() else 1)
    dtype = torch.promote_types(input.dtype, target.dtype)
    return KLDiv.apply(input, target, bool(log_target), reduction, count, dtype)


def _along(term, dim, *tensors):
    """sum over ``dim`` of an elementwise term, computed in float32 for half types."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    acc = acc_dtype(dtype)
    return term(*(t.to(acc) for t in tensors)).sum(dim).to(dtype)


def entropy(p, dim=-1):
    """H(p) = -sum_j xlogy(p_j, p_j) along ``dim`` (0 log 0 = 0)."""
    return _along(_kl.entropy_term, dim, p)


def distribution_cross_entropy(p, q, dim=-1):
    """H(p, q) = -sum_j xlogy(p_j, q_j) along ``dim``."""
    return _along(_kl.cross_entropy_term, dim, p, q)


def kl_divergence(p, q, dim=-1):
    """D_KL(p || q) = sum_j xlogy(p_j, p_j) - xlogy(p_j, q_j) along ``dim``."""
    return _along(_kl.kl_term, dim, p, q)


from kernels._torch_modules import BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, NLLLoss  # noqa: E402
from kernels._torch_overwrite import cross_entropy_overwrite_logits  # noqa: E402  (opt-in: overwrites the logits)
