"""Entropy: the definition, worked examples, the certain event and the bounds.

    H(p) = -sum_j p_j log p_j   (0 log 0 = 0, the limit of x log x as x -> 0+)
    H(1/2, 1/2) = log 2,   H(1/10, 9/10) = log 10 - (9/10) log 9 = 0.325082973391448...
    H(e_t) = 0,   H(p) >= 0,   H(1/n, ..., 1/n) = log n

H(p) <= log n rests on Gibbs' inequality and is claimed in ``derivations/gibbs.py``; the definitions
of H, H(p, q) and D_KL are in ``derivations/information.py``.

Scopes: the identities hold for a general number of classes n (a sum over the symbolic n) and are
checked again for n = 2..8. The worked examples are numbers about two outcomes (n = 2 only); the
limit 0 log 0 = 0 involves no n, so its one derivation is its general scope. The certain event
e_t (one entry 1, the others 0) is handled by the entropy term ``XLogX``, which evaluates 0 log 0
by the limit (never nan) and 1 log 1 = 0, so a one-hot distribution is covered in every scope.
"""

from __future__ import annotations

import sympy as sp

from derivations.core import Claim, chain
from derivations.information import ENTROPY_PAGE, XLogX, default_rule, entropy, entropy_of
from derivations.rules_concrete import simplified
from derivations.rules_inequality import nonnegative, numerically
from derivations.symbols import j, p, simplex, t, total, x


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
        (sp.Limit(ratio, x, 0, "+"), r"$x \log x = \log x / (1/x)$: a $-\infty / \infty$ form as $x \to 0^+$"),
        (sp.Limit(-x, x, 0, "+"), r"L'Hopital's rule: $(\log x)' / (1/x)' = (1/x) / (-1/x^2) = -x$"),
        (sp.S.Zero, r"$-x \to 0$: so $0 \log 0$ is taken to be $0$, the value that makes $x \log x$ continuous at $0$"),
        rule=simplified(),
    )


def _definition(size):
    return chain(
        entropy(p, size),
        (
            total(p[j] * sp.log(1 / p[j]), size),
            r"$\log(1/p) = -\log p$: $H(p)$ is the expected surprisal $\log(1/p_j)$",
        ),
        rule=default_rule(size),
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
        rule=default_rule(size),
        indices=(t,),
    )


def _lower_bound(size):
    return chain(
        entropy(p, size),
        (total(p[j] * sp.log(1 / p[j]), size), r"$\log(1/p) = -\log p$", default_rule(size)),
        (
            sp.S.Zero,
            r"$p_j \le 1$, so $\log(1/p_j) \ge 0$ and each term $p_j \log(1/p_j) \ge 0$; "
            r"a sum of nonnegative terms is $\ge 0$",
            _probabilities_at_most_one,
            ">=",
        ),
        rule=default_rule(size),
    )


def _uniform(size):
    return chain(
        -total(XLogX(sp.S.One / size), size),
        (
            -_unevaluated_log(sp.S.One / size),
            r"$n$ equal terms $\frac{1}{n} \log \frac{1}{n}$ add up to $\log \frac{1}{n}$",
        ),
        (sp.log(size), r"$\log \frac{1}{n} = -\log n$: the uniform distribution attains the bound $H \le \log n$"),
        rule=default_rule(size),
    )


def _distribution(size, rng):
    return simplex(p, size, rng)


def _nothing(size, rng):
    return {}


_P = (r"$p$ is a probability vector: every $p_j > 0$ and $\sum_j p_j = 1$",)
_POSITIVE = ("p[j] positive",)
_NUMBERS = ("no free symbols: exact rationals and logarithms",)


def claims() -> list[Claim]:
    at_most_one = "p[j] <= 1, as p[j] = 1/(1 + s[j]) with s[j] nonnegative"
    return [
        Claim(
            "entropy.zero_log_zero", "0 log 0 = 0: the limit of x log x as x -> 0+ is 0", _zero_log_zero,
            (r"$x > 0$, $x \to 0$ from above",), ("x real", "limit direction '+'"), _nothing,
            concrete=(), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.definition", "Entropy H(p) = -sum_j p_j log p_j is the expected surprisal", _definition,
            _P, _POSITIVE, _distribution, page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.fair_coin", "Worked example: H(1/2, 1/2) = log 2", _fair_coin,
            (r"two outcomes with probability $\frac{1}{2}$ each",), _NUMBERS, _nothing,
            general=False, concrete=(2,), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.biased_coin", "Worked example: H(1/10, 9/10) = log 10 - (9/10) log 9", _biased_coin,
            (r"two outcomes with probabilities $\frac{1}{10}$ and $\frac{9}{10}$",), _NUMBERS, _nothing,
            general=False, concrete=(2,), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.biased_coin_decimal", "Worked example: H(0.1, 0.9) = 0.325082973391448 to 15 places",
            _biased_coin_decimal,
            (
                r"two outcomes with probabilities $\frac{1}{10}$ and $\frac{9}{10}$",
                "the decimal is rounded to 15 places",
            ),
            (*_NUMBERS, "evaluated with mpmath at 30 significant digits (strict)"), _nothing,
            general=False, concrete=(2,), page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.certain_event", "A certain event has no entropy: H(e_t) = 0 (by the limit, not nan)",
            _certain_event,
            (r"$p = e_t$: $p_t = 1$ and $p_j = 0$ for $j \ne t$", r"$0 \log 0 = 0$, the limit of $x \log x$"),
            ("t integer, 1 <= t <= n", "0 log 0 evaluated by sympy.limit"), _nothing, page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.lower_bound", "Entropy is nonnegative: H(p) >= 0", _lower_bound,
            (*_P, r"hence every $p_j \le 1$"), (*_POSITIVE, at_most_one), _distribution, page=ENTROPY_PAGE,
        ),
        Claim(
            "entropy.uniform", "The uniform distribution has entropy log n", _uniform,
            (r"$u_j = 1/n$ for every $j$",), ("n positive integer",), _nothing, page=ENTROPY_PAGE,
        ),
    ]  # fmt: skip
