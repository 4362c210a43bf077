"""linear_cross_entropy in the Triton backend: the torch backend's chunk loop, with the Triton row pass per chunk.

    z = x[r0:r1] W^T + b                  torch matmuls (cuBLAS), kernels/torch/_linear_chunks.py's Linear
    the loss terms of z, dL/dz over z     one launch of the Triton forward per chunk (class indices: the
                                          gradient pass fused after the row statistics, kernels/triton/_launch.py)
    dL/dx, dL/dW, dL/db                   torch matmuls again, accumulated across chunks in float32

so the chunking, the reductions and the autograd contract (gradients formed in forward for 'mean' and 'sum',
scaled in place by backward; 'none' recomputes its chunks) are kernels.torch.linear_cross_entropy's. The chunk
pass is handed in as the targets object of ``run``. Probability targets whose own gradients are asked for pass
their chunks with the torch backend's operations.
"""

from __future__ import annotations

import torch

from kernels import _validate as validate
from kernels._chunking import linear_chunk_rows
from kernels._extras import Extras
from kernels._extras import extras as extras_of
from kernels._linear_call import linear_call, matching_dtypes
from kernels.torch._autograd import no_double_backward, scale_in_place, working_dtype
from kernels.torch._chunk_targets import IndexTargets, ProbTargets
from kernels.torch._chunked_op import _formed
from kernels.torch._linear_chunks import Linear, run
from kernels.torch._targets import dtype_name, index_checks, safe_targets
from kernels.triton import _launch, _runtime
from kernels.triton._launch import back, class_last


def _write_back(z, grad_rows):
    """The class-last rows' gradient into the chunk z (rows, C, S), where class_last made a copy."""
    if grad_rows.data_ptr() != z.data_ptr():
        z.copy_(back(grad_rows, tuple(z.shape)))


class TritonIndexTargets(IndexTargets):
    """IndexTargets whose chunk pass is one Triton launch (soft cap and z-loss inside the kernel)."""

    def __init__(self, target, ignore_index, safe_target, valid, weight, eps, num_classes, acc, extras):
        super().__init__(safe_target, valid, weight, eps, num_classes, acc, extras)
        self.target, self.ignore_index = target, ignore_index

    def chunk(self, z, r0, r1, g=None, gz=None) -> None:
        ix, zc = slice(r0, r1), class_last(z)
        t = self.target[ix].reshape(-1).contiguous()
        flat = lambda x: None if x is None else x[ix].reshape(-1).contiguous()  # noqa: E731
        rows = _launch.index_forward(zc, t, self.weight, self.ignore_index, self.eps, self.extras,
                                     flat(g), flat(gz), grad=zc if g is not None else None)  # fmt: skip
        shape = self.nll[ix].shape
        self.nll[ix] = rows.nll.view(shape)
        if self.smooth is not None:
            self.smooth[ix] = rows.smooth.view(shape)
        if self.zl is not None:
            self.zl[ix] = rows.zl.view(shape)
        if g is not None:
            _write_back(z, zc)


class TritonProbTargets(ProbTargets):
    """ProbTargets whose chunk pass is the Triton forward and gradient (the torch pass where dL/dy or dL/dw is
    asked for, or there are no classes)."""

    def chunk(self, z, r0, r1, g=None, gz=None) -> None:
        if self.gt is not None or self.gw is not None or not self.num_classes:
            return super().chunk(z, r0, r1, g, gz)
        ix, zc = slice(r0, r1), class_last(z)
        y = class_last(self.target[ix])
        rows = _launch.prob_forward(zc, y, self.weight, self.eps, self.extras)
        shape = self.nll[ix].shape
        self.nll[ix] = rows.loss.view(shape)
        if self.zl is not None:
            self.zl[ix] = rows.zl.view(shape)
        if g is not None:
            flat = lambda x: None if x is None else x[ix].reshape(-1).contiguous()  # noqa: E731
            grad = _launch.prob_backward(zc, y, self.weight, self.eps, self.extras, rows.m, rows.d, rows.swy,
                                         flat(g), flat(gz))  # fmt: skip
            z.copy_(back(grad, tuple(z.shape)))


