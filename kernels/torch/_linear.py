"""linear_cross_entropy and LinearCrossEntropyLoss (torch 2.13's), chunked whatever the options.

    loss = cross_entropy(input @ linear_weight.T + linear_bias, target, ...)     never holding the logits

For 'mean' and 'sum' the gradients are formed in forward, chunk by chunk (kernels/torch/_linear_chunks.py),
and backward scales them by grad_output in place: three matmuls in all, and no buffer beyond one chunk
of logits and the gradients themselves. For 'none' backward recomputes each chunk's logits and passes
it again for its per-row grad_output (four matmuls). Without a gradient to
compute, forward is the loss alone. Rows too wide for a chunk go in blocks of classes (kernels/_chunking.py).
"""

from __future__ import annotations

import torch

from kernels import _validate as validate
from kernels._chunking import linear_chunk_rows, sets_chunk
from kernels._extras import extras as extras_of
from kernels._linear_call import linear_call, matching_dtypes
from kernels.torch._autograd import working_dtype
from kernels.torch._chunked_op import chunked_loss
from kernels.torch._targets import dtype_name, index_checks
from kernels.torch._triton_switch import triton_backend


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
    always accumulate in float32). Without it, each chunk's logits are about 12 MiB, and a head whose
    rows are too wide for that (or the loss alone, beyond 2 MiB) is passed in blocks of classes
    (kernels/torch/_class_blocks.py). For 'mean' and 'sum' the gradients are formed in forward; a second
    backward passes the chunks again, and create_graph=True differentiates materialised logits.

    Beyond torch, for language-model heads (both off by default): ``lse_square_scale`` s adds the z-loss
    s LSE(z)^2 of every counted row (PaLM's; 'mean' divides its sum by the number of counted rows), and
    ``softcap`` c caps every logit to c tanh(z / c) before the loss (Gemma 2's).
    """
    backend = triton_backend(input, linear_weight, linear_bias, target, weight)
    if backend is not None:  # opt-in: VCE_TRITON=1 or use_triton(), CUDA only
        return backend.linear_cross_entropy(
            input, linear_weight, target, linear_bias=linear_bias, weight=weight, reduction=reduction,
            ignore_index=ignore_index, label_smoothing=label_smoothing, options=options,
            lse_square_scale=lse_square_scale, softcap=softcap,
        )  # fmt: skip
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
    if not sets_chunk(options):
        rows = 0  # planned in the pass, which knows whether it forms gradients (kernels/_chunking.linear_plan)
    if ce.kind == "prob":
        if weight is not None:
            validate.weight(tuple(weight.shape), c, prefix="cross_entropy: ")
        t = target.reshape(n, c, s)
    else:
        index_checks(input, target, weight, ce.ignore_index, ce.eps, ce.reduction, shape=call.logits_shape)
        t = target.reshape(n, 1, s).long()  # the range check runs inside the operator
    out = chunked_loss(x, w, b, t, weight, ce.kind == "prob", ce.ignore_index, ce.eps, ce.reduction, rows, c, extras)
    if ce.reduction != "none":
        return out
    return out.reshape(call.logits_shape[:1] + call.logits_shape[2:]) if call.batched else out.reshape(())
