"""Offsets into the logits, in int64: where a row starts, and the tile of columns a program reads.

    row_start(r, stride) = int64(r) * stride

``tl.program_id`` and a stride that fits in 32 bits are int32, and their product wraps at 2^31: at N = 16384
rows of V = 131072 logits the last row starts at 2^31 - 2^17 elements, and a 32-bit product of one more row
would wrap (Liger-Kernel casts for the same reason, triton#1058). The row index is cast first, so every
address computed from it (the row's start plus a column, the target's column) is int64.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def row_start(row, stride):
    """The offset of row ``row``'s first element, int64(row) * stride (never a 32-bit product)."""
    return row.to(tl.int64) * stride
