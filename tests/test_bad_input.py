"""Bad input: ours raises the exception type torch raises, with a message that names the problem and the fix.

Cases come from tests/_bad_inputs.py (semantics reference section 4 and the API contract). For each:
torch raises the documented type; kernels.torch and kernels.numpy raise that same type; the message
contains the case's key words (the fix: "argmax", "squeeze", ".long()", the valid range, the ignore_index).
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from _bad_inputs import battery, outcome

import kernels.numpy as kn
import kernels.torch as kt

CASES = battery()
IDS = [re.sub(r"[^\w.=+-]+", "-", c.name).strip("-") for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_raises_the_documented_type(case):
    exc = outcome(case, F)
    assert type(exc) is case.raises, f"{case.name}: torch raised {exc!r}, the reference says {case.raises.__name__}"


@pytest.mark.parametrize("backend", ["torch", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ours_raises_torch_type_and_names_the_fix(case, backend):
    if backend == "numpy" and case.ctor is not None:
        pytest.skip("kernels.numpy has no module classes")
    theirs = outcome(case, F)
    assert theirs is not None, f"{case.name}: torch accepts this input"
    ours = outcome(case, kt if backend == "torch" else kn)
    assert ours is not None, f"{case.name}: no error from kernels.{backend} (torch: {theirs!r})"
    assert isinstance(ours, type(theirs)), f"{case.name}: {type(ours).__name__}: {ours} (torch: {theirs!r})"
    message = str(ours)
    for words in case.says:
        options = words if isinstance(words, tuple) else (words,)
        assert any(w in message for w in options), f"{case.name}: message lacks {' or '.join(options)!r}: {message}"


def test_battery_covers_every_exception_type_torch_uses():
    assert {c.raises for c in CASES} == {RuntimeError, IndexError, ValueError, TypeError, NotImplementedError}
    assert len(IDS) == len(set(IDS)), "case names must be unique (they label the docs table)"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("spatial", [False, True], ids=["2d", "spatial"])
def test_cuda_out_of_range_target_is_an_index_error_not_a_device_assert(spatial, reduction):
    x = torch.randn(4, 5, 3, device="cuda") if spatial else torch.randn(4, 5, device="cuda")
    t = torch.zeros(x.shape[:1] + x.shape[2:], dtype=torch.long, device="cuda")
    t.view(-1)[1] = 5
    with pytest.raises(IndexError, match=r"\[0, 4\]"):
        kt.cross_entropy(x, t, reduction=reduction)
    torch.cuda.synchronize()  # a device-side assert would surface here and poison the context
    t.view(-1)[1] = 4
    expected = F.cross_entropy(x, t, reduction=reduction)
    torch.testing.assert_close(kt.cross_entropy(x, t, reduction=reduction), expected)
