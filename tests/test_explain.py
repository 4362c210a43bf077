"""explain and the misuse warnings, in both backends.

Each finding comes from a minimal case and goes away when its message's fix is applied; an error finding
names the exception torch really raises, a warning finding a call torch runs silently. Correct usage gives no
warning or error over 240 random valid calls (tests/_valid_calls.py); the report's counts and the denominator
of 'mean' are held to torch; explain never raises on the bad-input battery (tests/_bad_inputs.py) and reports
each case torch rejects with torch's exception type. Warnings appear only inside warn_on_misuse().
"""

from __future__ import annotations

import re
import warnings

import pytest
import torch
import torch.nn.functional as F
from _bad_inputs import battery, outcome
from _valid_calls import random_valid_call

import kernels
import kernels.numpy as kn
import kernels.torch as kt

CODES = {  # the stable codes of the issue, and their severity
    "probabilities-as-logits": "warning",
    "one-hot-index-target": "error",
    "target-column": "error",
    "float-class-indices": "error",
    "target-out-of-range": "error",
    "all-ignored": "warning",
    "probability-target-not-normalised": "warning",
    "half-precision-overflow-risk": "warning",
}


def _numpy(v):
    return v.detach().numpy() if isinstance(v, torch.Tensor) else v


def explain(backend: str, args: tuple, kwargs: dict):
    """kernels.<backend>.explain on the call (tensors become arrays for numpy)."""
    if backend == "numpy":
        return kn.explain(*map(_numpy, args), **{k: _numpy(v) for k, v in kwargs.items()})
    return kt.explain(*args, **kwargs)


def _x(*shape, scale=1.0, grad=False):
    return (torch.randn(*shape, generator=torch.Generator().manual_seed(7)) * scale).requires_grad_(grad)


def _learner():
    """The learner's case: sigmoid outputs of shape (1, 3), all near 0.5, and the class index tensor([1])."""
    raw = torch.tensor([[0.12, -0.05, 0.08]], requires_grad=True)
    return torch.sigmoid(raw), torch.tensor([1])


MINIMAL = []  # (code, case, backend): case() returns the call, and the call fixed as the message says
BOTH = ("torch", "numpy")


def minimal(code: str, backends=BOTH):
    def register(case):
        for backend in backends:
            name = f"{code}-{case.__name__.removeprefix('_')}-{backend}"
            MINIMAL.append(pytest.param(code, case, backend, id=name))
        return case

    return register


def _call(*args, **kwargs):
    return args, kwargs


@minimal("probabilities-as-logits", ("torch",))
def _learner_sigmoid():
    outputs, target = _learner()
    return _call(outputs, target), _call(torch.logit(outputs), target)  # the logits before the sigmoid


@minimal("probabilities-as-logits", ("torch",))
def _softmax_in_history():
    x, t = _x(4, 5, grad=True), torch.tensor([0, 1, 2, 3])
    return _call(x.softmax(1), t), _call(x, t)


@minimal("probabilities-as-logits", ("torch",))
def _log_softmax_then_views():
    x, t = _x(8, 5, grad=True), torch.zeros(2, 4, dtype=torch.long)
    return _call(x.log_softmax(1).view(2, 4, 5).transpose(1, 2), t), _call(x.view(2, 4, 5).transpose(1, 2), t)


@minimal("probabilities-as-logits")
def _softmax_rows_without_history():
    x, t = _x(4, 5), torch.tensor([0, 1, 2, 3])
    return _call(x.softmax(1), t), _call(x, t)


@minimal("probabilities-as-logits")
def _log_softmax_rows_without_history():
    x, t = _x(3, 4, 2), torch.zeros(3, 2, dtype=torch.long)
    return _call(x.log_softmax(1), t), _call(x, t)


@minimal("probabilities-as-logits")
def _sigmoid_values_without_history():
    x, t = _x(16, 4), torch.zeros(16, dtype=torch.long)  # 64 values, all in (0, 1)
    return _call(torch.sigmoid(x), t), _call(x, t)


@minimal("one-hot-index-target")
def _long_one_hot():
    one_hot = torch.eye(5, dtype=torch.long)[:4]
    return _call(_x(4, 5), one_hot), _call(_x(4, 5), one_hot.argmax(dim=1))


@minimal("target-column")
def _column():
    t = torch.tensor([[0], [1], [2], [3]])
    return _call(_x(4, 5), t), _call(_x(4, 5), t.squeeze(1))


@minimal("target-column")
def _spatial_column():
    t = torch.ones(4, 1, 3, dtype=torch.long)
    return _call(_x(4, 5, 3), t), _call(_x(4, 5, 3), t.squeeze(1))


@minimal("float-class-indices")
def _float_indices():
    t = torch.tensor([0.0, 4.0, 2.0, 1.0])
    return _call(_x(4, 5), t), _call(_x(4, 5), t.long())


@minimal("target-out-of-range")
def _one_based_labels():
    t = torch.tensor([1, 5, 2, 3])
    return _call(_x(4, 5), t), _call(_x(4, 5), t - 1)


@minimal("target-out-of-range")
def _minus_one_as_padding():
    t = torch.tensor([1, -1, 2, -1])
    return _call(_x(4, 5), t), _call(_x(4, 5), t, ignore_index=-1)


@minimal("all-ignored")
def _all_ignored_mean():
    t = torch.full((4,), -100)
    return _call(_x(4, 5), t), _call(_x(4, 5), t, reduction="sum")


