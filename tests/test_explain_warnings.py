"""The misuse warnings, in both backends: they appear only inside warn_on_misuse(), point at the caller's
line, switch on as a call or a block and nest; errors still raise torch's exception in warning mode.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from _explain_calls import _learner

import kernels
import kernels.numpy as kn
import kernels.torch as kt


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_warnings_only_when_switched_on(backend):
    lib = kt if backend == "torch" else kn
    outputs, target = _learner()
    args = (outputs, target) if backend == "torch" else (torch.softmax(outputs, 1).detach().numpy(), target.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the call
        off = lib.cross_entropy(*args)
    with lib.warn_on_misuse(), pytest.warns(kernels.MisuseWarning, match="probabilities-as-logits") as record:
        on = lib.cross_entropy(*args)
    assert record[0].filename == __file__, "the warning should point at the caller's line"
    assert record[0].message.finding.code == "probabilities-as-logits"
    assert on.item() == off.item()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lib.cross_entropy(*args)  # off again after the block
        with lib.warn_on_misuse():
            lib.cross_entropy(*_valid(backend))  # correct usage: nothing, even when on


def _valid(backend):
    x, t = torch.randn(4, 3), torch.tensor([0, 2, 1, 1])
    return (x, t) if backend == "torch" else (x.numpy(), t.numpy())


def _warning_on(lib) -> bool:
    """The backend's misuse flag (each backend owns one)."""
    return lib._functional.MISUSE.on


def test_warnings_switch_works_as_a_call_and_nests():
    try:
        kt.warn_on_misuse()
        assert _warning_on(kt)
        with kt.warn_on_misuse(False):
            assert not _warning_on(kt)
        assert _warning_on(kt)
        with pytest.warns(kernels.MisuseWarning) as record:
            kt.CrossEntropyLoss()(*_learner())  # through the module: still the caller's line
        assert record[0].filename == __file__
    finally:
        kt.warn_on_misuse(False)
    assert not _warning_on(kt) and not _warning_on(kn)


def test_errors_still_raise_torchs_exception_in_warning_mode():
    with warnings.catch_warnings(), kt.warn_on_misuse():
        warnings.simplefilter("error")
        with pytest.raises(IndexError, match="out of bounds"):
            kt.cross_entropy(torch.randn(4, 5), torch.tensor([1, 5, 2, 3]))
