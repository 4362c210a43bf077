"""The targets of a chunked cross-entropy (torch backend): the loss terms of a chunk of rows of logits, and
dL/dz written over that chunk, for class indices or class probabilities, with the language-model extras.

    index targets   w_t ((m - z_t) + log d), the smoothing term; dL/dz = a e - b w, then -g (1 - eps) w_t at t
    probabilities   sum_j w_j y_j ((m - z_j) + log d); dL/dz = a e - g w y, and dL/dy, dL/dw
    z-loss          s lse^2 per counted position; its gradient raises a by 2 g_z s lse / d (kernel.ce_z_loss_grad)
    soft-capping    z <- c tanh(z / c) first (kernel.softcap); dL/dz then times 1 - (z' / c)^2 (kernel.softcap_grad)

Each chunk's terms are kept per position, (N, 1, S), and reduced once over every row by ``loss``: 'mean'
divides the cross-entropy terms by the weight of all kept positions and the z-loss terms by their number.
"""

from __future__ import annotations

import torch

from kernels._extras import OFF, Extras
from kernels._generated import torch_ce as _ce
from kernels.torch import _prob_block as block
from kernels.torch._autograd import per_position, reduce, smoothed, target_weight, weight_row, zero
from kernels.torch._ce_gradient import GradientCoefficients
from kernels.torch._ce_indices import combine, index_terms
from kernels.torch._row_pass import row_pass


def _capped(z, extras: Extras, need_factor: bool):
    """z <- c tanh(z / c) in place; the cap's derivative 1 - (z' / c)^2 when a gradient will need it."""
    if extras.cap is None:
        return None
    _ce.softcap_into(z, z, extras.cap)
    return _ce.softcap_grad(z, extras.cap) if need_factor else None


class _Terms:
    """Per-position loss terms over all rows, and the upstream scales of a pass."""

    gt = gw = None  # dL/dy, dL/dw where formed (probability targets only)

    def _start(self, shape, valid, extras, acc, device):
        self.extras, self.valid = extras, valid
        self.nll = torch.zeros(shape, dtype=acc, device=device)
        self.zl = torch.zeros(shape, dtype=acc, device=device) if extras.z_loss > 0 else None
        self.count = (valid.sum() if valid is not None else shape[0] * shape[2]) if extras.z_loss > 0 else None

    def scales(self, reduction, shape, acc, device, grad_out=None):
        """(g, g_z) per position, (N, 1, S): the reduction's factors (1 / den, 1 / count for 'mean') times grad_out."""
        if grad_out is None:
            grad_out = torch.ones(shape[::2] if reduction == "none" else (), dtype=acc, device=device)
        g = per_position(grad_out, reduction, shape, self.den, self.valid, acc)
        gz = None if self.zl is None else per_position(grad_out, reduction, shape, self.count, self.valid, acc)
        return g, gz

    def _z_loss(self, ix, m, d):
        if self.zl is not None:
            term = _ce.ce_z_loss_term(self.extras.z_loss, m, d)  # s lse^2
            self.zl[ix] = term if self.valid is None else torch.where(self.valid[ix], term, zero(term))

    def target_gradients(self):
        """(dL/dy, dL/dw) where formed, dL/dw in the class weights' dtype."""
        return self.gt, None if self.gw is None else self.gw.to(self.weight.dtype)

    def loss(self, reduction, eps, num_classes, dtype):
        """The loss: the cross-entropy terms combined as torch does, plus the z-loss reduced over its own count."""
        acc = self.nll.dtype
        out = combine(self.nll, getattr(self, "smooth", None), reduction, self.den, eps, num_classes, acc)
        if self.zl is not None:
            out = out + (self.zl if reduction == "none" else reduce(self.zl, reduction, self.count, acc))
        return out.to(dtype)


