"""linear_cross_entropy's peak memory beyond its inputs and the gradients it returns, in L = N C 4 bytes,
measured exactly as benchmarks/linear.py measures it (a fresh subprocess, VmHWM after one call minus VmRSS
before it, minus the gradients' bytes). The measurement first proves it can see memory: the reference line
F.cross_entropy(F.linear(h, W), t) keeps its logits and their log-probabilities (about 2.7 L). Then ours,
forward + backward, stays within 0.05 L at 2048 x 512 x 32000 (L = 250 MiB): one 8 MiB chunk of logits."""

from __future__ import annotations

import os

import pytest

from benchmarks.linear import OPTIONS, memory

SHAPE = (2048, 512, 32000)
EXACT = 0.01  # the measurement's resolution in L

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")


def test_the_reference_line_holds_the_logits_and_ours_one_chunk():
    reference = memory(SHAPE, OPTIONS["plain"], "reference", "forward_backward")
    assert reference >= 2.0, f"the measurement should see the reference's logits, got {reference:.3f} L"
    for name, options in OPTIONS.items():
        ours = memory(SHAPE, options, "ours", "forward_backward")
        assert ours <= 0.05 + EXACT, f"{name}: {ours:.3f} L beyond the gradients"
