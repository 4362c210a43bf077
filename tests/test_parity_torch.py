"""kernels.torch against torch.nn.functional on the same inputs: one grid per loss, then the edges.

Grid: device (cpu, cuda) x dtype with its tolerance (tests/_compare.py) x reduction x option x shape.
Every case compares the value, output shape and dtype, and the input gradient (and the target gradient
for probability targets and BCE / KL targets) through `check_parity`.
"""

from __future__ import annotations

import zlib

import pytest
import torch
import torch.nn.functional as F
from _compare import TOLERANCES, assert_close, check_parity

import kernels.torch as kt

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=[pytest.mark.cuda, CUDA])]
DTYPES = [pytest.param(d, id=str(d).removeprefix("torch.")) for d in TOLERANCES]
REDUCTIONS = ["none", "sum", "mean"]

# input shape; class dim is 0 for 1-D input, else 1; "7" has a 0-d target, "0x5" is an empty batch
SHAPES = {"3x423": (3, 423), "2x5x3x4": (2, 5, 3, 4), "7": (7,), "0x5": (0, 5), "4x6x5": (4, 6, 5)}
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore-in-range": {"ignore_index": 1},
    "ignore-outside": {"ignore_index": -100},
    "all-ignored": {"ignore_index": -100, "all_ignored": True},
    "all-ignored-ls-weight": {"ignore_index": 1, "all_ignored": True, "label_smoothing": 0.1, "weight": True},
    "ls0.1": {"label_smoothing": 0.1},
    "ls1": {"label_smoothing": 1.0},
    "ls-weight-ignore": {"label_smoothing": 0.1, "weight": True, "ignore_index": 1},
    "uint8-255": {"uint8": True, "ignore_index": 255},
    "prob": {"prob": True},
    "prob-ls": {"prob": True, "label_smoothing": 0.1},
    "prob-weight": {"prob": True, "weight": True},
    "prob-weight-ls": {"prob": True, "weight": True, "label_smoothing": 0.1},
}


def _gen(*key) -> torch.Generator:
    return torch.Generator().manual_seed(zlib.crc32(repr(key).encode()))


def _cdim(shape) -> int:
    return 0 if len(shape) == 1 else 1


def make_case(shape, opts, dtype, device, key):
    """(args, kwargs, grad_args) for cross_entropy / nll_loss on the given input shape and options."""
    g = _gen(key)
    cd = _cdim(shape)
    C = shape[cd]
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    kwargs = {}
    if opts.get("weight"):
        kwargs["weight"] = (torch.rand(C, generator=g, dtype=torch.float64) + 0.5).to(dtype).to(device)
    if "label_smoothing" in opts:
        kwargs["label_smoothing"] = opts["label_smoothing"]
    if opts.get("prob"):
        t = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), cd).to(dtype).to(device)
        return [x.to(dtype).to(device), t], kwargs, (0, 1)
    tshape = shape[:cd] + shape[cd + 1 :]
    t = torch.randint(0, C, tshape, generator=g)
    if "ignore_index" in opts:
        ii = opts["ignore_index"]
        kwargs["ignore_index"] = ii
        flat = t.reshape(-1)
        flat[::3] = ii  # every third position is ignored
        if opts.get("all_ignored"):
            flat[:] = ii
    if opts.get("uint8"):
        t = t.to(torch.uint8)
    return [x.to(dtype).to(device), t.to(device)], kwargs, (0,)


