"""Peak extra memory of one loss call, in units of L = one logits tensor, measured exactly (+-0.01 L).

Each figure is benchmarks.memory.measure: a fresh subprocess, MALLOC_MMAP_THRESHOLD_ so that big blocks
go straight to the OS, VmHWM after one call minus VmRSS before it. The measurement first proves it can
see memory: F.cross_entropy keeps its N x C log-probabilities (1 L in forward; 2 L with label smoothing,
which torch computes as a second N x C term) and allocates two more in backward (3 L in all). Then:

    kernels.torch.cross_entropy, forward            <= 0.05 L   (one working block of 1 MiB)
    ... forward on logits that require grad         <= 0.05 L   (only per-row statistics are kept for backward)
    ... forward + backward                          <= 1.01 L   (the gradient itself)
    kernels.torch.cross_entropy_overwrite_logits    <= 0.05 L   (the gradient is the logits' storage)
    kernels.numpy.cross_entropy_with_grad           <= 1.01 L   (the gradient array it returns)

at 4096 x 4096 float32 (L = 64 MiB), plain and with weight, ignore_index and label_smoothing set.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.cases import OPTION_SETS
from benchmarks.memory import measure

SHAPE = (4096, 4096)
EXACT = 0.01  # the measurement's resolution in L (whole pages against 64 MiB)

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")


def _peak(method: str, pass_: str, options: str) -> float:
    n, c = SHAPE
    return measure({"method": method, "pass": pass_, "n": n, "c": c, "options": OPTION_SETS[options]})


@pytest.mark.parametrize(
    ("options", "forward", "forward_backward"),
    [("plain", 1.0, 3.0), ("weight+ignore+ls", 2.0, 3.0)],
)
def test_the_measurement_sees_torch_keep_its_log_probabilities(options, forward, forward_backward):
    assert _peak("torch", "forward", options) == pytest.approx(forward, abs=EXACT)
    assert _peak("torch", "forward_backward", options) == pytest.approx(forward_backward, abs=EXACT)


@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_ours_forward_keeps_no_n_by_c_tensor(options):
    assert _peak("ours", "forward", options) <= 0.05


@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_ours_forward_with_grad_keeps_only_row_statistics(options):
    assert _peak("ours", "forward_grad", options) <= 0.05


@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_ours_forward_backward_peaks_at_the_gradient(options):
    assert _peak("ours", "forward_backward", options) <= 1.0 + EXACT


@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_overwrite_logits_allocates_nothing_n_by_c(options):
    assert _peak("ours_inplace", "forward_backward", options) <= 0.05


@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_numpy_loss_and_gradient_peak_at_the_gradient(options):
    assert _peak("numpy", "forward_backward", options) <= 1.0 + EXACT
