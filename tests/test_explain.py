"""explain's findings, in both backends, each from a minimal case.

Each finding comes from a minimal case and goes away when its message's fix is applied; an error finding
names the exception torch really raises, a warning finding a call torch runs silently. The half-precision
findings are real overflows in torch, and half-precision inputs without the risk are quiet. The rest of
explain is in tests/test_explain_reports.py, the misuse warnings in tests/test_explain_warnings.py.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _explain_calls import _learner, explain, outcome_of

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


def _x(*shape, scale=1.0, grad=False):
    return (torch.randn(*shape, generator=torch.Generator().manual_seed(7)) * scale).requires_grad_(grad)


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


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_distributions_are_normalised_within_their_rounding(dtype):
    g = torch.Generator().manual_seed(3)
    logits, probs = torch.randn(64, 1000, generator=g), torch.randn(64, 1000, generator=g).softmax(1)
    assert kt.explain(logits.to(dtype), probs.to(dtype)).findings == []
    found = kt.explain(probs.to(dtype), torch.zeros(64, dtype=torch.long)).codes  # softmax rows as the input
    assert found == ["probabilities-as-logits"]