@minimal("probability-target-not-normalised")
def _rows_of_rand():
    p = torch.rand(4, 5, generator=torch.Generator().manual_seed(1))
    return _call(_x(4, 5), p), _call(_x(4, 5), p / p.sum(dim=1, keepdim=True))


@minimal("probability-target-not-normalised")
def _negative_entry():
    p = torch.tensor([[1.2, -0.2, 0.0], [0.5, 0.5, 0.0]])
    return _call(_x(2, 3), p), _call(_x(2, 3), p.clamp(min=0) / p.clamp(min=0).sum(dim=1, keepdim=True))


@minimal("half-precision-overflow-risk")
def _half_label_smoothing_n4096():
    x, t = _x(4096, 10).half(), torch.arange(4096) % 10  # the reference's case: torch's mean is inf
    return _call(x, t, label_smoothing=0.1), _call(x.float(), t, label_smoothing=0.1)


@minimal("half-precision-overflow-risk")
def _half_sum_of_large_losses():
    x, t = _x(8000, 10, scale=8).half(), torch.zeros(8000, dtype=torch.long)
    return _call(x, t, reduction="sum"), _call(x.float(), t, reduction="sum")


@minimal("half-precision-overflow-risk")
def _half_mean_over_70000_positions():
    x, t = _x(70000, 2).half(), torch.arange(70000) % 2  # torch's float16 denominator overflows: mean 0
    return _call(x, t), _call(x.float(), t)


@pytest.mark.parametrize(("code", "case", "backend"), MINIMAL)
def test_each_finding_from_a_minimal_case_and_gone_once_fixed(code, case, backend):
    (args, kwargs), fixed = case()
    report = explain(backend, args, kwargs)
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, f"{code} not found:\n{report}"
    assert found[0].severity == CODES[code]
    assert " ".join(f"{code}: {found[0].message}".split()) in " ".join(str(report).split())  # the summary shows it
    torch_raised = outcome_of(args, kwargs)
    if found[0].severity == "error":  # the exception torch really raises
        assert found[0].raises == type(torch_raised).__name__, f"torch raised {torch_raised!r}"
    else:
        assert torch_raised is None and found[0].raises is None, f"torch raised {torch_raised!r}"
    after = explain(backend, *fixed)
    assert not [f for f in after.findings if f.severity != "info"], f"the fix left findings:\n{after}"


HALF = [p.values[1] for p in MINIMAL if p.values[0] == "half-precision-overflow-risk" and p.values[2] == "torch"]


@pytest.mark.parametrize("case", HALF, ids=lambda c: c.__name__.removeprefix("_"))
def test_half_precision_findings_are_overflows_in_torch(case):
    ((x, t), kwargs), _ = case()
    r16, r32 = F.cross_entropy(x, t, **kwargs), F.cross_entropy(x.float(), t, **kwargs)
    assert not torch.isfinite(r16) or (r16 == 0 and r32 > 0.1), f"float16 {r16.item()}, float32 {r32.item()}"


def test_half_precision_without_the_risk_is_quiet():
    x, t = _x(256, 10).half(), torch.arange(256) % 10  # 256 x 10 x log 10 ~ 6e3, far from 65504
    assert kt.explain(x, t, label_smoothing=0.1).findings == []
    assert torch.isfinite(F.cross_entropy(x, t, label_smoothing=0.1))


def outcome_of(args, kwargs):
    try:
        F.cross_entropy(*args, **kwargs)
    except Exception as exc:  # every exception type is data here
        return exc
    return None


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
    from kernels._explain_front import squash_in_history

    assert squash_in_history(make()) == expect


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_distributions_are_normalised_within_their_rounding(dtype):
    g = torch.Generator().manual_seed(3)
    logits, probs = torch.randn(64, 1000, generator=g), torch.randn(64, 1000, generator=g).softmax(1)
    assert kt.explain(logits.to(dtype), probs.to(dtype)).findings == []
    found = kt.explain(probs.to(dtype), torch.zeros(64, dtype=torch.long)).codes  # softmax rows as the input
    assert found == ["probabilities-as-logits"]


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


def test_warnings_switch_works_as_a_call_and_nests():
    try:
        kt.warn_on_misuse()
        assert kt._WARN_ON_MISUSE
        with kt.warn_on_misuse(False):
            assert not kt._WARN_ON_MISUSE
        assert kt._WARN_ON_MISUSE
        with pytest.warns(kernels.MisuseWarning) as record:
            kt.CrossEntropyLoss()(*_learner())  # through the module: still the caller's line
        assert record[0].filename == __file__
    finally:
        kt.warn_on_misuse(False)
    assert not kt._WARN_ON_MISUSE and not kn._WARN_ON_MISUSE


def test_errors_still_raise_torchs_exception_in_warning_mode():
    with warnings.catch_warnings(), kt.warn_on_misuse():
        warnings.simplefilter("error")
        with pytest.raises(IndexError, match="out of bounds"):
            kt.cross_entropy(torch.randn(4, 5), torch.tensor([1, 5, 2, 3]))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_give_the_cpu_report_and_a_device_mismatch_is_an_error():
    x, t = torch.randn(6, 4).softmax(1), torch.tensor([0, 3, 9, 1, -100, 2])
    on_cpu, on_cuda = kt.explain(x, t), kt.explain(x.cuda(), t.cuda())
    assert on_cuda.codes == on_cpu.codes == ["target-out-of-range", "probabilities-as-logits"]
    mixed = kt.explain(x.cuda(), t.clamp(0, 3))
    assert mixed.errors[0].code == "device-mismatch"
    assert mixed.errors[0].raises == type(outcome_of((x.cuda(), t.clamp(0, 3)), {})).__name__
