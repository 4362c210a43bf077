"""How many rows of logits a chunked pass holds at a time, shared by both backends (plain ints in and out).

default         rows of about CHUNK_BYTES of logits in the working dtype (at least one)
linear heads    rows of about LINEAR_CHUNK_BYTES, at least MIN_ROWS, or LinearCrossEntropyOptions'
                batch_chunk_size, or the rows its chunking_method ('aspect_ratio[:k]') gives:
                next_pow2(ceil(N / ceil(C / H))) / k, torch's rule
class blocks    by default (no options), a linear head whose whole rows would not fit (MIN_ROWS rows over
                LINEAR_CHUNK_BYTES, or for the loss alone more than FORWARD_BYTES) is passed BLOCK_ROWS rows by
                about CLASS_BLOCK_BYTES of classes at a time (``linear_plan``; kernels/torch/_class_blocks.py)
"""

from __future__ import annotations

import math

#: The default chunk: rows whose logits fill about this many bytes of the working dtype.
CHUNK_BYTES = 8 << 20
#: A linear head's default chunk: larger than CHUNK_BYTES, since each chunk multiplies by all of W twice and
#: updates all of its gradient (python -m benchmarks.linear_tradeoff: fewer, larger chunks are faster).
LINEAR_CHUNK_BYTES = 12 << 20
#: A linear head's smallest default chunk: fewer rows read the whole classifier once more per chunk for too
#: little work.
MIN_ROWS = 32


#: The loss alone (no gradient to form): whole rows only while all of them fit in this many bytes.
FORWARD_BYTES = 2 << 20
#: Class blocks: rows per chunk, and the bytes of one block of their logits.
BLOCK_ROWS = 512
CLASS_BLOCK_BYTES = 2 << 20


def chunk_rows(rows: int, logits_per_row: int, itemsize: int, min_rows: int = 1, budget: int | None = None) -> int:
    """Rows of about ``budget`` (CHUNK_BYTES) bytes of logits, at least ``min_rows`` (and 1), at most ``rows``."""
    size = max(min_rows, (budget or CHUNK_BYTES) // max(1, logits_per_row * itemsize))
    return max(1, min(size, rows))


def linear_chunk_rows(rows: int, logits_per_row: int, in_features: int, itemsize: int, options=None) -> int:
    """Rows per chunk of linear_cross_entropy: options.batch_chunk_size, or its chunking_method's rule, or by
    default ``chunk_rows`` of LINEAR_CHUNK_BYTES with at least MIN_ROWS rows."""
    if options is not None and not hasattr(options, "batch_chunk_size"):
        raise TypeError(
            f"linear_cross_entropy(): options must be a torch.nn.LinearCrossEntropyOptions or None, not "
            f"{type(options).__name__}"
        )
    size = getattr(options, "batch_chunk_size", None)
    method = getattr(options, "chunking_method", None)
    if size is None and method not in (None, "auto"):
        _, _, factor = method.partition(":")
        wanted = math.ceil(rows / math.ceil(logits_per_row / in_features)) / int(factor or 1)
        size = 1 << max(0, math.ceil(math.log2(max(wanted, 1))))
    if size is None:
        return chunk_rows(rows, logits_per_row, itemsize, MIN_ROWS, LINEAR_CHUNK_BYTES)
    return max(1, min(int(size), rows))


def sets_chunk(options) -> bool:
    """Whether LinearCrossEntropyOptions choose the rows per chunk (batch_chunk_size or a chunking_method)."""
    method = getattr(options, "chunking_method", None)
    return getattr(options, "batch_chunk_size", None) is not None or method not in (None, "auto")


def linear_plan(
    rows: int, num_classes: int, positions: int, itemsize: int, gradient: bool, device_type: str = "cpu"
) -> tuple[int, int]:
    """(rows per chunk, classes per block) of a linear head without options: whole rows (the block is every
    class: one pass, gradients formed in it) where MIN_ROWS of them fit in LINEAR_CHUNK_BYTES (or all of them in
    FORWARD_BYTES for the loss alone), else blocks of at most BLOCK_ROWS rows by about CLASS_BLOCK_BYTES.
    Off the CPU always whole rows, as ``linear_chunk_rows``: there a block costs kernel launches, not cache
    misses, and 2 MiB blocks would be launch-bound (the Triton backend is the GPU's blocked path)."""
    per_row = max(1, num_classes * positions * itemsize)
    if device_type != "cpu":
        return chunk_rows(rows, num_classes * positions, itemsize, MIN_ROWS, LINEAR_CHUNK_BYTES), num_classes
    whole = (LINEAR_CHUNK_BYTES if gradient else FORWARD_BYTES) // per_row
    if whole >= rows or (gradient and whole >= MIN_ROWS):
        return max(1, min(whole, rows)), num_classes
    height = max(1, min(rows, BLOCK_ROWS))
    width = max(1, CLASS_BLOCK_BYTES // (height * positions * itemsize))
    if width >= num_classes:  # whole rows after all, BLOCK_ROWS of them
        return height, num_classes
    return height, width
