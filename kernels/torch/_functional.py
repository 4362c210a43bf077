"""The functions of the torch backend: torch.nn.functional's cross-entropy family, explain, warn_on_misuse.

Each validates with kernels/_validate.py (torch's exception types, clearer messages), views the logits as
(N, C, S) (kernels/_layout.py) and hands them to an autograd function whose arithmetic is the emitted
kernels/_generated/torch_*.py.
"""

from __future__ import annotations

import warnings

import torch

from kernels import _validate as validate
from kernels import explain as _explain
from kernels._chunking import chunk_rows
from kernels._extras import OFF
from kernels._extras import extras as extras_of
from kernels._generated import torch_kl as _kl
from kernels._layout import class_count
from kernels.torch import _pointwise
from kernels.torch._autograd import working_dtype
from kernels.torch._ce_loss import index_loss, prob_loss
from kernels.torch._chunked_op import chunked_loss
from kernels.torch._nll import nll
from kernels.torch._targets import classes, dtype_name, index_checks, shape_output
from kernels.torch._triton_switch import triton_backend

#: Whether cross_entropy emits explain's warnings (``warn_on_misuse``); cross_entropy reads it first.
MISUSE = _explain.MisuseFlag()


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
    return _explain.from_torch(input, target, weight, ignore_index, reduction, label_smoothing, run=_cross_entropy)


def warn_on_misuse(enabled: bool = True):
    """Emit explain's warnings (kernels.MisuseWarning) from every cross_entropy call, process-wide.

    ``warn_on_misuse()`` turns them on, ``warn_on_misuse(False)`` off; ``with warn_on_misuse(): ...`` turns
    them on for the block and restores the previous setting after it. While on, each call costs an explain
    pass (no final forward); errors still raise torch's exception, not a warning. Off (the default), the cost
    is one boolean test.
    """
    return MISUSE.set(enabled)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
    *,
    lse_square_scale=0.0,
    softcap=None,
):
    """torch.nn.functional.cross_entropy: index or probability targets, weight, ignore_index, label_smoothing.

    Beyond torch, for language-model heads (keyword-only, off by default): ``lse_square_scale`` s adds the
    z-loss s LSE(z)^2 of every counted position (PaLM's; 'mean' divides its sum by the number of counted
    positions, unweighted), and ``softcap`` c caps every logit to c tanh(z / c) before the loss (Gemma 2's).
    """
    if MISUSE.on:  # opt-in, warn_on_misuse(): explain's warnings for this call
        _explain.warn(_explain.from_torch(input, target, weight, ignore_index, reduction, label_smoothing))
    backend = triton_backend(input, target, weight)  # opt-in: VCE_TRITON=1 or use_triton(), CUDA only
    if backend is not None:
        return backend.cross_entropy(input, target, weight, size_average, ignore_index, reduce, reduction,
                                     label_smoothing, lse_square_scale=lse_square_scale, softcap=softcap)  # fmt: skip
    extras = extras_of(lse_square_scale, softcap)
    return _cross_entropy(input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing, extras)


def _cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
    extras=OFF,
):
    """cross_entropy without the misuse warnings (explain's last check runs this); ``extras``: kernels/_extras.py."""
    validate.legacy("cross_entropy", size_average, reduce)
    dtypes = dtype_name(input.dtype), dtype_name(target.dtype)
    call = validate.cross_entropy_call(input.shape, target.shape, *dtypes, ignore_index, reduction, label_smoothing)
    if extras.on:
        return _with_extras(input, target, weight, call, extras)
    if call.kind == "prob":
        dtype = torch.promote_types(input.dtype, target.dtype)
        if weight is not None:
            validate.weight(tuple(weight.shape), class_count(tuple(input.shape)), prefix="cross_entropy: ")
            dtype = torch.promote_types(dtype, weight.dtype)
        out = prob_loss(classes(input), classes(target), weight, call.eps, call.reduction, dtype)
        return shape_output(out, input, call.reduction)
    n, _, s = index_checks(input, target, weight, call.ignore_index, call.eps, call.reduction)
    # the range check runs inside the operator (before any pass over the logits): no graph break
    t = target.reshape(n, 1, s).long()
    out = index_loss(classes(input), t, weight, call.ignore_index, call.eps, call.reduction, input.dtype)
    return shape_output(out, input, call.reduction)


