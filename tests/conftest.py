"""Shared test configuration: hypothesis profiles for the property tests (tests/test_fuzz.py), and
TRITON_INTERPRET=1 where there is no CUDA device (kernels.triton's interpreter tests).

hypothesis comes with the test extras; where it is missing (a GPU machine running only the CUDA tests,
scripts/device_check.sh) the rest of the suite still runs and test_fuzz.py skips itself.
"""

import os

import pytest
import torch

if not torch.cuda.is_available():
    # Triton's interpreter for kernels.triton's tests on CPU tensors (tests/test_triton*.py): Triton reads this
    # when it decorates a kernel, its own library included, so it is set before anything imports triton
    # (torch._dynamo does). A GPU machine leaves it unset: tests/test_triton_cuda.py compiles for the device.
    os.environ.setdefault("TRITON_INTERPRET", "1")

from _served import browser, site  # noqa: F401  (the built site and a browser over it, for the site tests)

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # no property tests here; test_fuzz.py skips
    settings = None

_FUZZ = (
    None
    if settings is None
    else {
        "deadline": None,  # first calls pay for torch's lazy initialisation; timing is not what is tested
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
        "print_blob": True,  # a failure prints the @reproduce_failure blob
    }
)
if settings is not None:
    # "ci" (default): 250 examples per fuzz test, 1,000 over the four, derandomized so every run is the same.
    settings.register_profile("ci", max_examples=250, derandomize=True, **_FUZZ)
    # "slow": 2,500 per fuzz test, 10,000 in all, fresh random inputs; select with --hypothesis-profile=slow.
    settings.register_profile("slow", max_examples=2500, **_FUZZ)
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption(
        "--update-generated",
        action="store_true",
        default=False,
        help="accept a changed emission: rewrite kernels/_generated/ instead of failing the drift test",
    )


def pytest_collection_modifyitems(config, items):
    """Under the slow hypothesis profile the fuzz tests carry the `slow` marker (so -m 'not slow' skips them)."""
    if settings is not None and settings.get_current_profile_name() == "slow":
        for item in items:
            if item.path.name == "test_fuzz.py":
                item.add_marker(pytest.mark.slow)
