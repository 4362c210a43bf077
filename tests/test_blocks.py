"""Blocks: every element of an (N, C, S) array is in exactly one block, blocks keep to their size, and a
GPU's blocks stay under the forward's working-memory goal (0.05 L)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels._blocks import BLOCK_BYTES, DEVICE_BLOCKS, block_bytes, blocks

SHAPES = [(1, 1, 1), (7, 5, 1), (300, 1000, 1), (4, 3, 50), (3, 300_000, 2), (2, 10, 100_000), (0, 4, 1)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("size", [64, 4096, BLOCK_BYTES])
def test_blocks_cover_every_element_once(shape, size):
    n, c, s = shape
    count = np.zeros(shape, dtype=np.int64)
    for ix in blocks(n, c, s, 4, size):
        count[ix] += 1
        block = count[ix]
        # a block is at most `size` bytes, unless one position's class vector alone is larger
        assert block.size * 4 <= max(size, c * 4), (ix, block.shape)
        if isinstance(ix, tuple):  # inside one row: that row, every class, a range of positions
            assert block.shape[:2] == (1, c)
        else:  # whole rows
            assert block.shape[1:] == (c, s)
    assert (count == 1).all()


def test_block_bytes_cpu_is_cache_sized_and_a_gpu_block_is_under_the_working_memory_goal():
    assert block_bytes("cpu", 10**9) == BLOCK_BYTES
    assert block_bytes("cuda", 1000) == BLOCK_BYTES  # small logits: never below the CPU size
    logits = 4096 * 32000 * 4
    size = block_bytes("cuda", logits)
    assert size == logits // DEVICE_BLOCKS and size / logits <= 0.05
