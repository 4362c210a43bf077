"""The index-target gradient of softmax cross-entropy, block by block (torch backend).

    d loss / dz_k = a exp(z_k - m) - b w_k - g (1 - eps) w_t [k = t]          (kernel.ce_smoothed_grad)
    a = g ((1 - eps) w_t + eps sw / C) / d,   b = g eps / C,   sw = sum_j w_j

The dense part is written into each block by one of three paths, chosen once per call by ``recompute``:

    folded      2^(c z + s) - b w, s = log2 a - c m: one fused multiply-add     (kernel.ce_folded_grad)
    scaled      2^((z - m) / ln 2 + log2 a) - b w, for every a in [0, 1]       (kernel.ce_scaled_grad)
    multiplied  a e - b w with e = exp(z - m), for any a                       (kernel.ce_smoothed_grad)

then -g (1 - eps) w_t is added at the target index (``scatter_add_``, no one-hot). Where every a lies in
[0, 1] (loss.backward() through a mean or a sum: a = g w_t / d <= 1) the coefficient moves into the
exponent, which stays <= 0, and the multiply pass goes; an a of 0 (an ignored position) gives 2^-inf = 0
exactly. Folded is the scaled path with m and log2 a joined in one row shift, where float32 allows
(kernels/torch/_fold.py).
"""

from __future__ import annotations

import torch

from kernels._blocks import block_bytes, blocks, views
from kernels._generated import torch_ce as _ce
from kernels.torch import _fold


class GradientCoefficients:
    """Per-position coefficients of the index-target gradient, all (N, 1, S), for upstream scales g."""

    def __init__(self, g, safe_target, wt, weight, eps, num_classes, acc, z_loss=None, sw=None, owned=None):
        """``sw`` (sum_j w_j over every class) and ``owned`` (where this block of classes holds the target) are
        given for a shard of the classes (kernels/torch/_vocab_logits.py); by default the classes are all here."""
        self.g, self.safe_target, self.wt, self.eps, self.num_classes = g, safe_target, wt, eps, num_classes
        self.z_loss = z_loss  # (g_z per position, s): the z-loss's upstream scale and weight, or None
        if sw is None:
            sw = weight.to(acc).sum() if weight is not None else float(num_classes)  # sum_j w_j
        self.sw = sw
        ones = torch.ones((), dtype=acc, device=g.device)  # w_j = 1: a tensor, as addcmul_ takes
        self.w_row = weight.to(acc)[None, :, None] if weight is not None else ones  # w_j along the classes
        self.b = _ce.ce_grad_smooth_coef(g, eps, num_classes) if eps > 0 else None  # g eps / C
        self.at_target = _ce.ce_grad_at_target(g, wt, eps)  # -g (1 - eps) w_t
        if owned is not None:  # only the shard that holds the target adds it
            self.at_target = torch.where(owned, self.at_target, torch.zeros((), dtype=acc, device=g.device))

    def row_coefficient(self, d, ix=slice(None), m=None):
        """a = g ((1 - eps) w_t + eps sw / C) / d, the coefficient of exp(z - m); with the z-loss, plus
        2 g_z s (m + log d) / d (kernel.ce_z_loss_grad, ce.z_loss_coefficient)."""
        a = _ce.ce_grad_coef(self.g[ix], self.wt[ix], self.sw, self.eps, self.num_classes, d)
        if self.z_loss is not None:
            gz, zs = self.z_loss
            a = a + _ce.ce_z_loss_coef(gz[ix], zs, m, d)
        return a

    def target_views(self, block_list):
        """Per block: its views (safe_target, at_target, b) of the per-position coefficients."""
        return [block[1:] for block in views(block_list, self.safe_target, self.at_target, self.b)]

    def _at_target(self, out, targets):
        safe_target, at_target, _ = targets
        out.scatter_add_(1, safe_target, at_target)  # -g (1 - eps) w_t at k = t only

    def write(self, out, e, a, targets):
        """out = a e - b w (+ at the target): the gradient of a block whose e = exp(z - m) is given."""
        b = targets[2]
        if b is not None:
            _ce.ce_grad_dense_smooth_into(out, e, self.w_row, a, b)
        else:
            _ce.ce_grad_dense_into(out, e, a)
        self._at_target(out, targets)

    def write_multiplied(self, out, z, m, a, targets):
        """The multiplied path: e = exp(z - m) into out, then out = a e - b w (+ at the target)."""
        self.write(out, _ce.shifted_exp_into(out, z, m), a, targets)

    def write_scaled(self, out, z, m, la, targets):
        """The scaled path: out = 2^((z - m) / ln 2 + log2 a) - b w (+ at the target)."""
        b = targets[2]
        if b is not None:
            _ce.ce_grad_scaled_smooth_into(out, z, m, self.w_row, la, b)
        else:
            _ce.ce_grad_scaled_into(out, z, m, la)
        self._at_target(out, targets)

    def write_folded(self, out, z, shift, targets):
        """The folded path: out = 2^(c z + s) - b w (+ at the target), s = log2 a - c m."""
        b = targets[2]
        if b is not None:
            _ce.ce_grad_folded_smooth_into(out, z, _fold.C32, self.w_row, shift, b)
        else:
            _ce.ce_grad_folded_into(out, z, _fold.C32, shift)
        self._at_target(out, targets)


def _path(logits, m, a, coef: GradientCoefficients, acc):
    """(writer, per-position operands) of the path this call takes: folded, scaled or multiplied."""
    la = _ce.log2_coef(a)  # log2 a: <= 0 for a in [0, 1], nan for a < 0 or a nan, -inf for a = 0
    if not bool((la <= 0).all()):
        return coef.write_multiplied, (m, a)
    shift = _fold.grad_shift(m, la) if _fold.folding(logits, acc) else None
    if shift is not None:
        return coef.write_folded, (shift,)
    return coef.write_scaled, (m, la)


def recompute(logits, m, a, coef: GradientCoefficients, acc, out=None) -> torch.Tensor:
    """The gradient block by block, exp(z - m) recomputed from the saved m straight into the gradient's blocks
    (``out``, which may be the logits themselves: every path reads a block before it writes it)."""
    logits = logits.detach()  # block views without autograd's view tracking
    n, num_classes, s = logits.shape
    grad = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device) if out is None else out
    writer, operands = _path(logits, m, a, coef, acc)  # only the operands the path reads are split into blocks
    cast = grad.dtype != acc
    # float32 and float64 work in the gradient's own blocks, with no working buffer: blocks twice as large
    # halve the calls (measured 5 % faster at 8192 x 1000); half types keep 1 MiB float32 working blocks
    size = block_bytes(logits.device.type, logits.numel() * logits.element_size()) * (1 if cast else 2)
    block_list = list(blocks(n, num_classes, s, torch.finfo(acc).bits // 8, size))
    targets = coef.target_views(block_list)
    # last block first: forward read it last, so it is the likeliest to be still in cache
    block_views = list(zip(views(block_list, logits, grad, *operands), targets, strict=True))
    for (_, z, out, *row_operands), block_targets in reversed(block_views):
        if cast:  # half types: the float32 copy of the block is the working block
            block, z = out, z.to(acc)
            out = z
        writer(out, z, *row_operands, block_targets)
        if cast:
            block.copy_(out)
    return grad
