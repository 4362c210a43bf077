"""Entropy: the definition, worked examples, the certain event and the bounds (page ``entropy.md``).

    entropy.zero_log_zero         0 log 0 = 0: lim_{x -> 0+} x log x = 0
    entropy.definition            H(p) = -sum_j p_j log p_j = sum_j p_j log(1 / p_j), the expected surprisal
    entropy.fair_coin             H(1/2, 1/2) = log 2
    entropy.biased_coin           H(1/10, 9/10) = log 10 - (9/10) log 9
    entropy.biased_coin_decimal   H(1/10, 9/10) = 0.325082973391448... (to 15 places)
    entropy.certain_event         H(e_t) = 0
    entropy.lower_bound           H(p) >= 0
    entropy.uniform               H(1/n, ..., 1/n) = log n

Scopes: the identities hold for a general number of classes n (a sum over the symbolic n) and are
checked again for n = 2..8. The worked examples are numbers about two outcomes (n = 2 only); the
limit 0 log 0 = 0 involves no n, so its one derivation is its general scope. The certain event
e_t (one entry 1, the others 0) is handled by the entropy term ``XLogX``, which evaluates 0 log 0
by the limit (never nan) and 1 log 1 = 0, so a one-hot distribution is covered in every scope.
The definitions of H, H(p, q) and D_KL are in ``derivations/topics/information.py``.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import chain
from derivations.engine.registry import Claims
from derivations.engine.rules import by_scope
from derivations.engine.rules_concrete import simplified
from derivations.engine.rules_inequality import nonnegative, numerically
from derivations.engine.samplers import simplex
from derivations.engine.symbols import j, p, t, total, x
from derivations.topics.information import ENTROPY_PAGE, XLogX, entropy, entropy_of


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


def _distribution(size, rng):
    return simplex(p, size, rng)


def _nothing(size, rng):
    return {}


_P = (r"$p$ is a probability vector: every $p_j > 0$ and $\sum_j p_j = 1$",)
_POSITIVE = ("p[j] positive",)
_NUMBERS = ("no free symbols: exact rationals and logarithms",)
#: The worked examples: numbers about two outcomes, checked in the single scope n = 2.
_TWO_OUTCOMES = {"sample": _nothing, "general": False, "concrete": (2,)}
_COIN = r"two outcomes with probabilities $\frac{1}{10}$ and $\frac{9}{10}$"

CLAIMS = Claims(__name__, page=ENTROPY_PAGE)
claims = CLAIMS.list


@CLAIMS.claim(
    "entropy.zero_log_zero",
    "0 log 0 = 0: the limit of x log x as x -> 0+ is 0",
    assumptions=(r"$x > 0$, $x \to 0$ from above",),
    sympy_assumptions=("x real", "limit direction '+'"),
    sample=_nothing,
    concrete=(),
)
def _zero_log_zero(size):
    # x log x = log x / (1/x), a -oo/oo form; L'Hopital: (1/x) / (-1/x^2) = -x
    ratio = sp.Mul(sp.log(x), sp.Pow(1 / x, -1, evaluate=False), evaluate=False)
    return chain(
        sp.Limit(x * sp.log(x), x, 0, "+"),
        (sp.Limit(ratio, x, 0, "+"), r"$x \log x = \log x / (1/x)$: a $-\infty / \infty$ form as $x \to 0^+$"),
        (sp.Limit(-x, x, 0, "+"), r"L'Hopital's rule: $(\log x)' / (1/x)' = (1/x) / (-1/x^2) = -x$"),
        (sp.S.Zero, r"$-x \to 0$: so $0 \log 0$ is taken to be $0$, the value that makes $x \log x$ continuous at $0$"),
        rule=simplified(),
    )


@CLAIMS.claim(
    "entropy.definition",
    "Entropy H(p) = -sum_j p_j log p_j is the expected surprisal",
    assumptions=_P,
    sympy_assumptions=_POSITIVE,
    sample=_distribution,
)
def _definition(size):
    return chain(
        entropy(p, size),
        (
            total(p[j] * sp.log(1 / p[j]), size),
            r"$\log(1/p) = -\log p$: $H(p)$ is the expected surprisal $\log(1/p_j)$",
        ),
        rule=by_scope(size),
    )


@CLAIMS.claim(
    "entropy.fair_coin",
    "Worked example: H(1/2, 1/2) = log 2",
    assumptions=(r"two outcomes with probability $\frac{1}{2}$ each",),
    sympy_assumptions=_NUMBERS,
    **_TWO_OUTCOMES,
)
def _fair_coin(size):
    half = sp.S.Half
    return chain(
        entropy_of([half, half]),
        (-_unevaluated_log(half), r"two equal terms: $2 \cdot \frac{1}{2} \log \frac{1}{2} = \log \frac{1}{2}$"),
        (sp.log(2), r"$\log \frac{1}{2} = -\log 2$: one fair coin toss carries $\log 2$ nats (1 bit)"),
        rule=simplified(),
    )


def _biased_coin_exact():
    tenth, rest = sp.Rational(1, 10), sp.Rational(9, 10)
    return [
        (
            -tenth * _unevaluated_log(tenth) - rest * _unevaluated_log(rest),
            r"both probabilities are positive: each term is $p \log p$",
        ),
        (
            sp.log(10) - rest * sp.log(9),
            r"$\log \frac{1}{10} = -\log 10$, $\log \frac{9}{10} = \log 9 - \log 10$, "
            r"and $\frac{1}{10} + \frac{9}{10} = 1$",
        ),
    ]


@CLAIMS.claim(
    "entropy.biased_coin",
    "Worked example: H(1/10, 9/10) = log 10 - (9/10) log 9",
    assumptions=(_COIN,),
    sympy_assumptions=_NUMBERS,
    **_TWO_OUTCOMES,
)
def _biased_coin(size):
    return chain(entropy_of([sp.Rational(1, 10), sp.Rational(9, 10)]), *_biased_coin_exact(), rule=simplified())


#: The decimal of H(0.1, 0.9) to 15 places, as shown in the worked example; the claim checks it.
BIASED_COIN_DECIMAL = sp.Float("0.325082973391448", 15)


def _distance(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """|a - b|, kept as written for reading (``doit`` evaluates it)."""
    return sp.Abs(sp.Add(*sp.Add.make_args(a), -b, evaluate=False), evaluate=False)


@CLAIMS.claim(
    "entropy.biased_coin_decimal",
    "Worked example: H(0.1, 0.9) = 0.325082973391448 to 15 places",
    assumptions=(_COIN, "the decimal is rounded to 15 places"),
    sympy_assumptions=(*_NUMBERS, "evaluated with mpmath at 30 significant digits (strict)"),
    **_TWO_OUTCOMES,
)
def _biased_coin_decimal(size):
    exact = _biased_coin_exact()[-1][0]
    return chain(
        _distance(entropy_of([sp.Rational(1, 10), sp.Rational(9, 10)]), BIASED_COIN_DECIMAL),
        (
            _distance(exact, BIASED_COIN_DECIMAL),
            r"$H(\frac{1}{10}, \frac{9}{10}) = \log 10 - \frac{9}{10} \log 9$ (`entropy.biased_coin`)",
        ),
        (
            sp.Float("5e-16", 15),
            "evaluated to 30 digits: the decimal is within half a unit of its 15th place",
            numerically(30),
            "<=",
        ),
        rule=simplified(),
    )


@CLAIMS.claim(
    "entropy.certain_event",
    "A certain event has no entropy: H(e_t) = 0 (by the limit, not nan)",
    assumptions=(r"$p = e_t$: $p_t = 1$ and $p_j = 0$ for $j \ne t$", r"$0 \log 0 = 0$, the limit of $x \log x$"),
    sympy_assumptions=("t integer, 1 <= t <= n", "0 log 0 evaluated by sympy.limit"),
    sample=_nothing,
)
def _certain_event(size):
    delta = sp.KroneckerDelta(j, t)
    entries = sp.Piecewise((XLogX(sp.S.One), sp.Eq(j, t)), (XLogX(sp.S.Zero), True))
    return chain(
        -total(XLogX(delta), size),
        (-total(entries, size), r"each entry of $e_t$ is $1$ ($j = t$) or $0$ ($j \ne t$)"),
        (
            sp.S.Zero,
            r"$1 \log 1 = 0$, and $0 \log 0 = \lim_{x \to 0^+} x \log x = 0$ (`entropy.zero_log_zero`), not `nan`",
        ),
        rule=by_scope(size),
        indices=(t,),
    )


@CLAIMS.claim(
    "entropy.lower_bound",
    "Entropy is nonnegative: H(p) >= 0",
    assumptions=(*_P, r"hence every $p_j \le 1$"),
    sympy_assumptions=(*_POSITIVE, "p[j] <= 1, as p[j] = 1/(1 + s[j]) with s[j] nonnegative"),
    sample=_distribution,
)
def _lower_bound(size):
    return chain(
        entropy(p, size),
        (total(p[j] * sp.log(1 / p[j]), size), r"$\log(1/p) = -\log p$", by_scope(size)),
        (
            sp.S.Zero,
            r"$p_j \le 1$, so $\log(1/p_j) \ge 0$ and each term $p_j \log(1/p_j) \ge 0$; "
            r"a sum of nonnegative terms is $\ge 0$",
            _probabilities_at_most_one,
            ">=",
        ),
        rule=by_scope(size),
    )


@CLAIMS.claim(
    "entropy.uniform",
    "The uniform distribution has entropy log n",
    assumptions=(r"$u_j = 1/n$ for every $j$",),
    sympy_assumptions=("n positive integer",),
    sample=_nothing,
)
def _uniform(size):
    return chain(
        -total(XLogX(sp.S.One / size), size),
        (
            -_unevaluated_log(sp.S.One / size),
            r"$n$ equal terms $\frac{1}{n} \log \frac{1}{n}$ add up to $\log \frac{1}{n}$",
        ),
        (sp.log(size), r"$\log \frac{1}{n} = -\log n$: the uniform distribution attains the bound $H \le \log n$"),
        rule=by_scope(size),
    )
