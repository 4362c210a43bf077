"""The chunk loop of linear_cross_entropy (torch backend): logits of a few rows at a time, never all of them.

For rows r0..r1 of the input x (N, H) and the classifier W (C S, H), bias b:

    z = x[r0:r1] W^T + b                      one chunk of logits, (rows, C, S), in a reused buffer
    the loss terms of z, and g = dL/dz written over z        (kernel.ce_* through row_pass / the prob kernels)
    dL/dx[r0:r1] = g W,   dL/dW += g^T x[r0:r1],   dL/db += sum_rows g       (linear.input_gradient,
                                                                               linear.weight_gradient, ...)

so the weight and bias gradients are sums of per-chunk products (linear.weight_gradient_chunks) and the loss
is reduced once over all rows at the end (linear.chunked_mean). Half types multiply in float32 (float32
tiles of W, never a float32 copy of all of it): z, g, dL/dx and dL/dW are float32 until the results are
rounded once, and dL/dW accumulates in float32 across chunks.
"""

from __future__ import annotations

import torch

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import per_position, smoothed, target_weight, weight_row
from kernels.torch._ce_gradient import GradientCoefficients
from kernels.torch._ce_indices import index_terms
from kernels.torch._row_pass import row_pass

#: Half types: the classifier is multiplied in float32 tiles of about this many bytes.
TILE_BYTES = 4 << 20


