"""The functions of the Triton backend: cross_entropy, nll_loss and cross_entropy_overwrite_logits.

Each validates exactly as kernels.torch does (kernels/_validate.py, kernels/torch/_targets.py: torch's exception
types, clearer messages; a class index outside [0, C) is an IndexError before any launch, never a device-side
assert), refuses a device or dtype the kernels cannot run (kernels/triton/_runtime.py), views the input as
(N, C, S) and hands it to an autograd function of kernels/triton/_autograd.py.
"""

from __future__ import annotations

import torch

from kernels import _validate as validate
from kernels._extras import extras as extras_of
from kernels._layout import class_count
from kernels.torch._ops import transformed
from kernels.torch._refusals import refuse_what_would_break
from kernels.torch._targets import classes, dtype_name, index_checks, safe_targets, shape_output
from kernels.triton import _runtime
from kernels.triton._autograd import IndexLoss, IndexOverwrite, NllLoss, ProbLoss


def _index_targets(input, target, weight, call):
    """(N, 1, S) int64 targets, after the shape and dtype checks and the range check (IndexError)."""
    n, c, s = index_checks(input, target, weight, call.ignore_index, call.eps, call.reduction)
    t = target.reshape(n, 1, s).long()
    safe_targets(t, c, call.ignore_index)  # one synchronisation on CUDA, before any launch
    return t.contiguous()


def _checked(input, target, weight, ignore_index, reduction, label_smoothing):
    call = validate.cross_entropy_call(
        input.shape, target.shape, dtype_name(input.dtype), dtype_name(target.dtype), ignore_index, reduction,
        label_smoothing,
    )  # fmt: skip
    _runtime.launch_device(input, target, weight)
    _runtime.check_dtype(input.dtype)
    return call


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
    """torch.nn.functional.cross_entropy in Triton kernels: index or probability targets, weight, ignore_index,
    label_smoothing, (C), (N, C) or (N, C, d1, ..., dk) inputs; float32, float16 or bfloat16, computed in float32.

    As kernels.torch.cross_entropy, with its keyword-only extras ``lse_square_scale`` (the z-loss s LSE(z)^2
    of every counted position) and ``softcap`` (logits capped to c tanh(z / c) before the loss).
    """
    validate.legacy("cross_entropy", size_average, reduce)
    extras = extras_of(lse_square_scale, softcap)
    call = _checked(input, target, weight, ignore_index, reduction, label_smoothing)
    if call.kind == "prob":
        if weight is not None:
            validate.weight(tuple(weight.shape), class_count(tuple(input.shape)), prefix="cross_entropy: ")
        _runtime.check_dtype(target.dtype, "targets")
        out = ProbLoss.apply(classes(input), classes(target), weight, call.eps, call.reduction, extras)
        return shape_output(out, input, call.reduction)
    t = _index_targets(input, target, weight, call)
    out = IndexLoss.apply(classes(input), t, weight, call.ignore_index, call.eps, call.reduction, extras)
    return shape_output(out, input, call.reduction)


def cross_entropy_overwrite_logits(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
) -> torch.Tensor:
    """kernels.torch.cross_entropy_overwrite_logits in Triton kernels: the same arguments, result and contract.

    THE LOGITS ARE DESTROYED: forward writes d loss / d input (for grad_output = 1) over ``input``'s storage in
    the same launch that computes the loss, and backward scales it in place. Refused as there: an nn.Parameter,
    an input its producing op saved for its own backward, probability targets. Without a gradient to compute,
    under torch.compile or torch.func, nothing is overwritten: the call is ``cross_entropy``.
    """
    wanted = torch.is_grad_enabled() and isinstance(input, torch.Tensor) and input.requires_grad
    if not wanted or torch.compiler.is_compiling() or transformed(input):
        return cross_entropy(input, target, weight, None, ignore_index, None, reduction, label_smoothing)
    call = _checked(input, target, weight, ignore_index, reduction, label_smoothing)
    if call.kind == "prob":
        raise RuntimeError(
            "cross_entropy_overwrite_logits takes class-index targets only; for probability targets use "
            "kernels.triton.cross_entropy"
        )
    refuse_what_would_break(input)
    t = _index_targets(input, target, weight, call)
    out = IndexOverwrite.apply(
        classes(input), t, weight, call.ignore_index, call.eps, call.reduction, extras_of(0, None)
    )
    return shape_output(out, input, call.reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """torch.nn.functional.nll_loss in Triton kernels: -w_t x_t for log-probabilities x."""
    validate.legacy("nll_loss", size_average, reduce)
    reduction = validate.reduction(reduction)
    ignore_index = validate.ignore_index(ignore_index, "nll_loss")
    validate.floating_input(dtype_name(input.dtype), "nll_loss")
    if input.dim() >= 2 and tuple(target.shape) == tuple(input.shape):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported: nll_loss takes class indices")
    validate.index_target(tuple(input.shape), tuple(target.shape), dtype_name(target.dtype))
    _runtime.launch_device(input, target, weight)
    _runtime.check_dtype(input.dtype, "log-probabilities")
    n, c, s = index_checks(input, target, weight, ignore_index)
    t = target.reshape(n, 1, s).long()
    safe_targets(t, c, ignore_index)
    out = NllLoss.apply(classes(input), t.contiguous(), weight, ignore_index, reduction)
    return shape_output(out, input, reduction)
