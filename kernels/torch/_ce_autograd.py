"""The autograd of the softmax cross-entropy operators (torch backend): reverse and forward mode, first and second
order, in the form torch.func, torch.compile and torch.export understand (kernels/torch/_ops.py says why).

    IndexRows      (rows, m, d, wt) = ce_index_rows(z, t, w)      the loss of each position and its statistics
        backward   IndexGradient: ce_index_grad, the gradient recomputed from the saved m
        jvp        sum_k grad_k v_k, the gradient for g = 1 along the tangent v (kernel.ce_directional)
    IndexGradient  grad = ce_index_grad(z, ..., g)
        backward   g H v = a e (v - sum_j s_j v_j) for z (kernel.ce_hvp) and sum_k v_k grad_k(g = 1) for g
        jvp        the same two products with the tangents
    ProbRows       (rows, m, d, swy) = ce_prob_rows(z, y, w)      probability targets
        backward   ce_prob_grads (the gradients for z, y and w) when no graph is built; under create_graph or
                   torch.func, the same emitted gradients of kernels/_generated/torch_ce.py written with a
                   differentiable lse = torch.logsumexp(z), which autograd differentiates to any order
        jvp        the gradients for g = 1 along the tangents of z, y and w

m, d, wt and swy are statistics of the logits, not differentiable outputs: each gradient above is the total
derivative with respect to z, their dependence on z included. A third derivative of index targets raises.
"""

from __future__ import annotations

import torch

from kernels.torch._autograd import no_double_backward, working_dtype
from kernels.torch._ce_indices import ce_index_grad, ce_index_rows, hessian_vector
from kernels.torch._ce_probs import ce_prob_grads, ce_prob_rows, differentiable_prob_grads, prob_gradient_terms
from kernels.torch._ops import call, traced


def _unit(saved, ignore_index, eps):
    """d loss / d logits for an upstream gradient of 1 at every position (0 where ignored)."""
    logits, target, weight, m, d, wt = saved[:6]
    return call(ce_index_grad, logits, target, weight, m, d, wt, torch.ones_like(wt), ignore_index, eps)