def _ce_ids():
    for s, shape in SHAPES.items():
        for o, opts in CE_OPTIONS.items():
            # torch rejects uint8 targets with >= 3-D input; that case is in the bad-input battery
            if opts.get("uint8") and len(shape) >= 3:
                continue
            yield pytest.param(shape, opts, id=f"{s}-{o}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("shape", "opts"), list(_ce_ids()))
def test_cross_entropy(shape, opts, device, dtype, reduction):
    args, kwargs, grad_args = make_case(shape, opts, dtype, device, ("ce", shape, repr(opts)))
    kwargs["reduction"] = reduction
    check_parity(kt.cross_entropy, F.cross_entropy, args, kwargs, grad_args=grad_args, what="cross_entropy")


NLL_OPTIONS = ["plain", "weight", "ignore-in-range", "ls-weight-ignore", "all-ignored", "uint8-255"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("option", NLL_OPTIONS)
@pytest.mark.parametrize("shape", ["3x423", "2x5x3x4", "7", "0x5"])
def test_nll_loss(shape, option, device, dtype, reduction):
    opts = {k: v for k, v in CE_OPTIONS[option].items() if k != "label_smoothing"}
    if opts.get("uint8") and len(SHAPES[shape]) >= 3:
        pytest.skip("torch rejects uint8 targets with >= 3-D input")
    args, kwargs, _ = make_case(SHAPES[shape], opts, dtype, device, ("nll", shape, option))
    args[0] = torch.log_softmax(args[0].double(), _cdim(SHAPES[shape])).to(dtype)
    check_parity(kt.nll_loss, F.nll_loss, args, {**kwargs, "reduction": reduction}, what="nll_loss")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("option", ["plain", "weight", "pos_weight", "both"])
@pytest.mark.parametrize("shape", ["3x423", "2x5x3x4", "7", "0x5"])
def test_binary_cross_entropy_with_logits(shape, option, device, dtype, reduction):
    g = _gen("bce", shape, option)
    size = SHAPES[shape]
    to = lambda v: v.to(dtype).to(device)  # noqa: E731
    x = to(torch.randn(size, generator=g, dtype=torch.float64) * 3)
    y = to(torch.rand(size, generator=g, dtype=torch.float64))  # soft labels in [0, 1]
    kwargs = {"reduction": reduction}
    if option in ("weight", "both"):  # broadcast along all but the last dimension
        kwargs["weight"] = to(torch.rand(size[-1:], generator=g, dtype=torch.float64) + 0.5)
    if option in ("pos_weight", "both"):  # pos_weight broadcasts along the last dimension
        kwargs["pos_weight"] = to(torch.rand(size[-1:], generator=g, dtype=torch.float64) * 3)
    f = F.binary_cross_entropy_with_logits
    check_parity(kt.binary_cross_entropy_with_logits, f, [x, y], kwargs, grad_args=(0, 1), what="bce")


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", ["3x423", "2x5x3x4", "7", "0x5"])
def test_kl_div(shape, log_target, device, dtype, reduction):
    g = _gen("kl", shape, log_target)
    size, cd = SHAPES[shape], _cdim(SHAPES[shape])
    logq = torch.log_softmax(torch.randn(size, generator=g, dtype=torch.float64), cd)
    p = torch.softmax(torch.randn(size, generator=g, dtype=torch.float64) * 2, cd)
    p.reshape(-1)[::5] = 0.0  # exact zeros: 0 log 0 = 0
    t = torch.log(p) if log_target else p
    args = [logq.to(dtype).to(device), t.to(dtype).to(device)]
    if log_target:  # -inf log-targets have an undefined target gradient; keep them out of the grad check
        args[1] = args[1].clamp(min=-30)
    kwargs = {"reduction": reduction, "log_target": log_target}
    check_parity(kt.kl_div, F.kl_div, args, kwargs, grad_args=(0, 1), what="kl_div")


# ---- extreme values (semantics reference, section 4) -------------------------------------------------

inf, nan = float("inf"), float("nan")
EXTREME = {
    "pm1e4": ([[1e4, -1e4, 0], [-1e4, 1e4, 0], [1e4, 1e4, 1e4]], [0, 0, 2], {}),
    "pm1e4-ls": ([[1e4, -1e4, 0], [-1e4, 1e4, 0], [1e4, 1e4, 1e4]], [0, 0, 2], {"label_smoothing": 0.1}),
    "neginf-t0": ([[-inf, 0, 0], [0, 1, 2]], [0, 2], {}),
    "neginf-t1": ([[-inf, 0, 0], [0, 1, 2]], [1, 2], {}),
    "neginf-t1-ls": ([[-inf, 0, 0], [0, 1, 2]], [1, 2], {"label_smoothing": 0.1}),
    "neginf-prob": ([[-inf, 0, 0], [0, 1, 2]], [[0, 0.5, 0.5], [0.2, 0.3, 0.5]], {}),
    "posinf": ([[inf, 0, 0], [0, 1, 2]], [1, 2], {}),
    "all-neginf": ([[-inf, -inf, -inf], [0, 1, 2]], [0, 2], {}),
    "nan": ([[nan, 0, 0], [0, 1, 2]], [1, 2], {}),
    "ignored-nan-row": ([[nan, 0, 0], [0, 1, 2]], [-100, 2], {}),
    "ignored-all-neginf-row": ([[-inf, -inf, -inf], [0, 1, 2]], [-100, 2], {}),
    "ignored-one-neginf-row": ([[-inf, 0, 0], [0, 1, 2]], [-100, 2], {}),
    "1e38": ([[1e38, -1e38, 0], [0, 1, 2]], [1, 2], {}),
    "3e38": ([[3e38, 3e38, 0], [0, 1, 2]], [1, 2], {}),
    "60000-rows": ([[60000, 0]] * 4, [1] * 4, {}),
    # every target's weight is 0: the mean's denominator is 0, so mean is nan (torch), with or without smoothing
    "target-weights-zero": ([[0.15, -0.03], [1.0, 2.0]], [0, 0], {"weight": [0.0, 0.39]}),
    "target-weights-zero-ls": ([[0.15, -0.03], [1.0, 2.0]], [0, 0], {"weight": [0.0, 0.39], "label_smoothing": 0.1}),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(EXTREME))
def test_cross_entropy_extreme_values(name, dtype, reduction):
    logits, target, kwargs = EXTREME[name]
    x = torch.tensor(logits, dtype=torch.float64).to(dtype)
    prob = isinstance(target[0], list)
    t = torch.tensor(target, dtype=torch.float64).to(dtype) if prob else torch.tensor(target)
    kwargs = {**kwargs, "reduction": reduction}
    if "weight" in kwargs:
        kwargs["weight"] = torch.tensor(kwargs["weight"], dtype=torch.float64).to(dtype)
    grad_args = (0, 1) if prob else (0,)
    check_parity(kt.cross_entropy, F.cross_entropy, [x, t], kwargs, grad_args=grad_args, what=name)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_probability_target_with_no_classes(reduction, label_smoothing):
    """C = 0: an empty sum per position (mean is nan, as torch), never a division by C or an empty max."""
    x = torch.zeros(2, 0, dtype=torch.float64)
    kwargs = {"reduction": reduction, "label_smoothing": label_smoothing}
    check_parity(kt.cross_entropy, F.cross_entropy, [x, torch.zeros(2, 0, dtype=torch.float64)], kwargs, what="C=0")


def test_finite_loss_for_index_targets_with_neginf_logits():
    x = torch.tensor([[-inf, 0.0, 0.0], [0.0, -inf, 3.0]], requires_grad=True)
    loss = kt.cross_entropy(x, torch.tensor([1, 2]), reduction="none")
    assert torch.isfinite(loss).all(), loss
    loss.sum().backward()
    assert torch.isfinite(x.grad).all(), x.grad


@pytest.mark.parametrize("pos_weight", [None, 0.15, 3.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_extreme_values(dtype, reduction, pos_weight):
    z = torch.tensor([1e4, -1e4, inf, -inf, inf, -inf, nan, 30.0, -1e38, -inf], dtype=torch.float64).to(dtype)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.5, 1.0, 0.0, 0.15], dtype=torch.float64).to(dtype)
    kwargs = {"reduction": reduction}
    if pos_weight is not None:
        kwargs["pos_weight"] = torch.tensor([pos_weight], dtype=torch.float64).to(dtype)
    f = F.binary_cross_entropy_with_logits
    check_parity(kt.binary_cross_entropy_with_logits, f, [z, y], kwargs, grad_args=(0, 1), what="bce extremes")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_bce_gradient_with_large_pos_weight(dtype):
    """(1 + (pw - 1) y) s(z) - pw y cancels two terms of size pw y when s(z) ~ 1; ours must be as accurate as torch."""
    z = torch.tensor([-0.5583, -5.7280, 7.0516, 3.0], dtype=dtype)
    y = torch.tensor([-0.1117, -1.1456, 1.4103, 2.0], dtype=torch.float64).sigmoid().to(dtype)
    pw = torch.tensor([80.2638, 11.6243, 111.9935, 500.0], dtype=dtype)
    kwargs = {"pos_weight": pw, "reduction": "none"}
    f = F.binary_cross_entropy_with_logits
    check_parity(kt.binary_cross_entropy_with_logits, f, [z, y], kwargs, grad_args=(0, 1), what="bce, pos_weight 112")


HALF_OVERFLOW = {  # torch sums these in float16 and overflows; the float64 value fits in float16
    "ls-mean-N4096-C10": ((torch.randn(4096, 10, generator=_gen("f16-ls"), dtype=torch.float64) * 2), 0.1),
    "60000-rows-mean": (torch.tensor([[60000.0, 0.0]] * 4, dtype=torch.float64), 0.0),
}


@pytest.mark.parametrize("name", list(HALF_OVERFLOW))
def test_float16_mean_stays_finite_where_torch_overflows(name):
    logits, eps = HALF_OVERFLOW[name]
    x = logits.half()
    t = torch.randint(0, x.shape[1], (x.shape[0],), generator=_gen("f16-t")) if eps else torch.ones(4, dtype=torch.long)
    theirs = F.cross_entropy(x, t, label_smoothing=eps)
    exact = F.cross_entropy(x.double(), t, label_smoothing=eps)
    ours = kt.cross_entropy(x, t, label_smoothing=eps)
    assert torch.isinf(theirs), f"torch's float16 result {theirs} no longer overflows; revisit the docs claim"
    assert ours.dtype == torch.float16 and torch.isfinite(ours), ours
    tol = TOLERANCES[torch.float16]
    assert_close(ours, exact, atol=tol.atol, rtol=tol.rtol, what=f"float16 {name}")


# ---- non-contiguous inputs ---------------------------------------------------------------------------


def _views(g, dtype):
    """(name, ours-or-torch fn, contiguous args, strided args): the same numbers in strided layouts."""
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64).to(dtype)  # noqa: E731
    x = r(7, 4)  # (C, N) storage read as (N, C)
    t = torch.randint(0, 7, (8,), generator=g)
    w = r(14).abs() + 0.5
    s = r(3, 4, 2, 5)  # (N, d1, d2, C) storage read as (N, C, d1, d2)
    ts = torch.randint(0, 5, (3, 2, 4), generator=g)
    p = torch.softmax(r(7, 4), 0)
    return [
        ("ce-transposed", "cross_entropy", (x.t(), t[::2]), {"weight": w[::2]}),
        ("ce-permuted-spatial", "cross_entropy", (s.permute(0, 3, 1, 2), ts.transpose(1, 2)), {}),
        ("ce-prob-transposed", "cross_entropy", (x.t(), p.t()), {"label_smoothing": 0.1}),
        ("nll-transposed", "nll_loss", (x.t(), t[::2]), {}),
        ("bce-transposed", "binary_cross_entropy_with_logits", (x.t(), torch.sigmoid(p.t())), {"pos_weight": w[::2]}),
        ("kl-transposed", "kl_div", (torch.log_softmax(x, 0).t(), p.t()), {"reduction": "batchmean"}),
    ]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("index", range(6))
def test_non_contiguous_inputs(index, dtype):
    name, fn, args, kwargs = _views(_gen("views"), dtype)[index]
    assert not all(a.is_contiguous() for a in args)
    floats = tuple(i for i, a in enumerate(args) if a.is_floating_point())
    check_parity(getattr(kt, fn), getattr(F, fn), list(args), kwargs, grad_args=floats, what=name)
    # the same numbers laid out contiguously give the same result
    dense = [a.contiguous() for a in args]
    same = getattr(kt, fn)(*dense, **{k: v.contiguous() if torch.is_tensor(v) else v for k, v in kwargs.items()})
    tol = TOLERANCES[dtype]  # equal up to summation order
    got = getattr(kt, fn)(*args, **kwargs)
    assert_close(got, same, atol=tol.atol, rtol=tol.rtol, what=f"{name}: strided vs contiguous")


# ---- modules and signatures --------------------------------------------------------------------------

MODULES = [
    ("CrossEntropyLoss", {"weight": True, "ignore_index": 1, "reduction": "sum", "label_smoothing": 0.1}, "weight"),
    ("NLLLoss", {"weight": True, "ignore_index": 2, "reduction": "none"}, "weight"),
    ("BCEWithLogitsLoss", {"pos_weight": True, "reduction": "mean"}, "pos_weight"),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, None),
]


@pytest.mark.parametrize(("name", "ctor", "buffer"), MODULES, ids=[m[0] for m in MODULES])
def test_module_is_a_drop_in(name, ctor, buffer):
    g = _gen("module", name)
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


FUNCTIONS = ["cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "kl_div"]
LEGACY = {"size_average", "reduce"}


@pytest.mark.parametrize("name", FUNCTIONS + [m[0] for m in MODULES])
def test_signature_matches_torch(name):
    import inspect

    theirs_obj = getattr(F, name, None) or getattr(torch.nn, name).__init__
    ours_obj = getattr(kt, name) if name in FUNCTIONS else getattr(kt, name).__init__
    theirs = {k: p.default for k, p in inspect.signature(theirs_obj).parameters.items() if k not in LEGACY}
    ours = {k: p.default for k, p in inspect.signature(ours_obj).parameters.items() if k not in LEGACY}
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
    g = _gen("info", name)
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
