"""The chunked cross-entropy as PyTorch operators: linear_cross_entropy, and cross_entropy with the extras.

    chunked_ce(source, w, b, target, weight, ...)            -> [loss, the gradients formed in forward]
    chunked_ce_backward(source, w, b, target, weight, g, ...) -> [the gradients]   ('none': g per position)

``source`` is the input x (N, H) of a linear head whose classifier is w (C S, H) with bias b, or, with w
None, the logits themselves (N, C, S) (cross_entropy with lse_square_scale or softcap). The chunk loop is
kernels/torch/_linear_chunks.py; inside an operator it is one opaque node to torch.compile and torch.export,
and the target range check runs in it; a ``chunk`` of 0 leaves the rows per chunk, and whether to pass
blocks of classes (kernels/torch/_class_blocks.py), to kernels/_chunking.linear_plan. ``needs`` lists
which gradients to form, in the order source, w, b, target, weight; each operator returns those only.

``Chunked`` is the autograd: for 'mean' and 'sum' forward forms the gradients for grad_output = 1 and
backward scales them (in place, eagerly) and hands them over; for 'none', and for any later backward
through the same call (retain_graph=True, gradcheck), backward runs the chunks again. Under torch.func, with
forward-mode tangents, or when backward must build a graph (create_graph=True), the loss is ``composed``
instead: the same emitted operations on materialised logits (kernels/torch/_ce_loss.py), which every
transform and any order of differentiation understands.
"""

from __future__ import annotations

import torch

from kernels._chunking import linear_plan
from kernels._extras import Extras
from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import reduce, scale_in_place, working_dtype, zero
from kernels.torch._ce_loss import index_loss, prob_loss
from kernels.torch._chunk_targets import IndexTargets, ProbTargets
from kernels.torch._chunked import Rows
from kernels.torch._class_blocks import run_blocks
from kernels.torch._linear_chunks import Linear, run
from kernels.torch._ops import call, operator, transformed
from kernels.torch._targets import safe_targets