def _with_extras(input, target, weight, call, extras):
    """cross_entropy with the z-loss or soft-capping: in chunks of rows (kernels/torch/_chunked_op.py)."""
    logits = classes(input)
    n, c, s = logits.shape
    if call.kind == "prob":
        if weight is not None:
            validate.weight(tuple(weight.shape), c, prefix="cross_entropy: ")
        t = classes(target)
    else:
        index_checks(input, target, weight, call.ignore_index, call.eps, call.reduction)
        t = target.reshape(n, 1, s).long()  # the range check runs inside the operator
    rows = chunk_rows(n, c * s, torch.finfo(working_dtype(input.dtype)).bits // 8)
    prob = call.kind == "prob"
    out = chunked_loss(
        logits, None, None, t, weight, prob, call.ignore_index, call.eps, call.reduction, rows, c, extras
    )
    return shape_output(out, input, call.reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """torch.nn.functional.nll_loss: -w_t x_t for log-probabilities x (the input is not validated, as in torch)."""
    backend = triton_backend(input, target, weight)
    if backend is not None:
        return backend.nll_loss(input, target, weight, size_average, ignore_index, reduce, reduction)
    validate.legacy("nll_loss", size_average, reduce)
    reduction = validate.reduction(reduction)
    ignore_index = validate.ignore_index(ignore_index, "nll_loss")
    validate.floating_input(dtype_name(input.dtype), "nll_loss")
    if input.dim() >= 2 and tuple(target.shape) == tuple(input.shape):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported: nll_loss takes class indices")
    validate.index_target(tuple(input.shape), tuple(target.shape), dtype_name(target.dtype))
    n, _, s = index_checks(input, target, weight, ignore_index)
    out = nll(classes(input), target.reshape(n, 1, s).long(), weight, ignore_index, reduction)
    return shape_output(out, input, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """torch.nn.functional.binary_cross_entropy_with_logits, in the stable softplus form."""
    validate.legacy("binary_cross_entropy_with_logits", size_average, reduce)
    reduction = validate.reduction(reduction)
    validate.same_size(tuple(input.shape), tuple(target.shape))
    if not target.dtype.is_floating_point:
        name = validate.TORCH_NAMES.get(dtype_name(target.dtype))
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {name}: "
            "binary targets must be floating point (target.float())"
        )
    validate.floating_input(dtype_name(input.dtype), "binary_cross_entropy_with_logits")
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is None:
            continue
        if validate.broadcast(tuple(input.shape), tuple(extra.shape), name) != tuple(input.shape):
            raise RuntimeError(f"{name} of shape {tuple(extra.shape)} does not broadcast to the input's shape")
        if extra.requires_grad:
            raise RuntimeError(
                f"The function 'binary_cross_entropy_with_logits' is not differentiable with respect to argument "
                f"'{name}'. This input cannot have requires_grad True (as in torch): pass {name}.detach()"
            )
    dtype = torch.promote_types(input.dtype, target.dtype)
    return _pointwise.binary(input, target, weight, pos_weight, reduction, dtype)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """torch.nn.functional.kl_div: pointwise target (log target - input), 0 where the target is 0."""
    validate.legacy("kl_div", size_average, reduce)
    reduction = validate.reduction(reduction, ("none", "batchmean", "sum", "mean"))
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported; pass floating-point input and target (.float())")
    shape = validate.broadcast(tuple(input.shape), tuple(target.shape), "target")
    if reduction == "mean":
        warnings.warn(validate.KL_MEAN_WARNING, UserWarning, stacklevel=2)
    numel = 1
    for size in shape:
        numel *= size
    count = numel if reduction == "mean" else (input.shape[0] if input.dim() else 1)
    dtype = torch.promote_types(input.dtype, target.dtype)
    return _pointwise.kl(input, target, bool(log_target), reduction, count, dtype)


def _along(term, dim, *tensors):
    """sum over ``dim`` of an elementwise term, computed in float32 for half types."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    acc = working_dtype(dtype)
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