class IndexTargets(_Terms):
    """Class-index targets: (N, 1, S) safe targets, kept positions, w_t."""

    def __init__(self, safe_target, valid, weight, eps, num_classes, acc, extras=OFF):
        self.safe_target, self.weight, self.eps, self.num_classes = safe_target, weight, eps, num_classes
        self.wt = target_weight(safe_target, valid, weight, acc)  # w_t, 0 where ignored
        self.den = self.wt.sum()  # 'mean' divides by the weight of all kept rows, not per chunk
        self._start(self.wt.shape, valid, extras, acc, self.wt.device)
        self.smooth = torch.zeros_like(self.nll) if eps > 0 else None

    def chunk(self, z, r0, r1, g=None, gz=None) -> None:
        """The loss terms of rows r0..r1; with g (and g_z) per position, dL/dz written over z in the same pass
        (a e - b w, then the target's term: the accurate form, whose error the matmuls after it do not amplify)."""
        acc, ix = z.dtype, slice(r0, r1)
        factor = _capped(z, self.extras, g is not None)
        safe, wt = self.safe_target[ix], self.wt[ix]
        coef = None
        if g is not None:
            z_loss = None if gz is None else (gz[ix], self.extras.z_loss)
            coef = GradientCoefficients(g[ix], safe, wt, self.weight, self.eps, self.num_classes, acc, z_loss)
        stats = row_pass(z, safe, self.weight, self.eps, acc, overwrite=coef)
        nll, smooth = index_terms(stats, wt, self.valid[ix], self.weight, self.eps, self.num_classes)
        self.nll[ix] = nll
        if smooth is not None:
            self.smooth[ix] = smooth
        self._z_loss(ix, stats.m, stats.d)
        if factor is not None:
            z.mul_(factor)  # dL/dz = dL/dz' (1 - (z' / c)^2)


class ProbTargets(_Terms):
    """Class probabilities (N, C, S): the loss, and the gradients of logits, target and weight."""

    def __init__(self, target, weight, eps, num_classes, acc, need_target=False, need_weight=False, extras=OFF):
        self.target, self.weight, self.eps, self.num_classes = target, weight, eps, num_classes
        n, _, s = target.shape
        self.den = n * s if num_classes else float("nan")  # mean over positions (torch: nan when C = 0)
        self._start((n, 1, s), None, extras, acc, target.device)
        self.gt = torch.empty(target.shape, dtype=target.dtype, device=target.device) if need_target else None
        self.gw = torch.zeros((num_classes,), dtype=acc, device=target.device) if need_weight else None

    def chunk(self, z, r0, r1, g=None, gz=None) -> None:
        """sum_j w_j y_j (lse - z_j) at rows r0..r1; with g, the gradients (dL/dz written over z)."""
        if not self.num_classes:  # an empty sum over classes: every loss is 0
            return
        acc, ix = z.dtype, slice(r0, r1)
        factor = _capped(z, self.extras, g is not None)
        y, w_row = smoothed(self.target[ix].to(acc), self.eps, self.num_classes), weight_row(self.weight, acc)
        m = z.amax(1, keepdim=True)  # m = max_j z_j
        e = _ce.shifted_exp(z, m)  # exp(z - m)
        d = e.sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
        self.nll[ix] = _ce.ce_prob_term(z, y, w_row, m, d).sum(1, keepdim=True)  # sum w y ((m - z) + log d)
        self._z_loss(ix, m, d)
        if g is None:
            return
        gb = g[ix]
        gt = None if self.gt is None else self.gt[ix]
        block.target_and_weight_grads(z, y, w_row, m, d, gb, self.eps, gt, self.gw)  # before z is overwritten
        a = _ce.ce_prob_coef(gb, (y * w_row).sum(1, keepdim=True), d)  # g sum_j w_j y_j / d
        if gz is not None:
            a = a + _ce.ce_z_loss_coef(gz[ix], self.extras.z_loss, m, d)
        _ce.ce_prob_grad_into(z, e, y, w_row, a, gb)  # a exp(z - m) - g w y, over z
        if factor is not None:
            z.mul_(factor)
