"""linear_cross_entropy's peak memory beyond its inputs and the gradients it returns, in L = N C 4 bytes,
measured exactly as benchmarks/linear.py measures it (a fresh subprocess, VmHWM after one call minus VmRSS
before it, minus the gradients' bytes). The measurement first proves it can see memory: the reference line
F.cross_entropy(F.linear(h, W), t) keeps its logits and their log-probabilities (about 2.7 L). Then ours
stays within the goals: forward + backward 0.05 L, forward alone 0.02 L, at 2048 x 512 x 32000 (whole rows,
one 12 MiB chunk of logits; the loss alone in 2 MiB blocks of classes) and at 512 x 1024 x 128256 (32 whole
rows would be 16 MiB: 2 MiB blocks of classes), L = 250 MiB at both."""

from __future__ import annotations

import os

import pytest

from benchmarks.linear import OPTIONS, memory

SHAPES = ((2048, 512, 32000), (512, 1024, 128256))
GOALS = {"forward_backward": 0.05, "forward": 0.02}

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")


def test_the_reference_line_holds_the_logits():
    reference = memory(SHAPES[0], OPTIONS["plain"], "reference", "forward_backward")
    assert reference >= 2.0, f"the measurement should see the reference's logits, got {reference:.3f} L"


@pytest.mark.parametrize("shape", SHAPES, ids=["x".join(map(str, s)) for s in SHAPES])
@pytest.mark.parametrize("name", list(OPTIONS))
def test_ours_stays_within_the_goals(shape, name):
    for pass_, goal in GOALS.items():
        ours = memory(shape, OPTIONS[name], "ours", pass_)
        assert ours <= goal, f"{name}, {pass_}: {ours:.3f} L beyond the gradients (goal {goal} L)"
