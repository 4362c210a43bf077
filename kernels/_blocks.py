"""Blocks: the kernels evaluate slices of about 1 MiB so that repeated passes over a block hit cache.

Logits are viewed as (N, C, S): N rows, C classes, S spatial positions (S = 1 for (N, C) input), so
that a spatial input is never copied into a class-last layout. A block is a range of rows and, when
one row is larger than a block, a range of positions.
"""

from __future__ import annotations

from collections.abc import Iterator

#: Target size of one block of the working dtype, in bytes.
BLOCK_BYTES = 1 << 20


def blocks(n: int, num_classes: int, s: int, itemsize: int) -> Iterator[tuple[slice, slice]]:
    """(rows, positions) slices covering an (n, num_classes, s) array, each about BLOCK_BYTES."""
    column = max(1, num_classes * itemsize)  # bytes of one position's class vector
    width = max(1, min(s, BLOCK_BYTES // column))  # positions per block
    height = max(1, BLOCK_BYTES // (column * width)) if width == s else 1  # rows per block
    for i in range(0, n, height):
        for k in range(0, s, width):
            yield slice(i, min(i + height, n)), slice(k, min(k + width, s))
