"""explain's reports beyond the minimal cases (those are in tests/test_explain.py), in both backends.

The learner's report in full, the autograd-history walk, the out-of-range values named; correct usage gives
no warning or error over 240 random valid calls (tests/_valid_calls.py); the report's counts and the
denominator of 'mean' are held to torch; explain never raises on the bad-input battery (tests/_bad_inputs.py)
and reports each case torch rejects with torch's exception type; on CUDA the report is the CPU's.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from _bad_inputs import battery, outcome
from _explain_calls import _learner, explain, outcome_of
from _valid_calls import random_valid_call

import kernels.numpy as kn
import kernels.torch as kt


def test_the_learners_case_is_probabilities_as_logits():
    outputs, target = _learner()
    report = kt.explain(outputs, target)
    assert report.codes == ["probabilities-as-logits"]
    assert "SigmoidBackward0" in report.findings[0].message and "Remove the sigmoid" in report.findings[0].message
    assert report.target_kind == "class indices" and (report.class_dim, report.num_classes) == (1, 3)
    assert (report.positions, report.counted, report.ignored, report.mean_denominator) == (1, 1, 0, 1.0)


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda: torch.nn.Linear(6, 3)(torch.randn(4, 6)), None),  # a Linear layer's logits: AddmmBackward0
        (lambda: torch.sigmoid(torch.randn(4, 3, requires_grad=True)).reshape(2, 2, 3)[1], "SigmoidBackward0"),
        (lambda: torch.nn.Softmax(dim=1)(torch.randn(4, 3, requires_grad=True)).float().t().t(), "SoftmaxBackward0"),
        (lambda: torch.sigmoid(torch.randn(4, 3, requires_grad=True)) * 2, None),  # arithmetic ends the walk
    ],
)
def test_the_history_walk_looks_through_view_and_copy_nodes_only(make, expect):
    from kernels.explain import squash_in_history

    assert squash_in_history(make()) == expect


def test_out_of_range_lists_the_offending_values():
    report = kt.explain(torch.randn(6, 4), torch.tensor([0, 9, 4, -3, 9, -100]))
    (found,) = report.errors
    assert found.values == (-3, 4, 9) and "4 of 6 positions" in found.message and "-3, 4, 9" in found.message


@pytest.mark.parametrize("seed", range(240))
def test_no_warning_or_error_on_correct_usage(seed):
    args, kwargs, description = random_valid_call(seed)
    assert outcome_of(args, kwargs) is None, description
    for backend in ("torch", "numpy"):
        report = explain(backend, args, kwargs)
        bad = [f for f in report.findings if f.severity != "info"]
        assert not bad, f"{backend}, {description}:\n{report}"


@pytest.mark.parametrize("seed", range(0, 240, 4))
def test_counts_and_the_mean_denominator_match_torch(seed):
    args, kwargs, description = random_valid_call(seed, dtype=torch.float64)
    kwargs = {k: v for k, v in kwargs.items() if k != "reduction"}
    report = kt.explain(*args, **kwargs)
    # torch's mean = sum / denominator (index and probability targets, with or without smoothing)
    total, mean = (F.cross_entropy(*args, **kwargs, reduction=r).item() for r in ("sum", "mean"))
    assert report.mean_denominator == pytest.approx(total / mean, rel=1e-9), description
    input, target = args
    if input.shape == target.shape:  # class probabilities: every position counts
        assert (report.positions, report.ignored) == (target.numel() // input.shape[report.class_dim], 0)
    else:
        assert report.ignored == int((target == kwargs.get("ignore_index", -100)).sum()), description
        assert report.positions == target.numel() and report.counted == target.numel() - report.ignored


CE_CASES = [c for c in battery() if c.func == "cross_entropy" or c.ctor is not None]
IDS = [re.sub(r"[^\w.=+-]+", "-", c.name).strip("-") for c in battery()]


@pytest.mark.parametrize("backend", ["torch", "numpy"])
@pytest.mark.parametrize("case", battery(), ids=IDS)
def test_explain_never_raises_on_the_battery_and_names_torchs_error(case, backend):
    args, kwargs = case.make()
    kwargs = {**(case.ctor or {}), **kwargs}
    kwargs = {k: v for k, v in kwargs.items() if k in ("weight", "ignore_index", "reduction", "label_smoothing")}
    report = explain(backend, args, kwargs)  # never raises
    str(report)
    if case in CE_CASES:
        theirs = outcome(case, F)
        raised = {f.raises for f in report.errors}
        assert type(theirs).__name__ in raised, f"torch raised {theirs!r}; explain says:\n{report}"
        assert "rejected" not in report.codes, f"no rule named this case:\n{report}"


@pytest.mark.parametrize(
    ("backend", "bad"),
    [
        ("torch", lambda: ([[0.5, 0.5]], torch.tensor([0]))),
        ("numpy", lambda: ("abc", [0])),
        ("numpy", lambda: ([0.1], object())),
    ],
)
def test_explain_raises_type_error_only_for_non_tensors(backend, bad):
    with pytest.raises(TypeError, match="must be"):
        (kt if backend == "torch" else kn).explain(*bad())


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_give_the_cpu_report_and_a_device_mismatch_is_an_error():
    x, t = torch.randn(6, 4).softmax(1), torch.tensor([0, 3, 9, 1, -100, 2])
    on_cpu, on_cuda = kt.explain(x, t), kt.explain(x.cuda(), t.cuda())
    assert on_cuda.codes == on_cpu.codes == ["target-out-of-range", "probabilities-as-logits"]
    mixed = kt.explain(x.cuda(), t.clamp(0, 3))
    assert mixed.errors[0].code == "device-mismatch"
    assert mixed.errors[0].raises == type(outcome_of((x.cuda(), t.clamp(0, 3)), {})).__name__
