"""Blocks: the kernels evaluate slices of about 1 MiB so that repeated passes over a block hit cache.

Measured here (1 thread, 8192 x 1000 float32): 1 MiB blocks cost ~5 % more time than 2-4 MiB ones
and ~10 % less than 256 KiB ones (per-call overhead of torch and NumPy operations); a working
block of 1 MiB is also what the forward pass allocates (0.03 L at 2048 x 4096, ~0 at LM shapes).

Logits are viewed as (N, C, S): N rows, C classes, S spatial positions (S = 1 for (N, C) input), so
that a spatial input is never copied into a class-last layout. A block is a range of rows or, when
one row is larger than a block, a range of positions of one row.
"""

from __future__ import annotations

from collections.abc import Iterator

#: A block index: a slice of rows, or (one row, all classes, a slice of positions).
Block = slice | tuple[slice, slice, slice]

#: Target size of one block of the working dtype, in bytes.
BLOCK_BYTES = 1 << 20

#: On a GPU a block costs kernel launches, not cache misses: blocks are then 1/24 of the logits (the
#: working block stays under the forward's 0.05 L working-memory goal), and never under BLOCK_BYTES.
DEVICE_BLOCKS = 24


def block_bytes(device_type: str, logits_bytes: int) -> int:
    """The block size for logits of ``logits_bytes`` bytes on a device: BLOCK_BYTES on the CPU (cache-sized)."""
    return BLOCK_BYTES if device_type == "cpu" else max(BLOCK_BYTES, logits_bytes // DEVICE_BLOCKS)


def blocks(n: int, num_classes: int, s: int, itemsize: int, size: int | None = None) -> Iterator[Block]:
    """Indices of blocks covering an (n, num_classes, s) array, each about ``size`` (BLOCK_BYTES) bytes.

    A block of whole rows is the row slice alone (``x[rows]``, the cheapest view to take); a block
    inside one row is ``(row, :, positions)``.
    """
    size = BLOCK_BYTES if size is None else size
    column = max(1, num_classes * itemsize)  # bytes of one position's class vector
    width = max(1, min(s, size // column))  # positions per block
    if width == s:
        height = max(1, size // (column * width))  # rows per block
        for i in range(0, n, height):
            yield slice(i, min(i + height, n))
        return
    for i in range(n):
        for k in range(0, s, width):
            yield slice(i, i + 1), slice(None), slice(k, min(k + width, s))


def views(index: list[Block], *tensors):
    """Per block of ``index``: (block, each torch tensor's view of it), None staying None. Row blocks come from
    one ``split_with_sizes`` per tensor, which makes every view in one call instead of one indexing call per block."""
    if not index:  # nothing to cover (a dimension of size 0)
        return []
    rows = all(isinstance(ix, slice) for ix in index)
    sizes = [ix.stop - ix.start for ix in index] if rows else []
    columns = []
    for t in tensors:
        if t is None:
            columns.append([None] * len(index))
        else:
            columns.append(t.split_with_sizes(sizes) if rows else [t[ix] for ix in index])
    return list(zip(index, *columns, strict=True))
