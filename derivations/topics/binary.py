"""Binary cross-entropy with logits: its gradient, torch's pos_weight form, the stable form, two classes.

    l(z, y) = -[y log sigma(z) + (1 - y) log(1 - sigma(z))]         (BCE with logits)
    l_w(z, y) = -w [p_w y log sigma(z) + (1 - y) log sigma(-z)]     (torch's ``pos_weight`` p_w and ``weight`` w)
    binary.sigmoid_symmetry       sigma(-z) = 1 - sigma(z)
    binary.sigmoid_derivative     sigma'(z) = sigma(z) (1 - sigma(z))
    binary.bce_gradient           dl/dz = sigma(z) - y
    binary.pos_weight_gradient    dl_w/dz = w [(1 + (p_w - 1) y) sigma(z) - p_w y]
    binary.stable_form            l(z, y) = max(z, 0) - z y + log(1 + e^{-|z|})   (every exp argument is <= 0)
    binary.stable_pos_weight      l_w(z, y) = w [(1 - y) z + (1 + (p_w - 1) y) (log(1 + e^{-|z|}) + max(-z, 0))]
    binary.two_class_softmax      softmax_2(z) = sigma(z_2 - z_1)
    binary.two_class              CE((z_1, z_2), (1 - y, y)) = l(z_2 - z_1, y)

Scope: scalars, one logit z per element and a real target y (a probability in [0, 1] in practice; every
identity holds for all real y). The number of classes is 2 by construction, so each claim (page ``binary.md``)
is checked in the single scope n = 2, with no general-n scope to claim. The stable forms use |z| and max,
which SymPy decides only once the sign of z is known: those links are shown branchwise (z > 0, z < 0, z = 0).
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import chain
from derivations.engine.registry import Claims
from derivations.engine.rules_concrete import simplified
from derivations.engine.rules_inequality import branchwise
from derivations.engine.samplers import scalar
from derivations.engine.symbols import softmax
from derivations.engine.symbols import z as logits

PAGE = "binary.md"

#: The logit of one element (the positive class's), its target, the pos_weight and the element weight.
logit = sp.Symbol("z", real=True)
label = sp.Symbol("y", real=True)
pos_weight = sp.Symbol("p_w", real=True)
weight = sp.Symbol("w", real=True)
#: The two logits of the two-class softmax (classes numbered 1, 2 as in every derivation).
z1, z2 = sp.symbols("z_1 z_2", real=True)


class Sigmoid(sp.Function):
    """The logistic function sigma(v) = 1 / (1 + e^{-v}), kept whole for reading; ``doit`` writes it out."""

    nargs = 1

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    def doit(self, deep: bool = True, **hints) -> sp.Expr:
        v = self.args[0].doit(deep=deep, **hints) if deep else self.args[0]
        return 1 / (1 + sp.exp(-v))

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        return rf"\sigma\left({arg}\right)" if exp is None else rf"\sigma^{{{exp}}}\left({arg}\right)"


def bce(v: sp.Expr, target: sp.Expr) -> sp.Expr:
    """The textbook BCE with logits, -[y log sigma(v) + (1 - y) log(1 - sigma(v))]."""
    return -(target * sp.log(Sigmoid(v)) + (1 - target) * sp.log(1 - Sigmoid(v)))


def bce_pos_weight(v: sp.Expr, target: sp.Expr, pw: sp.Expr, w: sp.Expr) -> sp.Expr:
    """torch's form, -w [p_w y log sigma(v) + (1 - y) log sigma(-v)]."""
    return -w * (pw * target * sp.log(Sigmoid(v)) + (1 - target) * sp.log(Sigmoid(-v)))


def bce_stable(v: sp.Expr, target: sp.Expr) -> sp.Expr:
    """max(v, 0) - v y + log(1 + e^{-|v|}): the exp argument is never positive."""
    return sp.Max(v, 0) - v * target + sp.log(1 + sp.exp(-sp.Abs(v)))


def bce_pos_weight_stable(v: sp.Expr, target: sp.Expr, pw: sp.Expr, w: sp.Expr) -> sp.Expr:
    """torch's kernel: w [(1 - y) v + (1 + (p_w - 1) y) (log(1 + e^{-|v|}) + max(-v, 0))]."""
    return w * ((1 - target) * v + (1 + (pw - 1) * target) * (sp.log(1 + sp.exp(-sp.Abs(v))) + sp.Max(-v, 0)))


