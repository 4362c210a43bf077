"""linear_cross_entropy and LinearCrossEntropyLoss (torch 2.13's), chunked whatever the options.

    loss = cross_entropy(input @ linear_weight.T + linear_bias, target, ...)     never holding the logits

For 'mean' and 'sum' the gradients are formed in forward, chunk by chunk (kernels/torch/_linear_chunks.py),
and backward scales them by grad_output in place: three matmuls in all, and no buffer beyond one chunk
of logits and the gradients themselves. For 'none' backward recomputes each chunk's logits and passes
it again for its per-row grad_output (four matmuls). Without a gradient to
compute, forward is the loss alone.
"""

from __future__ import annotations

import torch

from kernels import _validate as validate
from kernels._chunking import linear_chunk_rows
from kernels._extras import extras as extras_of
from kernels._linear_call import linear_call, matching_dtypes
from kernels.torch import _linear_chunks as chunks
from kernels.torch._autograd import handed_over, no_double_backward, scale_in_place, working_dtype
from kernels.torch._chunk_targets import IndexTargets, ProbTargets
from kernels.torch._targets import dtype_name, index_rows


class LinearCrossEntropy(torch.autograd.Function):
    """The chunked loss: x (N, H), W (C S, H), b (C S) or None; ``make_targets(acc, need_target, need_weight)`` builds
    the chunk targets (kernels/torch/_chunk_targets.py)."""

    @staticmethod
    def forward(ctx, x, w, b, target, weight, make_targets, reduction, chunk, eps, num_classes):
        acc = working_dtype(x.dtype)
        need = ctx.needs_input_grad[:3]
        need_target = ctx.needs_input_grad[3]
        need_weight = weight is not None and ctx.needs_input_grad[4]
        grads_now = reduction != "none" and (any(need) or need_target or need_weight)
        layer = chunks.Linear(x, w, b, num_classes, acc, need if grads_now else (False,) * 3)
        targets = make_targets(acc, need_target and grads_now, need_weight and grads_now)
        shape = (x.shape[0], num_classes, w.shape[0] // num_classes)
        chunks.run(layer, targets, chunk, targets.scales(reduction, shape, acc, x.device) if grads_now else None)
        layer.release()  # the chunk buffer is not needed again before backward
        ctx.layer, ctx.targets, ctx.make_targets = layer, targets, make_targets
        ctx.reduction, ctx.chunk, ctx.shape, ctx.used = reduction, chunk, shape, False
        if reduction == "none":
            ctx.save_for_backward(x, w, b)
        return targets.loss(reduction, eps, num_classes, x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        handed_over(ctx, "linear_cross_entropy")
        layer, targets = ctx.layer, ctx.targets
        anchors = (layer.x, layer.w, layer.b, grad_out)  # what a second differentiation would reach
        with torch.no_grad():
            if ctx.reduction == "none":  # each chunk's logits again, for the per-row grad_out
                x, w, b = ctx.saved_tensors
                need_weight = targets.weight is not None and ctx.needs_input_grad[4]
                targets = ctx.make_targets(layer.acc, ctx.needs_input_grad[3], need_weight)
                grads = chunks.Linear(x, w, b, layer.num_classes, layer.acc, ctx.needs_input_grad[:3])
                chunks.run(grads, targets, ctx.chunk, targets.scales("none", ctx.shape, layer.acc, x.device, grad_out))
                gx, gw, gb = grads.gradients()
            else:  # formed in forward for grad_out = 1: scaled in place, in the working dtype, then rounded
                scale_in_place((layer.gx, layer.gw, layer.gb, targets.gt, targets.gw), grad_out)
                gx, gw, gb = layer.gradients()
            gt, gwt = targets.target_gradients()
        if ctx.reduction != "none":
            ctx.layer = ctx.targets = None
        grads = no_double_backward("linear_cross_entropy", (gx, gw, gb, gt, gwt), anchors)
        return (*grads, None, None, None, None, None)


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
    """torch.nn.functional.linear_cross_entropy, chunked: cross_entropy(linear(input, W, b), target, ...) without
    ever holding the N x C logits, for every target kind, weight, ignore_index, label_smoothing and reduction.

    ``options`` (torch.nn.LinearCrossEntropyOptions) sets the chunk: its batch_chunk_size, or its
    chunking_method ('aspect_ratio[:k]'); its acc_policy and acc_dtype change nothing here (half types
    always accumulate in float32). Without it, each chunk's logits are about 8 MiB. For 'mean' and 'sum'
    the gradients are formed in forward, so one backward per call (a second raises); higher-order
    gradients are not supported.

    Beyond torch, for language-model heads (both off by default): ``lse_square_scale`` s adds the z-loss
    s LSE(z)^2 of every counted row (PaLM's; 'mean' divides its sum by the number of counted rows), and
    ``softcap`` c caps every logit to c tanh(z / c) before the loss (Gemma 2's).
    """
    extras = extras_of(lse_square_scale, softcap)
    bias_shape = None if linear_bias is None else tuple(linear_bias.shape)
    call = linear_call(input.shape, linear_weight.shape, bias_shape, target.shape, ignore_index)
    dtypes = [dtype_name(t.dtype) for t in (input, linear_weight)]
    matching_dtypes(*dtypes, None if linear_bias is None else dtype_name(linear_bias.dtype))
    ce = validate.cross_entropy_call(
        call.logits_shape, target.shape, dtypes[0], dtype_name(target.dtype), call.ignore_index, reduction,
        label_smoothing,
    )  # fmt: skip
    n, c, s, h = call.rows, call.num_classes, call.positions, call.in_features
    x = input.reshape(n, h)
    w = linear_weight.reshape(c * s, h)
    b = None if linear_bias is None else linear_bias.reshape(c * s)
    rows = linear_chunk_rows(n, c * s, h, torch.finfo(working_dtype(input.dtype)).bits // 8, options)
    if ce.kind == "prob":
        if weight is not None:
            validate.weight(tuple(weight.shape), c, prefix="cross_entropy: ")
        probs = target.reshape(n, c, s)

        def make_targets(acc, need_target, need_weight):
            return ProbTargets(probs, weight, ce.eps, c, acc, need_target, need_weight, extras)

        out = LinearCrossEntropy.apply(x, w, b, probs, weight, make_targets, ce.reduction, rows, ce.eps, c)
    else:
        shape = call.logits_shape
        safe_target, valid = index_rows(input, target, weight, ce.ignore_index, ce.eps, ce.reduction, shape=shape)

        def make_targets(acc, need_target, need_weight):
            return IndexTargets(safe_target, valid, weight, ce.eps, c, acc, extras)

        out = LinearCrossEntropy.apply(x, w, b, target, weight, make_targets, ce.reduction, rows, ce.eps, c)
    if ce.reduction != "none":
        return out
    return out.reshape(call.logits_shape[:1] + call.logits_shape[2:]) if call.batched else out.reshape(())
