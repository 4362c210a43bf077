"""What the torch backend's autograd functions share: the working dtype, the upstream gradient per position,
the reduction, the target's class weight, and the guard against a second differentiation.

    g = grad_output / den ('mean'; den = the sum of the kept targets' weights)   (``upstream``, ``per_position``)
    loss = sum of the rows ('sum'), that sum / den ('mean'), the rows ('none')    (``reduce``)

Half types (float16, bfloat16) are computed and summed in float32 (``working_dtype``).
"""

from __future__ import annotations

import torch

from kernels._generated import torch_ce as _ce


def working_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the kernels compute and sum in: float32 for half types, else the dtype itself."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


class _NoDoubleBackward(torch.autograd.Function):
    """Passes a gradient through; differentiating it once more raises instead of being wrong."""

    generate_vmap_rule = True

    @staticmethod
    def forward(what, name, instead, grad, *anchors):
        return grad.clone()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.what, ctx.name, ctx.instead = inputs[:3]

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(
            f"{ctx.what} is not supported by kernels.torch.{ctx.name} (its backward uses saved row statistics); "
            f"use {ctx.instead} for higher-order gradients"
        )


def no_double_backward(name: str, grads: tuple, anchors: tuple, what: str = "double backward", instead=None) -> tuple:
    """Guard gradients computed under create_graph=True against one more differentiation (``what`` it would be);
    the error names ``instead`` (torch.nn.functional's function of the same name by default)."""
    if not torch.is_grad_enabled():
        return grads
    instead = instead or f"torch.nn.functional.{name}"
    live = tuple(a for a in anchors if isinstance(a, torch.Tensor) and a.requires_grad)
    return tuple(None if g is None else _NoDoubleBackward.apply(what, name, instead, g, *live) for g in grads)


def scale_in_place(grads, grad_out: torch.Tensor) -> None:
    """grad *= grad_out for each gradient formed in forward (None skipped); nothing when loss.backward() passed 1,
    which is read on CPU only (elsewhere reading the value would wait for the device, so it multiplies)."""
    if grad_out.device.type == "cpu" and not bool(grad_out != 1):
        return
    for grad in grads:
        if grad is not None:
            grad.mul_(grad_out.to(grad.dtype))


def zero(like: torch.Tensor) -> torch.Tensor:
    """A 0-d zero of ``like``'s dtype and device (torch.where's cheapest second operand)."""
    return torch.zeros((), dtype=like.dtype, device=like.device)


def upstream(grad_out: torch.Tensor, reduction: str, den, acc) -> torch.Tensor:
    """dL/d(each loss term): the upstream gradient in ``acc``, divided by ``den`` for 'mean' and 'batchmean'."""
    g = grad_out.to(acc)
    return g / den if reduction in ("mean", "batchmean") else g


def per_position(grad_out, reduction: str, shape, den, valid, acc) -> torch.Tensor:
    """g of each position, (N, 1, S): the upstream gradient times the reduction's factor; 0 where ignored."""
    g = upstream(grad_out, reduction, den, acc)
    g = g.reshape(shape[0], 1, shape[2]) if reduction == "none" else g.expand(shape[0], 1, shape[2])
    return g if valid is None else torch.where(valid, g, zero(g))  # exactly 0, even when den = 0


def reduce(values: torch.Tensor, reduction: str, den, dtype) -> torch.Tensor:
    """The loss from its terms: themselves ('none'), their sum ('sum'), the sum / den ('mean', 'batchmean')."""
    if reduction == "none":
        return values.to(dtype)
    total = values.sum()
    return (total / den if reduction in ("mean", "batchmean") else total).to(dtype)


def target_weight(safe_target, valid, weight, acc):
    """w_t at each position, (N, 1, S), 0 where ignored (the mean's denominator is their sum)."""
    if weight is not None:
        wt = weight.to(acc)[safe_target]
    else:
        wt = torch.ones(safe_target.shape, dtype=acc, device=safe_target.device)
    return torch.where(valid, wt, zero(wt))


def weight_row(weight, acc):
    """w_j along the class dimension, (1, C, 1); the Python float 1.0 without weights."""
    return weight.to(acc)[None, :, None] if weight is not None else 1.0


def smoothed(y: torch.Tensor, eps: float, num_classes: int) -> torch.Tensor:
    """The smoothed target (1 - eps) y + eps / C (kernel.smoothed_target); y itself without smoothing."""
    return _ce.smoothed_target(y, eps, num_classes) if eps > 0 and num_classes else y