class _IndexRowsFirstOrder(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(logits, target, weight, ignore_index, eps):
        return call(ce_index_rows, logits, target, weight, ignore_index, eps)

    @staticmethod
    def setup_context(ctx, inputs, output):
        logits, target, weight, ignore_index, eps = inputs
        _, m, d, wt = output
        ctx.mark_non_differentiable(m, d, wt)
        ctx.save_for_backward(logits, target, weight, m, d, wt)
        ctx.save_for_forward(logits, target, weight, m, d, wt)
        ctx.ignore_index, ctx.eps = ignore_index, eps

    @staticmethod
    def backward(ctx, g, *_):
        if torch.is_grad_enabled():  # create_graph=True or torch.func: the gradient, differentiable again
            grad = index_gradient(*ctx.saved_tensors, g, ctx.ignore_index, ctx.eps)
        else:
            grad = call(ce_index_grad, *ctx.saved_tensors, g, ctx.ignore_index, ctx.eps)
        return grad, None, None, None, None


class IndexRows(_IndexRowsFirstOrder):
    @staticmethod
    def jvp(ctx, tz, *_):
        acc = working_dtype(tz.dtype)
        unit = _unit(ctx.saved_tensors, ctx.ignore_index, ctx.eps)
        return (unit.to(acc) * tz.to(acc)).sum(1, keepdim=True), None, None, None  # sum_k grad_k(g = 1) v_k


class _IndexGradientFirstOrder(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(logits, target, weight, m, d, wt, g, ignore_index, eps):
        return call(ce_index_grad, logits, target, weight, m, d, wt, g, ignore_index, eps)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs[:7])
        ctx.save_for_forward(*inputs[:7])
        ctx.ignore_index, ctx.eps = inputs[7:]

    @staticmethod
    def backward(ctx, v):
        saved, ignore_index, eps = ctx.saved_tensors, ctx.ignore_index, ctx.eps
        logits, g = saved[0], saved[6]
        acc = working_dtype(logits.dtype)
        gz = gg = None
        if ctx.needs_input_grad[0]:  # g H v
            gz = hessian_vector(*saved, v, ignore_index, eps).to(logits.dtype)
        if ctx.needs_input_grad[6]:  # sum_k v_k d grad_k / d g = sum_k v_k grad_k(g = 1)
            gg = (v.to(acc) * _unit(saved, ignore_index, eps).to(acc)).sum(1, keepdim=True).to(g.dtype)
        gz, gg = no_double_backward("cross_entropy", (gz, gg), (logits, g, v), what="a third derivative")
        return gz, None, None, None, None, None, gg, None, None


class IndexGradient(_IndexGradientFirstOrder):
    @staticmethod
    def jvp(ctx, tz, tt, tw, tm, td, twt, tg, *_):
        saved, ignore_index, eps = ctx.saved_tensors, ctx.ignore_index, ctx.eps
        logits = saved[0]
        out = torch.zeros(logits.shape, dtype=working_dtype(logits.dtype), device=logits.device)
        if tz is not None:  # g H v along the logits' tangent
            out = out + hessian_vector(*saved, tz, ignore_index, eps)
        if tg is not None:  # grad(g = 1) times the upstream tangent
            out = out + _unit(saved, ignore_index, eps).to(out.dtype) * tg.to(out.dtype)
        return out.to(logits.dtype)


def index_rows(logits, target, weight, ignore_index, eps):
    """(rows, m, d, wt) of index targets, differentiable in the logits (IndexRows)."""
    return traced(IndexRows, _IndexRowsFirstOrder).apply(logits, target, weight, ignore_index, eps)


def index_gradient(logits, target, weight, m, d, wt, g, ignore_index, eps):
    """d loss / d logits for upstream ``g``, differentiable again (IndexGradient)."""
    cls = traced(IndexGradient, _IndexGradientFirstOrder)
    return cls.apply(logits, target, weight, m, d, wt, g, ignore_index, eps)


class _ProbRowsFirstOrder(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(logits, target, weight, eps):
        return call(ce_prob_rows, logits, target, weight, eps)

    @staticmethod
    def setup_context(ctx, inputs, output):
        logits, target, weight, eps = inputs
        _, m, d, swy = output
        ctx.mark_non_differentiable(m, d, swy)
        ctx.save_for_backward(logits, target, weight, m, d, swy)
        ctx.save_for_forward(logits, target, weight)
        ctx.eps = eps

    @staticmethod
    def backward(ctx, g, *_):
        logits, target, weight, m, d, swy = ctx.saved_tensors
        needs = tuple(ctx.needs_input_grad[:3])
        if torch.is_grad_enabled():  # a graph of the gradient is wanted: differentiable torch operations
            grads = differentiable_prob_grads(logits, target, weight, g, ctx.eps, needs)
        else:
            computed = iter(call(ce_prob_grads, logits, target, weight, m, d, swy, g, ctx.eps, *needs))
            grads = [next(computed) if need else None for need in needs]
        return *grads, None


class ProbRows(_ProbRowsFirstOrder):
    @staticmethod
    def jvp(ctx, tz, ty, tw, _):
        logits, target, weight = ctx.saved_tensors
        ones = torch.ones((), dtype=working_dtype(torch.promote_types(logits.dtype, target.dtype)))
        terms = prob_gradient_terms(logits, target, weight, ones.to(logits.device), ctx.eps)
        out = 0
        for term, tangent in zip(terms, (tz, ty, None if tw is None else tw[None, :, None]), strict=True):
            if tangent is not None:  # sum_k (d row / d x_k) v_k for x = z, y, w
                out = out + (term * tangent.to(term.dtype)).sum(1, keepdim=True)
        return out, None, None, None


def prob_rows(logits, target, weight, eps):
    """(rows, m, d, swy) of probability targets, differentiable in the logits, the target and the weight."""
    return traced(ProbRows, _ProbRowsFirstOrder).apply(logits, target, weight, eps)
