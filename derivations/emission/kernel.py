"""Kernel expressions: the stable forms the kernels evaluate, each the output of a checked claim.

A kernel expression is elementwise in plain symbols (a logit ``z``, the row max ``m``, the row sum
``d = sum_j exp(z_j - m)``, a weight ``w``, ...); row sums and reductions are left to the wrappers.
Each one is proved equal to its textbook form by a claim ``kernel.<name>`` (page ``kernels.md``):

    lse = m + log d,        softmax_k = exp(z_k - m) / d,        loss = w_t ((m - z_t) + log d)

Before emission every ``exp(a)`` and ``2^a`` is checked for overflow: with every logit of the row
written as ``m - delta`` (delta >= 0, m the row max), ``d = 1 + delta``, a log-probability as
``-delta`` and a folded shift as ``s = -c m - delta`` (c = 1 / ln 2), SymPy must show ``a <= 0``
(``a.is_nonpositive``); emission refuses any other form.

The softmax cross-entropy kernels evaluate exp(z - m) as 2^u with u = (z - m) / ln 2 (``Exp2``,
claim ``kernel.exp2``): on CPU, torch.exp2 is about 4x faster than torch.exp, numpy.exp2 about 2x.
A kernel with a block argument (``Kernel.into``) is also emitted as ``<name>_into(out, ...)``, which
writes the same expression into a preallocated ``out`` through in-place operations.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace

import sympy as sp

from derivations.core import Claim

#: Family modules, in emission order; each exposes ``kernels()`` and ``claims()``.
FAMILIES = ("kernel_ce", "kernel_binary", "kernel_kl")

# Kernel arguments: one symbol per quantity the wrappers pass in (names are the Python argument names).
Z = sp.Symbol("z", real=True)  # a logit z_k of the row
ZT = sp.Symbol("zt", real=True)  # the target's logit z_t (gathered, never a one-hot product)
M = sp.Symbol("m", real=True)  # the row max, m = max_j z_j
D = sp.Symbol("d", positive=True)  # d = sum_j exp(z_j - m), 1 <= d <= C
W = sp.Symbol("w", real=True)  # the class weight w_k (1 without weights)
WT = sp.Symbol("wt", real=True)  # the target's class weight w_t
Y = sp.Symbol("y", real=True)  # a probability target y_k
G = sp.Symbol("g", real=True)  # the upstream gradient of the row (reduction scale included)
EPS = sp.Symbol("eps", nonnegative=True)  # label smoothing
NUM_CLASSES = sp.Symbol("num_classes", positive=True)  # C
SW = sp.Symbol("sw", real=True)  # sum_j w_j
SWY = sp.Symbol("swy", real=True)  # sum_j w_j y_j of the row
A = sp.Symbol("a", real=True)  # a row coefficient of exp(z_k - m)
B = sp.Symbol("b", real=True)  # a row coefficient of w_k
NLL = sp.Symbol("nll", real=True)  # the row's index loss
SMOOTH = sp.Symbol("smooth", real=True)  # the row's smoothing term sum_j w_j (lse - z_j)
XT = sp.Symbol("xt", real=True)  # the target's log-probability (nll_loss input)
PW = sp.Symbol("pw", real=True)  # BCE pos_weight
X = sp.Symbol("x", real=True)  # kl_div input, a log-probability log q
P = sp.Symbol("p", nonnegative=True)  # a probability (may be 0)
Q = sp.Symbol("q", nonnegative=True)  # a model probability (may be 0)
LP = sp.Symbol("lp", real=True)  # a log-probability target (kl_div log_target)
U = sp.Symbol("u", nonpositive=True)  # a base-2 shifted logit u_k = (z_k - m) / ln 2 <= 0
E = sp.Symbol("e", positive=True)  # a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
SWU = sp.Symbol("swu", real=True)  # sum_j w_j u_j of the row (a weighted row sum of u)
LA = sp.Symbol("la", nonpositive=True)  # log2 a of a row coefficient a in [0, 1] (-inf where a = 0)
SCALE = sp.Symbol("c", positive=True)  # the base-2 scale 1/ln 2, a Python float (float32's value of it)
S = sp.Symbol("s", real=True)  # a row's folded shift, s <= -c m (the wrapper rounds -c m down)
DF = sp.Symbol("df", positive=True)  # the folded row sum d' = sum_j 2^(c z_j + s)
SWUF = sp.Symbol("swuf", real=True)  # sum_j w_j u'_j of the folded exponents u'_j = c z_j + s


class XLogY(sp.Function):
    """x log y with 0 log y = 0 (torch.xlogy): the continuous extension of x log x at x = 0.

    It evaluates to x*log(y) as soon as x is known to be nonzero (inside claims, where
    probabilities are positive) and stays opaque for a kernel argument that may be 0.
    """

    @classmethod
    def eval(cls, x, y):
        if x.is_zero:
            return sp.S.Zero
        if x.is_zero is False:
            return x * sp.log(y)
        return None

    def _latex(self, printer, exp=None):
        x, y = (printer._print(a) for a in self.args)
        tex = rf"\operatorname{{xlogy}}\left({x}, {y}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class Exp2(sp.Function):
    """2^x (numpy.exp2 / torch.exp2), defined as exp(x ln 2): ``rewrite(sp.exp)`` gives that form."""

    @classmethod
    def eval(cls, x):
        if x.is_number:
            return sp.Integer(2) ** x
        return None

    def fdiff(self, argindex=1):
        return sp.log(2) * self

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.exp(x * sp.log(2))

    def _latex(self, printer, exp=None):
        tex = rf"2^{{{printer._print(self.args[0])}}}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


def first(expr: sp.Expr) -> sp.Expr:
    """Keep ``expr`` as one parenthesised term that is evaluated first (``(m - z) + log d``).

    m - z >= 0 and log d >= 0 add without cancellation; lse - z would lose |lse| * machine-epsilon.
    ``.doit()`` removes the grouping, so derivations see the plain sum.
    """
    return sp.UnevaluatedExpr(expr)


def substitute(expr: sp.Basic, values: dict) -> sp.Basic:
    """xreplace that leaves indexed objects alone: the kernel argument ``w`` is not the label of ``w[j]``."""
    if isinstance(expr, (sp.Indexed, sp.IndexedBase)):
        return expr
    if expr in values:
        return values[expr]
    if not expr.args:
        return expr
    args = [substitute(a, values) for a in expr.args]
    return expr.func(*args) if any(a is not b for a, b in zip(args, expr.args, strict=True)) else expr


@dataclass(frozen=True)
class Kernel:
    """One emitted expression: ``name(*args) = expr``, checked by the claim ``claim``."""

    name: str
    expr: sp.Expr
    args: tuple[sp.Symbol, ...]
    claim: str
    summary: str
    family: str = ""
    source: str = ""
    into: sp.Symbol | None = None  # a block argument: the result has its shape; also emit <name>_into(out, ...)


class OverflowRisk(ValueError):
    """An exp(a) whose argument SymPy cannot show to be <= 0 under the kernel bounds."""


def bounds() -> dict[sp.Symbol, sp.Expr]:
    """Worst cases for the overflow check: each logit is m - delta, d = 1 + delta, log-probs are -delta,
    a folded shift is s = -c m - delta (the wrappers round -c m down; log2 a - c m <= -c m)."""
    delta = [sp.Symbol(f"delta_{i}", nonnegative=True) for i in range(5)]
    worst = {Z: M - delta[0], ZT: M - delta[1], D: 1 + delta[2], LP: -delta[3], U: -delta[4]}
    return {**worst, S: -SCALE * M - sp.Symbol("delta_5", nonnegative=True)}  # s <= -c m


def require_overflow_free(name: str, expr: sp.Expr) -> None:
    """Raise OverflowRisk unless every exp(a) and 2^a in ``expr`` has a provably non-positive argument."""
    worst = bounds()
    for power in sorted(expr.atoms(sp.exp, Exp2), key=sp.default_sort_key):
        argument = sp.expand(power.args[0].doit().xreplace(worst))  # c (m - delta) + s: distribute c
        if argument.is_nonpositive is not True:
            raise OverflowRisk(
                f"kernel {name!r} = {sp.sstr(expr)}: cannot show the argument of {sp.sstr(power)} is <= 0 "
                f"(with logits = m - delta, d >= 1 it is {sp.sstr(argument)}); exp may overflow, emission refused"
            )
    for power in expr.atoms(sp.Pow):
        if power.base == sp.E:
            raise OverflowRisk(f"kernel {name!r}: write E**a as exp(a) so that it can be checked ({sp.sstr(power)})")


def _family(name: str):
    return importlib.import_module(f"derivations.{name}")


def kernels() -> list[Kernel]:
    """The table the emitter consumes: every kernel expression, in emission order."""
    table = []
    for name in FAMILIES:
        family = name.removeprefix("kernel_")
        table.extend(replace(k, family=family, source=f"derivations/{name}.py") for k in _family(name).kernels())
    names = [k.name for k in table]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate kernel names: {duplicates}")
    return table


def claims() -> list[Claim]:
    """Every ``kernel.*`` claim (each names its own source module)."""
    out = []
    for name in FAMILIES:
        for c in _family(name).claims():
            module = c.build.__module__.replace(".", "/")
            out.append(replace(c, source=f"{module}.py"))
    return out