def _sample(size, rng):
    values = {**scalar(logit, rng, -8.0, 8.0), **scalar(label, rng, -0.5, 1.5)}
    return {**values, **scalar(pos_weight, rng, 0.1, 5.0), **scalar(weight, rng, 0.0, 3.0)}


def _sample_two(size, rng):
    return {**scalar(z1, rng, -8.0, 8.0), **scalar(z2, rng, -8.0, 8.0), **scalar(label, rng, -0.5, 1.5)}


_Z = ("$z$ is a real logit",)
_ZY = ("$z$ is a real logit", "$y$ is a real target (a probability in $[0, 1]$ in practice)")
_ZY_SYMPY = ("z real", "y real")
_PW = (*_ZY, "$p_w$ (`pos_weight`) and $w$ (`weight`) are real")
_PW_SYMPY = (*_ZY_SYMPY, "p_w real", "w real")
_TWO = ("$z_1, z_2$ are real logits", "the target puts $1 - y$ on class 1 and $y$ on class 2")
_TWO_SYMPY = ("z_1 real", "z_2 real", "y real")

CLAIMS = Claims(
    __name__, page=PAGE, assumptions=_ZY, sympy_assumptions=_ZY_SYMPY, sample=_sample, general=False, concrete=(2,)
)
claims = CLAIMS.list


@CLAIMS.claim("binary.sigmoid_symmetry", "sigma(-z) = 1 - sigma(z)", assumptions=_Z, sympy_assumptions=("z real",))
def _symmetry(size):
    v = logit
    return chain(
        Sigmoid(-v),
        (1 / (1 + sp.exp(v)), r"$\sigma(-z) = 1 / (1 + e^{z})$"),
        (sp.exp(-v) / (sp.exp(-v) + 1), "multiply numerator and denominator by $e^{-z}$"),
        (1 - Sigmoid(v), "$e^{-z} / (1 + e^{-z}) = 1 - 1 / (1 + e^{-z})$"),
        rule=simplified(),
    )


@CLAIMS.claim(
    "binary.sigmoid_derivative", "sigma'(z) = sigma(z) (1 - sigma(z))", assumptions=_Z, sympy_assumptions=("z real",)
)
def _derivative(size):
    v = logit
    return chain(
        sp.Derivative(Sigmoid(v), v),
        (sp.exp(-v) / (1 + sp.exp(-v)) ** 2, r"$\frac{d}{dz} (1 + e^{-z})^{-1} = e^{-z} (1 + e^{-z})^{-2}$"),
        (Sigmoid(v) * (1 - Sigmoid(v)), r"$e^{-z} / (1 + e^{-z}) = 1 - \sigma(z)$ (`binary.sigmoid_symmetry`)"),
        rule=simplified(),
    )


@CLAIMS.claim("binary.bce_gradient", "BCE with logits: dl/dz = sigma(z) - y")
def _gradient(size):
    v, s, ds = logit, Sigmoid(logit), sp.Derivative(Sigmoid(logit), logit)
    return chain(
        sp.Derivative(bce(v, label), v),
        (-(label * ds / s - (1 - label) * ds / (1 - s)), r"chain rule: $(\log f)' = f' / f$"),
        (-(label * (1 - s) - (1 - label) * s), r"$\sigma' = \sigma (1 - \sigma)$ (`binary.sigmoid_derivative`)"),
        (s - label, r"the $y \, \sigma(z)$ terms cancel"),
        rule=simplified(),
    )


@CLAIMS.claim(
    "binary.pos_weight_gradient",
    "pos_weight form: dl/dz = w [(1 + (p_w - 1) y) sigma(z) - p_w y]",
    assumptions=_PW,
    sympy_assumptions=_PW_SYMPY,
)
def _pos_weight_gradient(size):
    v, s, y, pw, w = logit, Sigmoid(logit), label, pos_weight, weight
    return chain(
        sp.Derivative(bce_pos_weight(v, y, pw, w), v),
        (
            -w * (pw * y * (1 - s) - (1 - y) * s),
            r"$\sigma' = \sigma (1 - \sigma)$, so $(\log \sigma(z))' = 1 - \sigma(z)$ "
            r"and $(\log \sigma(-z))' = -\sigma(z)$",
        ),
        (
            w * ((1 + (pw - 1) * y) * s - pw * y),
            r"collect $\sigma(z)$: $p_w y \sigma + (1 - y) \sigma = (1 + (p_w - 1) y) \sigma$",
        ),
        rule=simplified(),
    )


