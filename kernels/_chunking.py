"""How many rows of logits a chunked pass holds at a time, shared by both backends (plain ints in and out).

default         rows of about CHUNK_BYTES of logits in the working dtype (at least one)
linear heads    at least MIN_ROWS rows, or LinearCrossEntropyOptions' batch_chunk_size, or the rows its
                chunking_method ('aspect_ratio[:k]') gives: next_pow2(ceil(N / ceil(C / H))) / k, torch's rule
"""

from __future__ import annotations

import math

#: The default chunk: rows whose logits fill about this many bytes of the working dtype.
CHUNK_BYTES = 8 << 20
#: A linear head's smallest default chunk: fewer rows read the whole classifier once more per chunk for too
#: little work.
MIN_ROWS = 32


def chunk_rows(rows: int, logits_per_row: int, itemsize: int, min_rows: int = 1) -> int:
    """Rows of about CHUNK_BYTES of logits, at least ``min_rows`` (and 1), at most ``rows``."""
    size = max(min_rows, CHUNK_BYTES // max(1, logits_per_row * itemsize))
    return max(1, min(size, rows))


def linear_chunk_rows(rows: int, logits_per_row: int, in_features: int, itemsize: int, options=None) -> int:
    """Rows per chunk of linear_cross_entropy: options.batch_chunk_size, or its chunking_method's rule, or by
    default ``chunk_rows`` with at least MIN_ROWS rows."""
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
        return chunk_rows(rows, logits_per_row, itemsize, MIN_ROWS)
    return max(1, min(int(size), rows))