def _run(source, w, b, target, weight, prob, ignore_index, eps, reduction, chunk, num_classes, z_loss, cap, needs, g):
    """The layer (or the logits) and the targets after one pass of every chunk, the gradients of ``needs``
    formed where ``g`` asks for them (None: the loss terms only; 'ones': for grad_output = 1)."""
    acc = working_dtype(source.dtype)
    extras = Extras(z_loss, cap if cap > 0 else None)
    if prob:
        targets = ProbTargets(target, weight, eps, num_classes, acc, needs[3], needs[4], extras)
    else:
        safe_target, valid = safe_targets(target, num_classes, ignore_index)
        targets = IndexTargets(safe_target, valid, weight, eps, num_classes, acc, extras)
    if w is None:
        layer, shape = Rows(source, acc, needs[0]), source.shape
    else:
        layer = Linear(source, w, b, num_classes, acc, tuple(needs[:3]))
        shape = (source.shape[0], num_classes, w.shape[0] // num_classes)
    scales = None
    if g is not None:
        scales = targets.scales(reduction, shape, acc, source.device, None if isinstance(g, str) else g)
    width = num_classes
    if chunk <= 0:  # a linear head without options: whole rows, or blocks of classes where they do not fit
        itemsize, device = torch.finfo(acc).bits // 8, source.device.type
        chunk, width = linear_plan(source.shape[0], num_classes, shape[2], itemsize, g is not None, device)
    if width < num_classes:
        run_blocks(layer, targets, chunk, width, scales)
    else:
        run(layer, targets, chunk, scales)
    layer.release()
    return layer, targets


def _formed(layer, targets, needs) -> list[torch.Tensor]:
    gradients = (*layer.gradients(), *targets.target_gradients())
    return [grad for grad, need in zip(gradients, needs, strict=True) if need]


@operator("chunked_ce")
def chunked_ce(
    source: torch.Tensor,
    w: torch.Tensor | None,
    b: torch.Tensor | None,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    prob: bool,
    ignore_index: int,
    eps: float,
    reduction: str,
    chunk: int,
    num_classes: int,
    z_loss: float,
    cap: float,
    needs: list[bool],
) -> list[torch.Tensor]:
    """[loss, the gradients of ``needs`` for grad_output = 1 ('mean', 'sum'; none for 'none')]; the loss is
    (N, 1, S) for 'none'. ``cap`` 0 is no soft cap."""
    now = reduction != "none" and any(needs)
    kept = needs if now else [False] * 5
    args = (source, w, b, target, weight, prob, ignore_index, eps, reduction, chunk, num_classes, z_loss, cap)
    layer, targets = _run(*args, kept, "ones" if now else None)
    return [targets.loss(reduction, eps, num_classes, source.dtype), *_formed(layer, targets, kept)]


def _like(needs, source, w, b, target, weight) -> list[torch.Tensor]:
    return [torch.empty_like(t) for t, need in zip((source, w, b, target, weight), needs, strict=True) if need]


@chunked_ce.register_fake
def _(source, w, b, target, weight, prob, ignore_index, eps, reduction, chunk, num_classes, z_loss, cap, needs):
    n = source.shape[0]
    s = source.shape[2] if w is None else w.shape[0] // num_classes
    loss = source.new_empty((n, 1, s) if reduction == "none" else ())
    now = reduction != "none" and any(needs)
    return [loss, *(_like(needs, source, w, b, target, weight) if now else [])]


@operator("chunked_ce_backward")
def chunked_ce_backward(
    source: torch.Tensor,
    w: torch.Tensor | None,
    b: torch.Tensor | None,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    g: torch.Tensor,
    prob: bool,
    ignore_index: int,
    eps: float,
    reduction: str,
    chunk: int,
    num_classes: int,
    z_loss: float,
    cap: float,
    needs: list[bool],
) -> list[torch.Tensor]:
    """The gradients of ``needs`` for the upstream gradient ``g``: of each position ('none'), or of the loss."""
    args = (source, w, b, target, weight, prob, ignore_index, eps, reduction, chunk, num_classes, z_loss, cap)
    return _formed(*_run(*args, needs, g), needs)


@chunked_ce_backward.register_fake
def _(source, w, b, target, weight, g, prob, ignore_index, eps, reduction, chunk, num_classes, z_loss, cap, needs):
    return _like(needs, source, w, b, target, weight)


class Chunked(torch.autograd.Function):
    """The chunked loss: (source, w, b, target, weight) as in chunked_ce, then its options."""

    @staticmethod
    def forward(ctx, source, w, b, target, weight, prob, ignore_index, eps, reduction, chunk, num_classes, extras):
        needs = [bool(n) for n in ctx.needs_input_grad[:5]]
        needs[2] = needs[2] and b is not None
        needs[4] = needs[4] and weight is not None
        options = (prob, ignore_index, eps, reduction, chunk, num_classes, extras.z_loss, extras.cap or 0.0)
        loss, *formed = call(chunked_ce, source, w, b, target, weight, *options, needs)
        ctx.save_for_backward(source, w, b, target, weight, *formed)
        ctx.options, ctx.needs, ctx.extras, ctx.used = options, needs, extras, False
        return loss

    @staticmethod
    def backward(ctx, grad_out):
        source, w, b, target, weight, *formed = ctx.saved_tensors
        if ctx.used:
            formed = []  # handed over by the first backward
        prob, ignore_index, eps, reduction, chunk, num_classes, z_loss, cap = ctx.options
        if torch.is_grad_enabled():  # create_graph=True: the gradients as a graph, differentiable again
            inputs = (source, w, b, target, weight)
            return (*graph_gradients(inputs, ctx.options, ctx.extras, grad_out, ctx.needs), *([None] * 7))
        if reduction == "none" or ctx.used:  # the chunks again: per-position grad_out, or a second backward
            args = (prob, ignore_index, eps, reduction, chunk, num_classes, z_loss, cap, ctx.needs)
            formed = call(chunked_ce_backward, source, w, b, target, weight, grad_out, *args)
        elif torch.compiler.is_compiling():  # a traced graph: scaled out of place
            formed = [grad * grad_out.to(grad.dtype) for grad in formed]
        else:  # formed in forward for grad_out = 1: scaled in place, and handed over once
            ctx.used = True
            scale_in_place(formed, grad_out)
        computed = iter(formed)
        grads = [next(computed) if need else None for need in ctx.needs]
        return (*grads, *([None] * 7))


def composed(source, w, b, target, weight, options, extras):
    """The loss on materialised logits, in differentiable torch operations around the composable operators:
    z = x W^T + b (a linear head), z <- c tanh(z / c), cross-entropy, plus s lse^2 per counted position."""
    prob, ignore_index, eps, reduction, _, num_classes = options[:6]
    z = source
    if w is not None:
        z = torch.nn.functional.linear(source, w, b).reshape(source.shape[0], num_classes, -1)
    if extras.cap is not None:
        z = _ce.softcap(z, extras.cap)  # c tanh(z / c)
    dtype = source.dtype
    if prob:
        loss = prob_loss(z, target, weight, eps, reduction, dtype)
        valid = None
    else:
        loss = index_loss(z, target, weight, ignore_index, eps, reduction, dtype)
        valid = target != ignore_index
    if extras.z_loss > 0:
        acc = working_dtype(z.dtype)
        lse = torch.logsumexp(z.to(acc), 1, keepdim=True)
        terms = extras.z_loss * lse**2  # s lse^2 (kernel.ce_z_loss)
        count = terms.numel()
        if valid is not None:
            terms, count = torch.where(valid, terms, zero(terms)), valid.sum()
        loss = loss + reduce(terms, reduction, count, acc).to(dtype)
    return loss


def graph_gradients(inputs, options, extras, grad_out, needs):
    """d loss / d inputs of ``composed`` as a graph (create_graph=True): materialised logits, differentiable again."""
    with torch.enable_grad():
        loss = composed(*inputs, options, extras)
        wanted = [x for x, need in zip(inputs, needs, strict=True) if need]
        grads = iter(torch.autograd.grad(loss, wanted, grad_out, create_graph=True))
    return [next(grads) if need else None for need in needs]


def chunked_loss(source, w, b, target, weight, prob, ignore_index, eps, reduction, chunk, num_classes, extras):
    """The loss, chunked (Chunked), or composed under torch.func and forward mode."""
    if transformed(source, w, b, target, weight):
        options = (prob, ignore_index, eps, reduction, chunk, num_classes)
        return composed(source, w, b, target, weight, options, extras)
    return Chunked.apply(source, w, b, target, weight, prob, ignore_index, eps, reduction, chunk, num_classes, extras)
