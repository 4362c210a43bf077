"""kernels.torch as a drop-in: modules, signatures, refused legacy arguments, warnings, and the
information quantities against torch's own expressions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _compare import TOLERANCES, assert_close, check_parity, seeded

import kernels.torch as kt

# ---- modules and signatures --------------------------------------------------------------------------

MODULES = [
    ("CrossEntropyLoss", {"weight": True, "ignore_index": 1, "reduction": "sum", "label_smoothing": 0.1}, "weight"),
    ("NLLLoss", {"weight": True, "ignore_index": 2, "reduction": "none"}, "weight"),
    ("BCEWithLogitsLoss", {"pos_weight": True, "reduction": "mean"}, "pos_weight"),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, None),
]


@pytest.mark.parametrize(("name", "ctor", "buffer"), MODULES, ids=[m[0] for m in MODULES])
def test_module_is_a_drop_in(name, ctor, buffer):
    g = seeded("module", name)
    ctor = {k: torch.rand(5, generator=g, dtype=torch.float64) + 0.5 if k == buffer else v for k, v in ctor.items()}
    ours, theirs = getattr(kt, name)(**ctor), getattr(torch.nn, name)(**ctor)
    assert isinstance(ours, torch.nn.Module)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    if buffer is not None:
        assert buffer in dict(ours.named_buffers()), f"{name}.{buffer} is not a registered buffer"
        assert buffer not in dict(ours.named_parameters())
        ours.load_state_dict({buffer: ctor[buffer] * 2})  # loading a state dict replaces the buffer
        theirs.load_state_dict({buffer: ctor[buffer] * 2})
        ours, theirs = ours.float(), theirs.float()  # .float() converts the buffer in place, like torch's
        assert getattr(ours, buffer).dtype == torch.float32
        ours, theirs = ours.double(), theirs.double()
    x = torch.randn(4, 5, generator=g, dtype=torch.float64)
    if name in ("CrossEntropyLoss", "NLLLoss"):
        t = torch.tensor([0, 1, 2, 4])
    elif name == "KLDivLoss":
        x, t = torch.log_softmax(x, 1), torch.log_softmax(torch.randn(4, 5, generator=g, dtype=torch.float64), 1)
    else:
        t = torch.rand(4, 5, generator=g, dtype=torch.float64)
    check_parity(ours, theirs, [x, t], grad_args=(0,), what=name)


FUNCTIONS = ["cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "kl_div", "linear_cross_entropy"]
LEGACY = {"size_average", "reduce"}
#: Beyond torch: the language-model extras, keyword-only and off by default, on these functions only.
EXTRAS = {"lse_square_scale": 0.0, "softcap": None}
WITH_EXTRAS = {"cross_entropy", "linear_cross_entropy"}


@pytest.mark.parametrize("name", [*FUNCTIONS, *(m[0] for m in MODULES), "LinearCrossEntropyLoss"])
def test_signature_matches_torch(name):
    import inspect

    theirs_obj = getattr(F, name, None) or getattr(torch.nn, name).__init__
    ours_obj = getattr(kt, name) if name in FUNCTIONS else getattr(kt, name).__init__
    theirs = {k: (p.default, p.kind) for k, p in inspect.signature(theirs_obj).parameters.items() if k not in LEGACY}
    ours = {k: (p.default, p.kind) for k, p in inspect.signature(ours_obj).parameters.items() if k not in LEGACY}
    if name in WITH_EXTRAS:
        extras = {k: ours.pop(k) for k in EXTRAS}
        assert extras == {k: (v, inspect.Parameter.KEYWORD_ONLY) for k, v in EXTRAS.items()}, extras
    assert ours == theirs, f"{name}: ours {ours} vs torch {theirs}"


def test_legacy_arguments_are_refused_not_ignored():
    x, t = torch.randn(4, 5), torch.tensor([0, 1, 2, 3])
    for name, value in (("size_average", False), ("reduce", False)):
        with pytest.raises((TypeError, ValueError), match=name):
            kt.cross_entropy(x, t, **{name: value})
        with pytest.raises((TypeError, ValueError), match=name):
            kt.CrossEntropyLoss(**{name: value})(x, t)


def test_kl_div_mean_warns_like_torch():
    x, t = torch.log_softmax(torch.randn(4, 5), 1), torch.softmax(torch.randn(4, 5), 1)
    with pytest.warns(UserWarning, match="batchmean"):
        kt.kl_div(x, t, reduction="mean")


INFORMATION = {  # torch's own expressions; 0 log 0 = 0 through xlogy
    "entropy": lambda p, q, dim: -torch.special.xlogy(p, p).sum(dim),
    "distribution_cross_entropy": lambda p, q, dim: -torch.special.xlogy(p, q).sum(dim),
    "kl_divergence": lambda p, q, dim: (torch.special.xlogy(p, p) - torch.special.xlogy(p, q)).sum(dim),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("name", list(INFORMATION))
def test_information_quantities(name, dim, dtype):
    g = seeded("info", name)
    p = torch.softmax(torch.randn(3, 6, 4, generator=g, dtype=torch.float64), dim).to(dtype)
    q = torch.softmax(torch.randn(3, 6, 4, generator=g, dtype=torch.float64), dim).to(dtype)
    ours = getattr(kt, name)
    ours2 = (lambda p, q: ours(p, dim=dim)) if name == "entropy" else (lambda p, q: ours(p, q, dim=dim))
    theirs = lambda p, q: INFORMATION[name](p, q, dim)  # noqa: E731
    check_parity(ours2, theirs, [p, q], grad_args=(0,) if name == "entropy" else (0, 1), what=name)
    p0 = p.clone()
    p0.select(dim, 0).zero_()  # zero probabilities: 0 log 0 = 0, values stay finite
    got = ours2(p0, q)
    tol = TOLERANCES[dtype]
    assert_close(got, theirs(p0, q), atol=tol.atol, rtol=tol.rtol, what=f"{name} with zeros")
    assert torch.isfinite(got).all()