@CLAIMS.claim("binary.stable_form", "Stable BCE: max(z, 0) - z y + log(1 + e^{-|z|}) equals the textbook form")
def _stable_form(size):
    v, y = logit, label
    return chain(
        bce(v, y),
        (
            y * sp.log(1 + sp.exp(-v)) + (1 - y) * sp.log(1 + sp.exp(v)),
            r"$\log \sigma(z) = -\log(1 + e^{-z})$; $1 - \sigma(z) = \sigma(-z) = 1 / (1 + e^{z})$",
        ),
        (sp.log(1 + sp.exp(v)) - v * y, r"$\log(1 + e^{-z}) = \log(1 + e^{z}) - z$"),
        (
            bce_stable(v, y),
            r"$\log(1 + e^{z}) = \max(z, 0) + \log(1 + e^{-|z|})$: for $z > 0$ take $e^{z}$ out of the log; "
            r"the exp argument $-|z| \le 0$ cannot overflow",
            branchwise(logit, simplified()),
        ),
        rule=simplified(),
    )


@CLAIMS.claim(
    "binary.stable_pos_weight",
    "Stable pos_weight form (torch's) equals the textbook pos_weight form",
    assumptions=_PW,
    sympy_assumptions=_PW_SYMPY,
)
def _stable_pos_weight(size):
    v, y, pw, w = logit, label, pos_weight, weight
    return chain(
        bce_pos_weight(v, y, pw, w),
        (
            w * (pw * y * sp.log(1 + sp.exp(-v)) + (1 - y) * sp.log(1 + sp.exp(v))),
            r"$\log \sigma(z) = -\log(1 + e^{-z})$ and $\log \sigma(-z) = -\log(1 + e^{z})$",
        ),
        (
            w * ((1 - y) * v + (1 + (pw - 1) * y) * sp.log(1 + sp.exp(-v))),
            r"$\log(1 + e^{z}) = z + \log(1 + e^{-z})$; collect the $\log(1 + e^{-z})$ terms",
        ),
        (
            bce_pos_weight_stable(v, y, pw, w),
            r"$\log(1 + e^{-z}) = \max(-z, 0) + \log(1 + e^{-|z|})$ (torch's form; no exp argument is positive)",
            branchwise(logit, simplified()),
        ),
        rule=simplified(),
    )


def _two_logits(expr: sp.Expr) -> sp.Expr:
    """Write z[1], z[2] of the glossary's softmax as the scalars z_1, z_2."""
    return expr.doit().xreplace({logits[1]: z1, logits[2]: z2})


@CLAIMS.claim(
    "binary.two_class_softmax", "softmax_2(z_1, z_2) = sigma(z_2 - z_1)",
    assumptions=_TWO[:1], sympy_assumptions=_TWO_SYMPY[:2], sample=_sample_two,
)  # fmt: skip
def _two_class_softmax(size):
    return chain(
        _two_logits(softmax(logits, 2, 2)),
        (1 / (sp.exp(z1 - z2) + 1), "divide numerator and denominator by $e^{z_2}$"),
        (Sigmoid(z2 - z1), r"$1 / (1 + e^{-(z_2 - z_1)}) = \sigma(z_2 - z_1)$"),
        rule=simplified(),
    )


def _through_exponentials(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """Show a = b in terms of u_i = e^{z_i}: each log argument becomes a rational function of u, put in lowest terms."""
    u1, u2 = sp.symbols("u_1 u_2", positive=True)  # e^{z_1}, e^{z_2}: z = log u maps (0, oo) onto the reals 1:1
    d = sp.expand((a - b).doit().xreplace({z1: sp.log(u1), z2: sp.log(u2)}), power_exp=True)
    d = d.replace(lambda v: isinstance(v, sp.log), lambda v: sp.log(sp.cancel(v.args[0])))
    return sp.expand(sp.expand_log(d))


@CLAIMS.claim(
    "binary.two_class", "Two-class softmax cross-entropy is BCE with logits on z_2 - z_1",
    assumptions=_TWO, sympy_assumptions=_TWO_SYMPY, sample=_sample_two,
)  # fmt: skip
def _two_class(size):
    y = label
    s1, s2 = (_two_logits(softmax(logits, i, 2)) for i in (1, 2))
    return chain(
        -(1 - y) * sp.log(s1) - y * sp.log(s2),
        (-(1 - y) * sp.log(1 - s2) - y * sp.log(s2), "$s_1 = 1 - s_2$: the two probabilities add up to 1"),
        (bce(z2 - z1, y), r"$s_2 = \sigma(z_2 - z_1)$ (`binary.two_class_softmax`): BCE with logits on $z_2 - z_1$"),
        rule=_through_exponentials,
    )
