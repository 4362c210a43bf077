"""Entropy, cross-entropy and KL divergence: definitions, worked examples and the decomposition.

    H(p) = -sum_j p_j log p_j   (0 log 0 = 0, the limit of x log x as x -> 0+)
    H(p, q) = -sum_j p_j log q_j,      D_KL(p || q) = sum_j p_j log(p_j / q_j)
    H(p, q) = D_KL(p || q) + H(p),     H(p) >= 0,     H(1/n, ..., 1/n) = log n

H(p) <= log n rests on Gibbs' inequality and is claimed in ``derivations/gibbs.py``.

Scopes: the identities hold for a general number of classes n (a sum over the symbolic n) and are
checked again for n = 2..8. The worked examples are numbers about two outcomes (n = 2 only); the
limit 0 log 0 = 0 involves no n, so its one derivation is its general scope. The certain event
e_t (one entry 1, the others 0) is handled by the entropy term ``XLogX``, which evaluates 0 log 0
by the limit (never nan) and 1 log 1 = 0, so a one-hot distribution is covered in every scope.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from derivations.core import Claim, N, chain
from derivations.rules import nonnegative, numerically, simplified, sums
from derivations.symbols import j, p, q, simplex, t, total, x

ENTROPY_PAGE = "entropy.md"
CE_KL_PAGE = "cross-entropy-kl.md"


@functools.cache
def zero_log_zero() -> sp.Expr:
    """lim_{x -> 0+} x log x, computed by SymPy (it is 0: claim ``entropy.zero_log_zero``)."""
    return sp.limit(x * sp.log(x), x, 0, "+")


class XLogX(sp.Function):
    """The entropy term eta(v) = v log v, with eta(0) = lim_{x -> 0+} x log x = 0 (never 0 * log 0 = nan).

    ``doit`` writes it out: v log v for v != 0, the limit for v = 0, and for a Kronecker delta (0 or 1)
    eta(delta) = delta eta(1) + (1 - delta) eta(0). Otherwise it stays as it is.
    """

    nargs = 1

    def doit(self, deep: bool = True, **hints) -> sp.Expr:
        v = self.args[0].doit(deep=deep, **hints) if deep else self.args[0]
        if isinstance(v, sp.KroneckerDelta):
            return v * XLogX(sp.S.One).doit() + (1 - v) * XLogX(sp.S.Zero).doit()
        if v.is_zero:
            return zero_log_zero()
        if v.is_zero is False:
            return v * sp.log(v)
        return XLogX(v)

    def _latex(self, printer, exp=None):
        v = self.args[0]
        tex = rf"{printer.parenthesize(v, PRECEDENCE['Mul'], strict=True)} \log{{\left({printer._print(v)} \right)}}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


def entropy(probs: sp.IndexedBase, size) -> sp.Expr:
    """H(p) = -sum_j p_j log p_j for strictly positive p."""
    return -total(probs[j] * sp.log(probs[j]), size)


def entropy_of(values) -> sp.Expr:
    """H(v_1, ..., v_m) written out term by term with the 0 log 0 = 0 convention (unevaluated)."""
    return sp.Mul(-1, sp.Add(*[XLogX(sp.S(v)) for v in values], evaluate=False), evaluate=False)


def cross_entropy(probs: sp.IndexedBase, model: sp.IndexedBase, size) -> sp.Expr:
    """H(p, q) = -sum_j p_j log q_j."""
    return -total(probs[j] * sp.log(model[j]), size)


def kl_divergence(probs: sp.IndexedBase, model: sp.IndexedBase, size) -> sp.Expr:
    """D_KL(p || q) = sum_j p_j log(p_j / q_j)."""
    return total(probs[j] * sp.log(probs[j] / model[j]), size)


def _rule(size):
    return sums() if size is N else simplified()


def _unevaluated_log(v) -> sp.Expr:
    return sp.log(sp.S(v), evaluate=False)


# SymPy's assumptions cannot say p_j <= 1; p_j = 1 / (1 + s_j) with s_j >= 0 ranges over (0, 1] exactly.
_slack = sp.IndexedBase("s", nonnegative=True)


def _probabilities_at_most_one(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """Show a >= b by the assumptions system, after writing every p_j as 1 / (1 + s_j), s_j >= 0."""

    def bounded(e: sp.Basic) -> sp.Basic:
        return e.doit().replace(
            lambda v: isinstance(v, sp.Indexed) and v.base == p, lambda v: 1 / (1 + _slack[v.indices[0]])
        )

    return nonnegative(bounded(a), bounded(b))


def _zero_log_zero(size):
    # x log x = log x / (1/x), a -oo/oo form; L'Hopital: (1/x) / (-1/x^2) = -x
    ratio = sp.Mul(sp.log(x), sp.Pow(1 / x, -1, evaluate=False), evaluate=False)
    return chain(
        sp.Limit(x * sp.log(x), x, 0, "+"),
        (sp.Limit(ratio, x, 0, "+"), "x log x = log x / (1/x): a -oo/oo form as x -> 0+"),
        (sp.Limit(-x, x, 0, "+"), "L'Hopital's rule: (d/dx log x) / (d/dx 1/x) = (1/x) / (-1/x^2) = -x"),
        (sp.S.Zero, "-x -> 0: so 0 log 0 is taken to be 0, the value that makes x log x continuous at 0"),
        rule=simplified(),
    )


def _definition(size):
    return chain(
        entropy(p, size),
        (total(p[j] * sp.log(1 / p[j]), size), "log(1/p) = -log p: H(p) is the expected surprisal log(1/p_j)"),
        rule=_rule(size),
    )


def _fair_coin(size):
    half = sp.S.Half
    return chain(
        entropy_of([half, half]),
        (-_unevaluated_log(half), "two equal terms: 2 * (1/2) log(1/2) = log(1/2)"),
        (sp.log(2), "log(1/2) = -log 2: one fair coin toss carries log 2 nats (1 bit)"),
        rule=simplified(),
    )


def _biased_coin_exact():
    tenth, rest = sp.Rational(1, 10), sp.Rational(9, 10)
    return [
        (
            -tenth * _unevaluated_log(tenth) - rest * _unevaluated_log(rest),
            "both probabilities are positive: each term is p log p",
        ),
        (sp.log(10) - rest * sp.log(9), "log(1/10) = -log 10, log(9/10) = log 9 - log 10, and 1/10 + 9/10 = 1"),
    ]


def _biased_coin(size):
    return chain(entropy_of([sp.Rational(1, 10), sp.Rational(9, 10)]), *_biased_coin_exact(), rule=simplified())


#: The decimal of H(0.1, 0.9) to 15 places, as shown in the worked example; the claim checks it.
BIASED_COIN_DECIMAL = sp.Float("0.325082973391448", 15)


def _distance(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """|a - b|, kept as written for reading (``doit`` evaluates it)."""
    return sp.Abs(sp.Add(*sp.Add.make_args(a), -b, evaluate=False), evaluate=False)


def _biased_coin_decimal(size):
    exact = _biased_coin_exact()[-1][0]
    return chain(
        _distance(entropy_of([sp.Rational(1, 10), sp.Rational(9, 10)]), BIASED_COIN_DECIMAL),
        (_distance(exact, BIASED_COIN_DECIMAL), "H(1/10, 9/10) = log 10 - (9/10) log 9 (entropy.biased_coin)"),
        (
            sp.Float("5e-16", 15),
            "evaluated to 30 digits: the decimal is within half a unit of its 15th place",
            numerically(30),
            "<=",
        ),
        rule=simplified(),
    )


def _certain_event(size):
    delta = sp.KroneckerDelta(j, t)
    entries = sp.Piecewise((XLogX(sp.S.One), sp.Eq(j, t)), (XLogX(sp.S.Zero), True))
    return chain(
        -total(XLogX(delta), size),
        (-total(entries, size), "each entry of e_t is 1 (j = t) or 0 (j != t)"),
        (sp.S.Zero, "1 log 1 = 0, and 0 log 0 = lim x log x = 0 (entropy.zero_log_zero), not nan"),
        rule=_rule(size),
        indices=(t,),
    )


def _lower_bound(size):
    return chain(
        entropy(p, size),
        (total(p[j] * sp.log(1 / p[j]), size), "log(1/p) = -log p", _rule(size)),
        (
            sp.S.Zero,
            "p_j <= 1, so log(1/p_j) >= 0 and each term p_j log(1/p_j) >= 0; a sum of nonnegative terms is >= 0",
            _probabilities_at_most_one,
            ">=",
        ),
        rule=_rule(size),
    )


def _uniform(size):
    return chain(
        -total(XLogX(sp.S.One / size), size),
        (-_unevaluated_log(sp.S.One / size), "n equal terms (1/n) log(1/n) add up to log(1/n)"),
        (sp.log(size), "log(1/n) = -log n: the uniform distribution attains the bound H <= log n"),
        rule=_rule(size),
    )


def _cross_entropy(size):
    return chain(
        cross_entropy(p, q, size),
        (
            total(p[j] * sp.log(1 / q[j]), size),
            "log(1/q) = -log q: the surprisal log(1/q_j) under the model q, averaged over outcomes from p",
        ),
        rule=_rule(size),
    )


def _kl_divergence(size):
    return chain(
        kl_divergence(p, q, size),
        (total(p[j] * (sp.log(p[j]) - sp.log(q[j])), size), "log(p/q) = log p - log q (p, q > 0)"),
        (total(p[j] * sp.log(p[j]), size) - total(p[j] * sp.log(q[j]), size), "linearity: -H(p) + H(p, q)"),
        rule=_rule(size),
    )


def _decomposition(size):
    plogp = total(p[j] * sp.log(p[j]), size)
    added = sp.Add(sp.Add(plogp, cross_entropy(p, q, size), evaluate=False), -plogp, evaluate=False)
    return chain(
        cross_entropy(p, q, size),
        (added, "add and subtract sum_j p_j log p_j"),
        (
            sp.Add(kl_divergence(p, q, size), entropy(p, size), evaluate=False),
            "log p - log q = log(p/q) (p, q > 0): the first sum is D_KL(p || q), the second H(p)",
        ),
        rule=_rule(size),
    )


def _distribution(size, rng):
    return simplex(p, size, rng)


def _two_distributions(size, rng):
    return {**simplex(p, size, rng), **simplex(q, size, rng)}


def _nothing(size, rng):
    return {}


_P = ("p is a probability vector: every p_j > 0 and sum_j p_j = 1",)
_PQ = ("p and q are probability vectors with every entry > 0",)
_POSITIVE = ("p[j] positive",)
_BOTH_POSITIVE = ("p[j] positive", "q[j] positive")
_NUMBERS = ("no free symbols: exact rationals and logarithms",)


def claims() -> list[Claim]:
    at_most_one = "p[j] <= 1, as p[j] = 1/(1 + s[j]) with s[j] nonnegative"
    return [
        Claim(
            "entropy.zero_log_zero", "0 log 0 = 0: the limit of x log x as x -> 0+ is 0", _zero_log_zero,
            ("x > 0, x -> 0 from above",), ("x real", "limit direction '+'"), _nothing,
            concrete=(), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.definition", "Entropy H(p) = -sum_j p_j log p_j is the expected surprisal", _definition,
            _P, _POSITIVE, _distribution, page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.fair_coin", "Worked example: H(1/2, 1/2) = log 2", _fair_coin,
            ("two outcomes with probability 1/2 each",), _NUMBERS, _nothing,
            general=False, concrete=(2,), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.biased_coin", "Worked example: H(1/10, 9/10) = log 10 - (9/10) log 9", _biased_coin,
            ("two outcomes with probabilities 1/10 and 9/10",), _NUMBERS, _nothing,
            general=False, concrete=(2,), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.biased_coin_decimal", "Worked example: H(0.1, 0.9) = 0.325082973391448 to 15 places",
            _biased_coin_decimal,
            ("two outcomes with probabilities 1/10 and 9/10", "the decimal is rounded to 15 places"),
            (*_NUMBERS, "evaluated with mpmath at 30 significant digits (strict)"), _nothing,
            general=False, concrete=(2,), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.certain_event", "A certain event has no entropy: H(e_t) = 0 (by the limit, not nan)",
            _certain_event,
            ("p = e_t: p_t = 1 and p_j = 0 for j != t", "0 log 0 = 0, the limit of x log x"),
            ("t integer, 1 <= t <= n", "0 log 0 evaluated by sympy.limit"), _nothing, page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.lower_bound", "Entropy is nonnegative: H(p) >= 0", _lower_bound,
            (*_P, "hence every p_j <= 1"), (*_POSITIVE, at_most_one), _distribution, page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.uniform", "The uniform distribution has entropy log n", _uniform,
            ("u_j = 1/n for every j",), ("n positive integer",), _nothing, page=ENTROPY_PAGE,
        ),
        Claim(
            "information.cross_entropy", "Cross-entropy H(p, q) = -sum_j p_j log q_j", _cross_entropy,
            _PQ, _BOTH_POSITIVE, _two_distributions, page=CE_KL_PAGE,
        ),
        Claim(
            "information.kl_divergence", "KL divergence D_KL(p || q) = sum_j p_j log(p_j / q_j) = H(p, q) - H(p)",
            _kl_divergence, _PQ, _BOTH_POSITIVE, _two_distributions, page=CE_KL_PAGE,
        ),
        Claim(
            "ce.decomposition", "Cross-entropy decomposes: H(p, q) = D_KL(p || q) + H(p)", _decomposition,
            _PQ, _BOTH_POSITIVE, _two_distributions, page=CE_KL_PAGE,
        ),
    ]  # fmt: skip