class Linear:
    """The layer and its gradients: x (N, H), W (C S, H), b (C S) or None, and where the chunks' gradients go."""

    def __init__(self, x, w, b, num_classes, acc, need=(False, False, False)):
        self.x, self.w, self.b, self.num_classes, self.acc = x, w, b, num_classes, acc
        self.positions = w.shape[0] // num_classes
        n, h = x.shape
        self.gx = torch.empty((n, h), dtype=acc, device=x.device) if need[0] else None  # rounded once, at the end
        self.gw = torch.zeros(w.shape, dtype=acc, device=w.device) if need[1] else None
        self.gb = torch.zeros(w.shape[:1], dtype=acc, device=w.device) if need[2] and b is not None else None
        self._buffer = None

    def logits(self, r0, r1) -> torch.Tensor:
        """z = x[r0:r1] W^T + b as (rows, C, S) in the working dtype, in one buffer reused by every chunk."""
        rows = r1 - r0
        if self._buffer is None:  # the first chunk is the largest
            self._buffer = torch.empty((rows, self.w.shape[0]), dtype=self.acc, device=self.x.device)
        out = self._buffer[:rows]
        x = self.x[r0:r1]
        if self.x.dtype == self.acc:
            if self.b is None:
                torch.mm(x, self.w.t(), out=out)
            else:
                torch.addmm(self.b, x, self.w.t(), out=out)
        else:  # half types: float32 products of float32 tiles of W, rounded never (more accurate than torch's)
            x = x.to(self.acc)
            for v0, v1, w in self._tiles():
                torch.mm(x, w.t(), out=out[:, v0:v1]) if self.b is None else torch.addmm(
                    self.b[v0:v1].to(self.acc), x, w.t(), out=out[:, v0:v1]
                )
        return out.view(rows, self.num_classes, self.positions)

    def _tiles(self):
        """(v0, v1, W[v0:v1] in float32) for tiles of about TILE_BYTES: half types multiply in float32 without a
        float32 copy of the whole classifier."""
        step = max(1, TILE_BYTES // (self.w.shape[1] * 4))
        for v0 in range(0, self.w.shape[0], step):
            v1 = min(self.w.shape[0], v0 + step)
            yield v0, v1, self.w[v0:v1].to(self.acc)

    def release(self) -> None:
        """Drop the chunk buffer (backward of 'none' allocates its own)."""
        self._buffer = None

    def accumulate(self, g: torch.Tensor, r0, r1) -> None:
        """dL/dx[r0:r1] = g W,  dL/dW += g^T x[r0:r1],  dL/db += sum over the chunk's rows of g."""
        g = g.reshape(r1 - r0, -1)
        x = self.x[r0:r1]
        if self.x.dtype != self.acc:  # half types: dL/dx summed in float32 over float32 tiles, rounded once
            x = x.to(self.acc)
            gx = torch.zeros((r1 - r0, x.shape[1]), dtype=self.acc, device=x.device) if self.gx is not None else None
            for v0, v1, w in self._tiles() if gx is not None else ():
                gx.addmm_(g[:, v0:v1], w)
            if gx is not None:
                self.gx[r0:r1] = gx
        elif self.gx is not None:
            torch.mm(g, self.w, out=self.gx[r0:r1])
        if self.gw is not None:
            self.gw.addmm_(g.t(), x)  # float32 across chunks for half types
        if self.gb is not None:
            self.gb += g.sum(0)

    def gradients(self, scale=None):
        """(dL/dx, dL/dW, dL/db) in the parameters' dtypes, each multiplied by ``scale`` (in place) when given."""
        out = []
        for grad, like in ((self.gx, self.x), (self.gw, self.w), (self.gb, self.b)):
            if grad is not None:
                if scale is not None:
                    grad.mul_(scale.to(grad.dtype))
                grad = grad if grad.dtype == like.dtype else grad.to(like.dtype)
            out.append(grad)
        self.gx = self.gw = self.gb = None
        return out


class IndexTargets:
    """Class-index targets: (N, 1, S) safe targets, kept positions, w_t; the loss terms of every chunk."""

    def __init__(self, safe_target, valid, weight, eps, num_classes, acc):
        self.safe_target, self.valid, self.weight, self.eps, self.num_classes = (
            safe_target,
            valid,
            weight,
            eps,
            num_classes,
        )
        self.wt = target_weight(safe_target, valid, weight, acc)  # w_t, 0 where ignored
        self.den = self.wt.sum()  # 'mean' divides by the weight of all kept rows, not per chunk
        self.nll = torch.empty(self.wt.shape, dtype=acc, device=self.wt.device)
        self.smooth = torch.empty_like(self.nll) if eps > 0 else None

    def chunk(self, z, r0, r1, g=None) -> None:
        """The loss terms of rows r0..r1; with g (N, 1, S) upstream scales, dL/dz written over z in the same pass
        (a e - b w, then the target's term: the accurate form, whose error the matmuls after it do not amplify)."""
        acc, ix = z.dtype, slice(r0, r1)
        safe, wt = self.safe_target[ix], self.wt[ix]
        coef = (
            None if g is None else GradientCoefficients(g[ix], safe, wt, self.weight, self.eps, self.num_classes, acc)
        )
        stats = row_pass(z, safe, self.weight, self.eps, acc, overwrite=coef)
        nll, smooth = index_terms(stats, wt, self.valid[ix], self.weight, self.eps, self.num_classes)
        self.nll[ix] = nll
        if smooth is not None:
            self.smooth[ix] = smooth

    def gradient(self, z, r0, r1, g) -> None:
        """Backward of reduction='none': the chunk's pass again, with the per-position g."""
        self.chunk(z, r0, r1, g)


class ProbTargets:
    """Class probabilities (N, C, S): the loss of every chunk, and the gradients of logits, target and weight."""

    def __init__(self, target, weight, eps, num_classes, acc, need_target=False, need_weight=False):
        self.target, self.weight, self.eps, self.num_classes = target, weight, eps, num_classes
        n, _, s = target.shape
        self.den = n * s if num_classes else float("nan")  # mean over positions (torch: nan when C = 0)
        self.nll = torch.zeros((n, 1, s), dtype=acc, device=target.device)
        self.smooth = None
        self.gt = torch.empty(target.shape, dtype=target.dtype, device=target.device) if need_target else None
        self.gw = torch.zeros((num_classes,), dtype=acc, device=target.device) if need_weight else None

    def chunk(self, z, r0, r1, g=None) -> None:
        """sum_j w_j y_j (lse - z_j) at rows r0..r1; with g, the gradients (dL/dz written over z)."""
        if not self.num_classes:  # an empty sum over classes: every loss is 0
            return
        acc, ix = z.dtype, slice(r0, r1)
        y, w_row = smoothed(self.target[ix].to(acc), self.eps, self.num_classes), weight_row(self.weight, acc)
        m = z.amax(1, keepdim=True)  # m = max_j z_j
        e = _ce.shifted_exp(z, m)  # exp(z - m)
        d = e.sum(1, keepdim=True)  # d = sum_j exp(z_j - m)
        self.nll[ix] = _ce.ce_prob_term(z, y, w_row, m, d).sum(1, keepdim=True)  # sum w y ((m - z) + log d)
        if g is None:
            return
        gb = g[ix]
        if self.gt is not None:  # g (1 - eps) w (lse - z), before z is overwritten
            self.gt[ix] = _ce.ce_prob_target_grad(z, w_row, m, d, self.eps, gb)
        if self.gw is not None:  # g y (lse - z), summed over rows and positions
            self.gw += _ce.ce_prob_weight_grad(z, y, m, d, gb).sum((0, 2))
        swy = (y * w_row).sum(1, keepdim=True)  # sum_j w_j y_j
        _ce.ce_prob_grad_into(z, e, y, w_row, _ce.ce_prob_coef(gb, swy, d), gb)  # a exp(z - m) - g w y, over z

    def gradient(self, z, r0, r1, g) -> None:
        """Backward of reduction='none': the chunk again, with the per-position g."""
        self.chunk(z, r0, r1, g)


def run(layer: Linear, targets, chunk: int, g=None) -> None:
    """Forward over every chunk: the loss terms, and with g the gradients (formed in forward)."""
    n = layer.x.shape[0]
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        z = layer.logits(r0, r1)
        targets.chunk(z, r0, r1, g)
        if g is not None:
            layer.accumulate(z, r0, r1)


def backward(layer: Linear, targets, chunk: int, g) -> None:
    """Backward of reduction='none': each chunk's logits again, their gradient for g, the matmuls."""
    n = layer.x.shape[0]
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        z = layer.logits(r0, r1)
        targets.gradient(z, r0, r1, g)
        layer.accumulate(z, r0, r1)


def scales(reduction, shape, den, valid, acc, device, grad_out=None):
    """g of every position, (N, 1, S): the reduction's factor (1 / den for 'mean') times grad_out, 0 where ignored."""
    if grad_out is None:
        grad_out = torch.ones(shape[::2] if reduction == "none" else (), dtype=acc, device=device)
    return per_position(grad_out, reduction, shape, den, valid, acc)
