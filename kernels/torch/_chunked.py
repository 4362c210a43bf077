"""cross_entropy with the language-model extras (z-loss, soft-capping), in chunks of rows (torch backend).

The logits are read a chunk of rows at a time into a working buffer, capped there, and passed with the
extras (kernels/torch/_chunk_targets.py); the input is never modified. For 'mean' and 'sum' the gradient is
formed in forward into its own buffer (1 L, as cross_entropy's) and backward scales it by grad_output;
for 'none' backward passes each chunk again for its per-position grad_output. Without the extras,
cross_entropy takes its usual path (kernels/torch/_ce_indices.py); these options only reach here.
"""

from __future__ import annotations

import torch

from kernels._chunking import chunk_rows
from kernels.torch._autograd import handed_over, no_double_backward, scale_in_place, working_dtype
from kernels.torch._linear_chunks import run


class Rows:
    """The logits as the chunks' source: (N, C, S), each chunk copied into one reused buffer; dL/dz into ``grad``."""

    def __init__(self, logits, acc, need: bool):
        self.x, self.acc, self.rows = logits, acc, logits.shape[0]
        self.grad = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device) if need else None
        self._buffer = None

    def logits(self, r0, r1) -> torch.Tensor:
        if self._buffer is None:  # the first chunk is the largest
            self._buffer = torch.empty((r1 - r0, *self.x.shape[1:]), dtype=self.acc, device=self.x.device)
        out = self._buffer[: r1 - r0]
        out.copy_(self.x[r0:r1])
        return out

    def accumulate(self, g, r0, r1) -> None:
        self.grad[r0:r1] = g

    def release(self) -> None:
        self._buffer = None


class CrossEntropyExtras(torch.autograd.Function):
    """cross_entropy with the extras on (N, C, S) logits; ``make_targets(acc, need_target, need_weight)`` builds the
    chunk targets (class indices or probabilities) with the extras."""

    @staticmethod
    def forward(ctx, logits, target, weight, make_targets, reduction, eps, num_classes):
        acc = working_dtype(logits.dtype)
        need_input, need_target = ctx.needs_input_grad[:2]
        need_weight = weight is not None and ctx.needs_input_grad[2]
        grads_now = reduction != "none" and (need_input or need_target or need_weight)
        source = Rows(logits.detach(), acc, need_input and grads_now)
        targets = make_targets(acc, need_target and grads_now, need_weight and grads_now)
        shape = logits.shape
        scales = targets.scales(reduction, shape, acc, logits.device) if grads_now else None
        rows = chunk_rows(logits.shape[0], logits.shape[1] * logits.shape[2], torch.finfo(acc).bits // 8)
        run(source, targets, rows, scales)
        source.release()
        ctx.source, ctx.targets, ctx.make_targets = source, targets, make_targets
        ctx.reduction, ctx.rows, ctx.used = reduction, rows, False
        ctx.save_for_backward(logits)
        return targets.loss(reduction, eps, num_classes, logits.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        handed_over(ctx, "cross_entropy (with lse_square_scale or softcap)")
        (logits,) = ctx.saved_tensors
        targets = ctx.targets
        with torch.no_grad():
            if ctx.reduction == "none":  # each chunk again, for the per-position grad_out
                acc = working_dtype(logits.dtype)
                need_input, need_target = ctx.needs_input_grad[:2]
                need_weight = targets.weight is not None and ctx.needs_input_grad[2]
                targets = ctx.make_targets(acc, need_target, need_weight)
                source = Rows(logits.detach(), acc, need_input)
                run(source, targets, ctx.rows, targets.scales("none", logits.shape, acc, logits.device, grad_out))
                grad = source.grad
            else:  # formed in forward for grad_out = 1: scaled in place
                grad = ctx.source.grad
                scale_in_place((grad, targets.gt, targets.gw), grad_out)
            gt, gw = targets.target_gradients()
        if ctx.reduction != "none":
            ctx.source = ctx.targets = None
        grads = no_double_backward("cross_entropy", (grad, gt, gw), (logits, grad_out))
        return (*grads, None, None, None, None)
