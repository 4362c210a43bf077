"""The chunk loop of linear_cross_entropy (torch backend): logits of a few rows at a time, never all of them.

For rows r0..r1 of the input x (N, H) and the classifier W (C S, H), bias b:

    z = x[r0:r1] W^T + b                      one chunk of logits, (rows, C, S), in a reused buffer
    the loss terms of z, and g = dL/dz written over z        (kernels/torch/_chunk_targets.py)
    dL/dx[r0:r1] = g W,   dL/dW += g^T x[r0:r1],   dL/db += sum_rows g       (linear.input_gradient,
                                                                               linear.weight_gradient, ...)

so the weight and bias gradients are sums of per-chunk products (linear.weight_gradient_chunks) and the loss
is reduced once over all rows at the end (linear.chunked_mean). Half types multiply in float32 (float32
tiles of W, never a float32 copy of all of it): z, g, dL/dx and dL/dW are float32 until the results are
rounded once, and dL/dW accumulates in float32 across chunks.
"""

from __future__ import annotations

import torch

#: Half types: the classifier is multiplied in float32 tiles of about this many bytes.
TILE_BYTES = 4 << 20


class Linear:
    """The layer and its gradients: x (N, H), W (C S, H), b (C S) or None, and where the chunks' gradients go."""

    def __init__(self, x, w, b, num_classes, acc, need=(False, False, False)):
        self.x, self.w, self.b, self.num_classes, self.acc = x, w, b, num_classes, acc
        self.rows, self.positions = x.shape[0], w.shape[0] // num_classes if num_classes else 1
        n, h = x.shape
        new = torch.empty if w.shape[0] else torch.zeros  # no classes (an empty vocabulary shard): dL/dx = 0
        self.gx = new((n, h), dtype=acc, device=x.device) if need[0] else None  # rounded once, at the end
        self.gw = torch.zeros(w.shape, dtype=acc, device=w.device) if need[1] else None
        self.gb = torch.zeros(w.shape[:1], dtype=acc, device=w.device) if need[2] and b is not None else None
        self._buffer = self._flat = self._chunk = None

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
                if self.b is None:
                    torch.mm(x, w.t(), out=out[:, v0:v1])
                else:
                    torch.addmm(self.b[v0:v1].to(self.acc), x, w.t(), out=out[:, v0:v1])
        return out.view(rows, self.num_classes, self.positions)

    def _tiles(self):
        """(v0, v1, W[v0:v1] in float32) for tiles of about TILE_BYTES: half types multiply in float32 without a
        float32 copy of the whole classifier."""
        step = max(1, TILE_BYTES // (self.w.shape[1] * 4))
        for v0 in range(0, self.w.shape[0], step):
            v1 = min(self.w.shape[0], v0 + step)
            yield v0, v1, self.w[v0:v1].to(self.acc)

    def block(self, r0, r1, c0, c1) -> torch.Tensor:
        """z = x[r0:r1] W_b^T + b_b of the classes c0..c1 as (rows, c1 - c0, S) in the working dtype, in one
        buffer reused by every block (the first block of a chunk is the largest)."""
        s, acc = self.positions, self.acc
        rows, width = r1 - r0, (c1 - c0) * s
        if self._flat is None or self._flat.numel() < rows * width:
            self._flat = torch.empty(rows * width, dtype=acc, device=self.x.device)
        out = self._flat[: rows * width].view(rows, width)
        x, w = self._rows(r0, r1), self.w[c0 * s : c1 * s].to(acc)  # half types: float32 copies of a block
        if self.b is None:
            torch.mm(x, w.t(), out=out)
        else:
            torch.addmm(self.b[c0 * s : c1 * s].to(acc), x, w.t(), out=out)
        return out.view(rows, c1 - c0, s)

    def _rows(self, r0, r1) -> torch.Tensor:
        """x[r0:r1] in the working dtype: for half types one float32 copy per chunk, kept for its blocks."""
        if self.x.dtype == self.acc:
            return self.x[r0:r1]
        if self._chunk is None or self._chunk[0] != (r0, r1):
            self._chunk = ((r0, r1), self.x[r0:r1].to(self.acc))
        return self._chunk[1]

    def accumulate_block(self, g: torch.Tensor, r0, r1, c0, c1) -> None:
        """dL/dx[r0:r1] += g W_b,  dL/dW_b += g^T x[r0:r1],  dL/db_b += sum over the rows of g, for the
        gradient g of the block of classes c0..c1 (dL/dx starts from 0 at each chunk's first block)."""
        s, acc = self.positions, self.acc
        g = g.reshape(r1 - r0, -1)
        x = self._rows(r0, r1)
        if self.gx is not None:
            w = self.w[c0 * s : c1 * s].to(acc)
            if c0 == 0:
                torch.mm(g, w, out=self.gx[r0:r1])
            else:
                self.gx[r0:r1].addmm_(g, w)
        if self.gw is not None:
            self.gw[c0 * s : c1 * s].addmm_(g.t(), x)  # float32 across chunks for half types
        if self.gb is not None:
            self.gb[c0 * s : c1 * s] += g.sum(0)

    def release(self) -> None:
        """Drop the chunk buffer (backward of 'none' allocates its own)."""
        self._buffer = self._flat = self._chunk = None

    def accumulate(self, g: torch.Tensor, r0, r1) -> None:
        """dL/dx[r0:r1] = g W,  dL/dW += g^T x[r0:r1],  dL/db += sum over the chunk's rows of g."""
        g = g.reshape(r1 - r0, -1)
        x = self.x[r0:r1]
        if self.x.dtype != self.acc:  # half types: dL/dx summed in float32 over float32 tiles, rounded once
            x = x.to(self.acc)
            if self.gx is not None:
                gx = self.gx[r0:r1].zero_()
                for v0, v1, w in self._tiles():
                    gx.addmm_(g[:, v0:v1], w)
        elif self.gx is not None:
            torch.mm(g, self.w, out=self.gx[r0:r1])
        if self.gw is not None:
            self.gw.addmm_(g.t(), x)  # float32 across chunks for half types
        if self.gb is not None:
            self.gb += g.sum(0)

    def gradients(self):
        """(dL/dx, dL/dW, dL/db) in the parameters' dtypes (rounded once, from the working dtype)."""
        out = [
            grad if grad is None or grad.dtype == like.dtype else grad.to(like.dtype)
            for grad, like in ((self.gx, self.x), (self.gw, self.w), (self.gb, self.b))
        ]
        self.gx = self.gw = self.gb = None
        return out


def run(layer, targets, chunk: int, scales=None) -> None:
    """Every chunk: its logits from ``layer``, the loss terms, and with ``scales`` = (g, g_z) per position the
    gradient, handed to ``layer.accumulate`` (forward for 'mean' and 'sum', backward again for 'none')."""
    n = layer.rows
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        z = layer.logits(r0, r1)
        targets.chunk(z, r0, r1, *(scales or ()))
        if scales is not None:
            layer.accumulate(z, r0, r1)