def _run(x, w, b, target, weight, options, extras, needs, g):
    """The layer and the targets after one pass of every chunk (gradients where ``g`` asks: 'ones' or a tensor)."""
    prob, ignore_index, eps, reduction, chunk, num_classes = options
    acc = working_dtype(x.dtype)
    if prob:
        targets = TritonProbTargets(target, weight, eps, num_classes, acc, needs[3], needs[4], extras)
    else:
        safe_target, valid = safe_targets(target, num_classes, ignore_index)
        targets = TritonIndexTargets(target, ignore_index, safe_target, valid, weight, eps, num_classes, acc, extras)
    layer = Linear(x, w, b, num_classes, acc, tuple(needs[:3]))
    scales = None
    if g is not None:
        shape = (x.shape[0], num_classes, w.shape[0] // num_classes)
        scales = targets.scales(reduction, shape, acc, x.device, None if isinstance(g, str) else g)
    run(layer, targets, chunk, scales)
    layer.release()
    return layer, targets


class LinearLoss(torch.autograd.Function):
    """The chunked linear head: x, w, b, target, weight, then (prob, ignore_index, eps, reduction, chunk, C), extras."""

    @staticmethod
    def forward(ctx, x, w, b, target, weight, options, extras: Extras):
        needs = [bool(n) for n in ctx.needs_input_grad[:5]]
        needs[2] = needs[2] and b is not None
        needs[4] = needs[4] and weight is not None
        now = options[3] != "none" and any(needs)
        kept = needs if now else [False] * 5
        layer, targets = _run(x, w, b, target, weight, options, extras, kept, "ones" if now else None)
        formed = _formed(layer, targets, kept)
        ctx.save_for_backward(x, w, b, target, weight, *formed)
        ctx.options, ctx.extras, ctx.needs, ctx.used = options, extras, needs, False
        _, _, eps, reduction, _, num_classes = options
        return targets.loss(reduction, eps, num_classes, x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        x, w, b, target, weight, *formed = ctx.saved_tensors
        if ctx.options[3] == "none" or ctx.used:  # the chunks again: per-row grad_out, or a second backward
            layer, targets = _run(x, w, b, target, weight, ctx.options, ctx.extras, ctx.needs, grad_out)
            formed = _formed(layer, targets, ctx.needs)
        else:  # formed in forward for grad_out = 1: scaled in place, and handed over once
            ctx.used = True
            scale_in_place(formed, grad_out)
        computed = iter(no_double_backward("linear_cross_entropy", tuple(formed), (grad_out,)))
        return (*[next(computed) if need else None for need in ctx.needs], None, None)


def linear_cross_entropy(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction="mean",
    ignore_index=None,
    label_smoothing=0.0,
    options=None,
    lse_square_scale=0.0,
    softcap=None,
):
    """kernels.torch.linear_cross_entropy with the Triton row pass: cross_entropy(linear(input, W, b), target, ...)
    chunked, never holding the N x C logits; the same arguments, checks, chunk sizes (``options``) and results."""
    extras = extras_of(lse_square_scale, softcap)
    bias_shape = None if linear_bias is None else tuple(linear_bias.shape)
    call = linear_call(input.shape, linear_weight.shape, bias_shape, target.shape, ignore_index)
    dtypes = [dtype_name(t.dtype) for t in (input, linear_weight)]
    matching_dtypes(*dtypes, None if linear_bias is None else dtype_name(linear_bias.dtype))
    ce = validate.cross_entropy_call(
        call.logits_shape, target.shape, dtypes[0], dtype_name(target.dtype), call.ignore_index, reduction,
        label_smoothing,
    )  # fmt: skip
    _runtime.launch_device(input, linear_weight, linear_bias, target, weight)
    _runtime.check_dtype(input.dtype, "inputs")
    n, c, s, h = call.rows, call.num_classes, call.positions, call.in_features
    x, w = input.reshape(n, h), linear_weight.reshape(c * s, h)
    b = None if linear_bias is None else linear_bias.reshape(c * s)
    rows = linear_chunk_rows(n, c * s, h, 4, options)
    if ce.kind == "prob":
        if weight is not None:
            validate.weight(tuple(weight.shape), c, prefix="cross_entropy: ")
        t = target.reshape(n, c, s)
    else:
        index_checks(input, target, weight, ce.ignore_index, ce.eps, ce.reduction, shape=call.logits_shape)
        t = target.reshape(n, 1, s).long()
        safe_targets(t, c, ce.ignore_index)  # IndexError before any launch
    chunked = (ce.kind == "prob", ce.ignore_index, ce.eps, ce.reduction, rows, c)
    out = LinearLoss.apply(x, w, b, t, weight, chunked, extras)
    if ce.reduction != "none":
        return out
    return out.reshape(call.logits_shape[:1] + call.logits_shape[2:]) if call.batched else out.reshape(())
