"""nll_loss on log-probabilities x: the Triton kernels, one program per row (class-last rows).

loss = -w_t x_t                   (kernel.nll_loss; 0 where the target is ignore_index)
dL/dx_k = -g w_t [k = t]          (kernel.nll_grad_at_target: one store per row into a zeroed gradient)
"""

from __future__ import annotations

import triton
import triton.language as tl

from kernels._generated import triton_ce as _ce
from kernels.triton._index_kernels import target_of
from kernels.triton._offsets import row_start


@triton.jit
def nll_forward(x_ptr, stride, target_ptr, w_ptr, loss_ptr, ignore_index, HAS_W: tl.constexpr):
    """Row r: -w_t x_t (the target's entry gathered at an int64 offset)."""
    row = tl.program_id(0)
    safe, kept, wt = target_of(target_ptr, row, ignore_index, w_ptr, HAS_W)
    xt = tl.load(x_ptr + row_start(row, stride) + safe).to(tl.float32)
    tl.store(loss_ptr + row, tl.where(kept, _ce.nll_loss_term(xt, wt), 0.0))


@triton.jit
def nll_backward(grad_ptr, stride, target_ptr, w_ptr, g_ptr, ignore_index, HAS_W: tl.constexpr):
    """Row r: -g w_t at the target's column of the zeroed gradient (nothing where ignored)."""
    row = tl.program_id(0)
    safe, kept, wt = target_of(target_ptr, row, ignore_index, w_ptr, HAS_W)
    value = _ce.nll_grad_at_target(tl.load(g_ptr + row), wt)
    tl.store(grad_ptr + row_start(row, stride) + safe, value.to(grad_ptr.dtype.element_ty), mask=kept)
