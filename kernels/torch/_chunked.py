"""The logits as the source of the chunked cross-entropy (cross_entropy with z-loss or soft-capping; torch).

The logits are read a chunk of rows at a time into a working buffer, capped there, and passed with the
extras (kernels/torch/_chunk_targets.py); the input is never modified. For 'mean' and 'sum' the gradient is
formed in forward into its own buffer (1 L, as cross_entropy's). The operators and the autograd are
kernels/torch/_chunked_op.py, shared with linear_cross_entropy, whose source is a linear layer instead.
"""

from __future__ import annotations

import torch


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

    def gradients(self):
        """(dL/dz, None, None): the logits' gradient, in the place of a linear layer's three."""
        grad, self.grad = self.grad, None
        return grad, None, None
