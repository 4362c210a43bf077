"""Kernel expressions: the arguments they take, the functions they use, and ``Kernel``, one emitted expression.

A kernel expression is elementwise in plain symbols (a logit ``z``, the row max ``m``, the row sum
``d = sum_j exp(z_j - m)``, a weight ``w``, ...); row sums and reductions are left to the wrappers.
Each one is proved equal to its textbook form by a claim ``kernel.<name>`` (page ``kernels.md``):

    lse = m + log d,        softmax_k = exp(z_k - m) / d,        loss = w_t ((m - z_t) + log d)

Every argument symbol carries what it stands for (``MEANINGS``), which the emitted docstrings list under
``Args:``. The softmax cross-entropy kernels evaluate exp(z - m) as 2^u with u = (z - m) / ln 2 (``Exp2``,
claim ``kernel.exp2``): on CPU, torch.exp2 is about 4x faster than torch.exp, numpy.exp2 about 2x.
A kernel with a block argument (``Kernel.into``) is also emitted as ``<name>_into(out, ...)``, which
writes the same expression into a preallocated ``out`` through in-place operations. Before emission,
every exponential is checked for overflow (``derivations/emission/overflow.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

#: What each kernel argument stands for, by symbol: the ``Args:`` section of every emitted docstring.
MEANINGS: dict[sp.Symbol, str] = {}


def argument(name: str, meaning: str, **assumptions) -> sp.Symbol:
    """A kernel argument: a plain symbol named as the Python argument, with the quantity it stands for."""
    symbol = sp.Symbol(name, **assumptions)
    MEANINGS[symbol] = meaning
    return symbol


Z = argument("z", "a logit z_k of the row", real=True)
ZT = argument("zt", "the target's logit z_t (gathered, never a one-hot product)", real=True)
M = argument("m", "the row max, m = max_j z_j", real=True)
D = argument("d", "d = sum_j exp(z_j - m), 1 <= d <= C", positive=True)
W = argument("w", "the class weight w_k (1 without weights)", real=True)
WT = argument("wt", "the target's class weight w_t", real=True)
Y = argument("y", "a probability target y_k", real=True)
G = argument("g", "the upstream gradient of the row (reduction scale included)", real=True)
EPS = argument("eps", "the label smoothing eps, in [0, 1]", nonnegative=True)
NUM_CLASSES = argument("num_classes", "C, the number of classes", positive=True)
SW = argument("sw", "sum_j w_j, the class weights' sum (C without weights)", real=True)
SWY = argument("swy", "sum_j w_j y_j of the row", real=True)
A = argument("a", "a row coefficient of exp(z_k - m)", real=True)
B = argument("b", "a row coefficient of w_k", real=True)
NLL = argument("nll", "the row's index loss w_t (lse - z_t)", real=True)
SMOOTH = argument("smooth", "the row's smoothing term sum_j w_j (lse - z_j)", real=True)
XT = argument("xt", "the target's log-probability (nll_loss input)", real=True)
PW = argument("pw", "BCE pos_weight", real=True)
X = argument("x", "kl_div input, a log-probability log q", real=True)
P = argument("p", "a probability (may be 0)", nonnegative=True)
Q = argument("q", "a model probability (may be 0)", nonnegative=True)
LP = argument("lp", "a log-probability target (kl_div log_target)", real=True)
U = argument("u", "a base-2 shifted logit u_k = (z_k - m) / ln 2 <= 0", nonpositive=True)
E = argument("e", "a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]", positive=True)
SWU = argument("swu", "sum_j w_j u_j of the row (a weighted row sum of u)", real=True)
LA = argument("la", "log2 a of a row coefficient a in [0, 1] (-inf where a = 0)", nonpositive=True)
SCALE = argument("c", "the base-2 scale 1/ln 2, a Python float (float32's value of it)", positive=True)
S = argument("s", "a row's folded shift, s <= -c m (the wrapper rounds -c m down)", real=True)
DF = argument("df", "the folded row sum d' = sum_j 2^(c z_j + s)", positive=True)
SWUF = argument("swuf", "sum_j w_j u'_j of the folded exponents u'_j = c z_j + s", real=True)
ZS = argument("zs", "lse_square_scale s, the z-loss's weight", nonnegative=True)
GZ = argument(
    "gz", "the z-loss's upstream gradient of the row (1 / counted rows for 'mean'), 0 where ignored", real=True
)
V = argument("v", "a direction v_k in logit space: the cotangent of a gradient, or a tangent", real=True)
SV = argument("sv", "sum_j s_j v_j, the softmax-weighted row sum of the direction v", real=True)
CAP = argument("cap", "softcap c > 0, the bound of the capped logits", positive=True)
ZC = argument("zc", "a soft-capped logit z' = c tanh(z / c), in (-c, c)", real=True)


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


def evaluated_first(expr: sp.Expr) -> sp.Expr:
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
    """One emitted expression: ``name(*args) = expr``, checked by the claim ``claim``.

    ``into`` names a block argument: the result has its shape, and ``<name>_into(out, ...)`` is emitted too.
    ``family`` and ``source`` (the module that declares it) are filled in by ``derivations.emission.kernels()``.
    """

    name: str
    expr: sp.Expr
    args: tuple[sp.Symbol, ...]
    claim: str
    summary: str
    into: sp.Symbol | None = None
    family: str = ""
    source: str = ""
