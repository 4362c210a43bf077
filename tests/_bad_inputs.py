"""The bad-input battery: each error case of the semantics reference (section 4) and the API contract.

`battery()` returns the cases; `outcome(case, lib)` runs one against a backend (torch.nn.functional,
kernels.torch or kernels.numpy) and returns the exception it raised (or None). `rows()` gives the table
the docs render: case | torch's exception | ours | our message. Nothing here runs at import time.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

N, C = 4, 5


@dataclass(frozen=True)
class BadInput:
    name: str  # what is wrong, in words
    func: str  # the function (or, with ctor, the module class) it is passed to
    make: Callable[[], tuple[tuple, dict]]  # the positional and keyword arguments, as CPU torch tensors
    raises: type[BaseException]  # the type torch 2.13 raises (semantics reference, section 4)
    says: tuple = ()  # words our message must contain; a tuple entry means any one of its words
    ctor: dict | None = field(default=None)  # module constructor arguments (module cases only)


def _x(*shape, dtype=torch.float32):
    """Distinct values in [-2, 2] (0.5 for a 0-d tensor): a well-formed input, so only the flaw under test is wrong."""
    numel = torch.Size(shape).numel()
    return torch.linspace(-2, 2, numel).reshape(shape).to(dtype) if shape else torch.tensor(0.5, dtype=dtype)


def _t(*values, dtype=torch.int64):
    return torch.tensor(values, dtype=dtype)


def _ce(x, t, **kw):
    return lambda: ((x() if callable(x) else x, t() if callable(t) else t), kw)


RANGE = ("[0, 4]", "-100")  # an out-of-range target: the valid range and the ignore_index
WEIGHT_LEN = ("(5,)", "[5]", "length 5")  # the weight shape expected for C = 5
REDUCTION = ("avg", "'none'", "'mean'", "'sum'")
INDEX_DTYPES = [  # (torch dtype, torch's name for it, numpy's name for it)
    (torch.int32, "Int", "int32"),
    (torch.int16, "Short", "int16"),
    (torch.int8, "Char", "int8"),
    (torch.bool, "Bool", "bool"),
    (torch.float32, "Float", "float32"),
    (torch.float64, "Double", "float64"),
    (torch.float16, "Half", "float16"),
]


def battery() -> list[BadInput]:
    x = lambda: _x(N, C)  # noqa: E731
    t = lambda: _t(0, 1, 2, 3)  # noqa: E731
    E, I, V, T, NI = RuntimeError, IndexError, ValueError, TypeError, NotImplementedError
    ce = "cross_entropy"
    cases = [
        BadInput(
            "long one-hot target (N, C)",
            ce,
            _ce(x, lambda: torch.eye(C, dtype=torch.long)[:N]),
            E,
            ("argmax", ".float()"),
        ),
        BadInput(
            "int32 target with the input's shape",
            ce,
            _ce(x, lambda: torch.eye(C, dtype=torch.int32)[:N]),
            E,
            ("argmax",),
        ),
        BadInput("(N, 1) long target", ce, _ce(x, lambda: t()[:, None]), E, ("squeeze",)),
        BadInput("(N, 1) float target", ce, _ce(x, lambda: t()[:, None].float()), E, ("squeeze",)),
        BadInput("float target (N, C + 1)", ce, _ce(x, lambda: _x(N, C + 1)), E, (("[4, 5]", "(4, 5)"),)),
    ]
    for dt, torch_name, np_name in INDEX_DTYPES:
        make = _ce(x, lambda dt=dt: t().to(dt))
        cases.append(BadInput(f"{np_name} class indices", ce, make, E, ((torch_name, np_name), ".long()")))
    cases += [
        BadInput("target 5 >= C", ce, _ce(x, _t(0, 5, 1, 2)), I, ("5", *RANGE)),
        BadInput("target 100", ce, _ce(x, _t(0, 100, 1, 2)), I, ("100", *RANGE)),
        BadInput("target -1 (not ignore_index)", ce, _ce(x, _t(0, -1, 1, 2)), I, ("-1", *RANGE)),
        BadInput("target 2**40", ce, _ce(x, _t(0, 2**40, 1, 2)), I, ("1099511627776", "[0, 4]")),
        BadInput("target 5, ignore_index=-1", ce, _ce(x, _t(0, 5, 1, 2), ignore_index=-1), I, ("[0, 4]", "-1")),
        BadInput("target 5, reduction='none'", ce, _ce(x, _t(0, 5, 1, 2), reduction="none"), I, RANGE),
        BadInput("target 5, label_smoothing", ce, _ce(x, _t(0, 5, 1, 2), label_smoothing=0.1), I, RANGE),
        BadInput(
            "uint8 target 255, default ignore_index",
            ce,
            _ce(x, _t(0, 255, 1, 2, dtype=torch.uint8)),
            I,
            ("255", *RANGE),
        ),
        BadInput("target 5, spatial (N, C, 2)", ce, _ce(_x(N, C, 2), _t(*[[0, 5]] * N)), I, RANGE),
        BadInput("target 5, input (C,)", ce, _ce(_x(C), torch.tensor(5)), I, RANGE),
        BadInput("nll_loss target 5", "nll_loss", _ce(x, _t(0, 5, 1, 2)), I, RANGE),
        BadInput("no classes: input (2, 0)", ce, _ce(_x(2, 0), _t(0, 0)), I, (("C = 0", "no classes", "[0, -1]"),)),
        BadInput("target batch N + 1", ce, _ce(x, _t(0, 1, 2, 3, 4)), V, ("batch", "4", "5")),
        BadInput("float target (N + 1, C)", ce, _ce(x, _x(N + 1, C)), V, ("batch",)),
        BadInput("(N, C) input, 0-d target", ce, _ce(x, torch.tensor(1)), V, ("batch",)),
        BadInput("(1, C) input, 0-d target", ce, _ce(_x(1, C), torch.tensor(1)), V, ("batch",)),
        BadInput(
            "(N, C, 2) input, target (N, 3)",
            ce,
            _ce(_x(N, C, 2), torch.zeros(N, 3, dtype=torch.long)),
            E,
            (("[4, 2]", "(4, 2)"),),
        ),
        BadInput(
            "(N, C, 2) input, target (N, 2, 1)",
            ce,
            _ce(_x(N, C, 2), torch.zeros(N, 2, 1, dtype=torch.long)),
            E,
            (("[4, 2]", "(4, 2)"),),
        ),
        BadInput("(N, C, 2) input, target (N,)", ce, _ce(_x(N, C, 2), t), E, (("[4, 2]", "(4, 2)"),)),
        BadInput(
            "(N, C, 2, 3) input, target (N, 2)",
            ce,
            _ce(_x(N, C, 2, 3), torch.zeros(N, 2, dtype=torch.long)),
            E,
            (("[4, 2, 3]", "(4, 2, 3)"),),
        ),
        BadInput(
            "(N, C, 2, 3) input, target (N, 2, 4)",
            ce,
            _ce(_x(N, C, 2, 3), torch.zeros(N, 2, 4, dtype=torch.long)),
            E,
            (("[4, 2, 3]", "(4, 2, 3)"),),
        ),
        BadInput("(C,) input, target (2,)", ce, _ce(_x(C), _t(0, 1)), V, ("2",)),
        BadInput("(1,) input, long target [0]", ce, _ce(_x(1), _t(0)), E, ("float",)),
        BadInput("0-d input, 0-d long target", ce, _ce(_x(), torch.tensor(0)), E, (("0-d", "scalar", "dim"),)),
        BadInput("0-d input, 0-d float target", ce, _ce(_x(), torch.tensor(0.5)), I, (("0-d", "scalar", "dim"),)),
        BadInput("weight of length 6", ce, _ce(x, t, weight=torch.ones(6)), E, (WEIGHT_LEN, ("(6,)", "[6]"))),
        BadInput(
            "weight of shape (1, 5)", ce, _ce(x, t, weight=torch.ones(1, 5)), E, (WEIGHT_LEN, ("(1, 5)", "[1, 5]"))
        ),
        BadInput(
            "weight of length 6, probability target",
            ce,
            _ce(x, _x(N, C), weight=torch.ones(6)),
            E,
            (WEIGHT_LEN, ("(6,)", "[6]")),
        ),
        BadInput(
            "float64 weight, float32 input",
            ce,
            _ce(x, t, weight=torch.ones(5, dtype=torch.float64)),
            E,
            (("float64", "Double"),),
        ),
        BadInput(
            "long weight, float32 input", ce, _ce(x, t, weight=torch.ones(5, dtype=torch.long)), E, (("int64", "Long"),)
        ),
        BadInput(
            "label_smoothing 1.1",
            ce,
            _ce(x, t, label_smoothing=1.1),
            E,
            ("1.1", ("[0, 1]", "between 0.0 and 1.0", "[0.0, 1.0]")),
        ),
        BadInput(
            "uint8 target with a 3-D input", ce, _ce(_x(N, C, 2), torch.zeros(N, 2, dtype=torch.uint8)), E, (".long()",)
        ),
        BadInput(
            "uint8 target, weight, label_smoothing, mean",
            ce,
            _ce(x, t().to(torch.uint8), weight=torch.ones(C), label_smoothing=0.1),
            E,
            (".long()",),
        ),
        BadInput("probability target, ignore_index=0", ce, _ce(x, _x(N, C), ignore_index=0), E, ("ignore_index",)),
        BadInput("float ignore_index", ce, _ce(x, t, ignore_index=1.5), T, ("ignore_index", "int")),
        BadInput("long input", ce, _ce(lambda: _x(N, C, dtype=torch.long), t), NI, (("float", "floating"),)),
        BadInput("complex input", ce, _ce(lambda: _x(N, C, dtype=torch.complex64), t), NI, (("float", "floating"),)),
        BadInput("nll_loss with label_smoothing", "nll_loss", _ce(x, t, label_smoothing=0.1), T, ("label_smoothing",)),
        BadInput(
            "bce target (N,) for input (N, 1)",
            "binary_cross_entropy_with_logits",
            _ce(_x(N, 1), _x(N)),
            V,
            (("[4, 1]", "(4, 1)"),),
        ),
        BadInput(
            "bce long target",
            "binary_cross_entropy_with_logits",
            _ce(x, torch.ones(N, C, dtype=torch.long)),
            E,
            (("float", "floating"),),
        ),
        BadInput(
            "bce pos_weight (3,) for input (N, 2)",
            "binary_cross_entropy_with_logits",
            _ce(_x(N, 2), _x(N, 2), pos_weight=torch.ones(3)),
            E,
            ("pos_weight",),
        ),
    ]
    for func in ("cross_entropy", "nll_loss"):
        cases.append(BadInput(f"{func} reduction='avg'", func, _ce(x, t, reduction="avg"), V, REDUCTION))
    cases.append(
        BadInput(
            "bce reduction='avg'", "binary_cross_entropy_with_logits", _ce(x, _x(N, C), reduction="avg"), V, REDUCTION
        )
    )
    cases.append(
        BadInput("kl_div reduction='avg'", "kl_div", _ce(x, _x(N, C), reduction="avg"), V, (*REDUCTION, "'batchmean'"))
    )
    cases.append(
        BadInput(
            "CrossEntropyLoss(reduction='avg')", "CrossEntropyLoss", _ce(x, t), V, REDUCTION, ctor={"reduction": "avg"}
        )
    )
    return cases


def _numpy(v):
    return v.numpy() if isinstance(v, torch.Tensor) else v


def outcome(case: BadInput, lib: types.ModuleType) -> BaseException | None:
    """Run the case against `lib`; the exception it raised, or None. kernels.numpy gets numpy arrays."""
    args, kwargs = case.make()
    if lib.__name__ == "kernels.numpy":
        args, kwargs = [_numpy(a) for a in args], {k: _numpy(v) for k, v in kwargs.items()}
    if case.ctor is not None and lib is torch.nn.functional:
        lib = torch.nn  # torch's module classes live in torch.nn
    try:
        fn = getattr(lib, case.func)
        fn(**case.ctor)(*args, **kwargs) if case.ctor is not None else fn(*args, **kwargs)
    except Exception as exc:  # every exception type is data here
        return exc
    return None


def rows(ours: types.ModuleType) -> list[tuple[str, str, str, str]]:
    """(case, torch's exception, ours, our message) for the docs' table."""
    out = []
    for case in battery():
        theirs, mine = outcome(case, torch.nn.functional), outcome(case, ours)
        name = lambda e: "no error" if e is None else type(e).__name__  # noqa: E731
        out.append((case.name, name(theirs), name(mine), "" if mine is None else str(mine)))
    return out
