"""Gibbs' inequality D_KL(p || q) >= 0, as a certificate, and what follows from it.

    gibbs.lemma            g(x) = x - 1 - log x >= 0 for x > 0 (minimum g(1) = 0)
    gibbs.identity         D_KL(p || q) = sum_j p_j g(q_j / p_j)   if sum p = sum q = 1
    gibbs.inequality       D_KL(p || q) >= 0   (closure: a sum of nonnegative terms)
    gibbs.same_minimiser   d/dq_k [H(p, q) - D_KL(p || q)] = d/dq_k H(p) = 0
    gibbs.one_hot          H(e_t) = 0 and H(e_t, q) = D_KL(e_t || q) = -log q_t
    entropy.upper_bound    H(p) = log n - D_KL(p || u) <= log n   (u the uniform distribution)

SymPy cannot decide D_KL >= 0 directly (``is_nonnegative`` is None), so the claim is a certificate
of three parts. The lemma and the identity are computed. The closure goes through SymPy's
assumptions system: the term function ``GibbsTerm`` declares g(x) >= 0 for x > 0. That declaration
is a human link, equal to the lemma that SymPy proves (the lemma's expression is
``GibbsTerm(x).doit()``); every claim that relies on it lists it in ``Claim.declared``.

Over q, minimising the cross-entropy is then minimising the divergence; a one-hot p = e_t is not strictly
positive (its zero entries use 0 log 0 = 0, the limit). Pages: ``cross-entropy-kl.md``, and ``entropy.md``
for the upper bound. Scopes: general n and n = 2..8, except the lemma, which has no n (one derivation).
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import chain, is_general
from derivations.engine.registry import Claims
from derivations.engine.rules import by_scope, sums, sums_in_range
from derivations.engine.rules_concrete import simplified, unroll_sums
from derivations.engine.rules_inequality import minimum, nonnegative
from derivations.engine.samplers import simplex
from derivations.engine.symbols import j, k, p, q, t, total
from derivations.topics.information import CE_KL_PAGE, ENTROPY_PAGE, XLogX, cross_entropy, entropy, kl_divergence

#: The lemma's variable: a ratio q_j / p_j of positive probabilities.
ratio = sp.Symbol("x", positive=True)

#: The declared link of the certificate, recorded in the data of every claim that uses it.
DECLARED_TERM = (
    "GibbsTerm declares g(x) = x - 1 - log x >= 0 for x > 0 to SymPy's assumptions system; "
    "this is the lemma gibbs.lemma, which SymPy proves"
)


def gibbs_term(v: sp.Expr) -> sp.Expr:
    """g(v) = v - 1 - log v: the tangent line of log at 1 minus log (log is concave)."""
    return v - 1 - sp.log(v)


class GibbsTerm(sp.Function):
    """g(v) = v - 1 - log v as one symbol whose nonnegativity (for v > 0) is declared; ``doit`` writes it out."""

    nargs = 1

    def _eval_is_nonnegative(self):
        # declared: g(v) >= 0 for v > 0 (the lemma gibbs.lemma)
        return True if self.args[0].is_positive else None

    def doit(self, deep: bool = True, **hints) -> sp.Expr:
        v = self.args[0].doit(deep=deep, **hints) if deep else self.args[0]
        return gibbs_term(v)

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        return rf"g\left({arg}\right)" if exp is None else rf"g^{{{exp}}}\left({arg}\right)"


def _normalised(size, *bases: sp.IndexedBase):
    """Links that use sum_j b_j = 1 for each base: as a sum (general n) or b_n = 1 - sum_{i<n} b_i."""
    if is_general(size):
        return sums(*[(total(b[j], size), 1) for b in bases])
    subs = {b[size]: 1 - sum(b[i] for i in range(1, size)) for b in bases}

    def rule(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        # the logarithms cancel first; b_n is eliminated only from what is left (linear in b)
        d = sp.expand(sp.expand_log((a - b).doit()), power_exp=False)
        return sp.expand(d.xreplace(subs))

    return rule


def _unfold_g(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """Show a = b after writing every g(v) out as v - 1 - log v (no other evaluation needed)."""

    def unfold(e: sp.Basic) -> sp.Basic:
        return e.replace(lambda v: isinstance(v, GibbsTerm), lambda v: gibbs_term(v.args[0]))

    return sums()(unfold(a), unfold(b))


def _at_most(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """a <= b, shown as b - a >= 0 by the assumptions system."""
    return nonnegative(b, a)


def _two_distributions(size, rng):
    return {**simplex(p, size, rng), **simplex(q, size, rng)}


_PQ = (r"$p$ and $q$ are probability vectors: every entry $> 0$, $\sum_j p_j = \sum_j q_j = 1$",)
_PQ_SYMPY = ("p[j] positive", "q[j] positive", "Sum(p[j], (j, 1, n)) = 1", "Sum(q[j], (j, 1, n)) = 1")

CLAIMS = Claims(__name__, page=CE_KL_PAGE, assumptions=_PQ, sympy_assumptions=_PQ_SYMPY, sample=_two_distributions)
claims = CLAIMS.list


@CLAIMS.claim(
    "gibbs.lemma",
    "Gibbs' lemma: x - 1 - log x >= 0 for x > 0, with equality only at x = 1",
    assumptions=(r"$x > 0$",),
    sympy_assumptions=("x positive",),
    sample=lambda size, rng: {ratio: sp.Rational(int(rng.integers(1, 10**6)), 10**5)},
    concrete=(),
)
def _lemma(size):
    return chain(
        GibbsTerm(ratio).doit(),
        (
            GibbsTerm(sp.S.One),
            r"$g'(x) = 1 - 1/x$ is $0$ only at $x = 1$ and $g''(x) = 1/x^2 > 0$ ($g$ is strictly convex; "
            r"$g \to \infty$ at $0^+$ and at $\infty$): the global minimum on $(0, \infty)$ is $g(1)$",
            minimum(ratio, 1),
            ">=",
        ),
        (sp.S.Zero, r"$g(1) = 1 - 1 - \log 1 = 0$"),
        rule=simplified(),
    )


def _identity_steps(size, model):
    """D_KL(p || q) = sum_j p_j (q_j/p_j - 1 - log(q_j/p_j)) for normalised p and q (model: j -> q_j)."""
    rule = _normalised(size, *([p, q] if model(j) == q[j] else [p]))
    kl = total(p[j] * sp.log(p[j] / model(j)), size)
    zero = sp.Add(total(model(j), size), -total(p[j], size), evaluate=False)
    return [
        (sp.Add(kl, zero, evaluate=False), r"add $\sum_j q_j - \sum_j p_j = 1 - 1 = 0$", rule),
        (
            total(p[j] * gibbs_term(model(j) / p[j]), size),
            r"one sum: $q_j = p_j (q_j/p_j)$ and $\log(p_j/q_j) = -\log(q_j/p_j)$",
            rule,
        ),
    ]


@CLAIMS.claim("gibbs.identity", "Gibbs' identity: D_KL(p || q) = sum_j p_j g(q_j / p_j), g(x) = x - 1 - log x")
def _identity(size):
    return chain(kl_divergence(p, q, size), *_identity_steps(size, lambda i: q[i]), rule=sums())


@CLAIMS.claim("gibbs.inequality", "Gibbs' inequality: D_KL(p || q) >= 0", declared=(DECLARED_TERM,))
def _inequality(size):
    return chain(
        kl_divergence(p, q, size),
        (*_identity_steps(size, lambda i: q[i])[-1][:2], _normalised(size, p, q)),
        (total(p[j] * GibbsTerm(q[j] / p[j]), size), r"$g(x) = x - 1 - \log x$", _unfold_g),
        (
            sp.S.Zero,
            r"$p_j > 0$ and $g(q_j/p_j) \ge 0$ (`gibbs.lemma`, declared to SymPy): every term is nonnegative, "
            "and so is their sum",
            nonnegative,
            ">=",
        ),
        rule=sums(),
    )


@CLAIMS.claim(
    "gibbs.same_minimiser",
    "Over q, minimising H(p, q) is minimising D_KL(p || q)",
    assumptions=(r"$p$ and $q$ have positive entries", r"$k$ is any class, $1 \le k \le n$"),
    sympy_assumptions=("p[j] positive", "q[j] positive", "k integer, 1 <= k <= n"),
)
def _same_minimiser(size):
    gap, own = cross_entropy(p, q, size) - kl_divergence(p, q, size), entropy(p, size)
    if not is_general(size):  # written out once, not once per class k
        gap, own = gap.doit(), own.doit()
    return chain(
        sp.Derivative(gap, q[k]),
        (sp.Derivative(own, q[k]), r"$H(p, q) - D_{\mathrm{KL}}(p \,\|\, q) = H(p)$ (`ce.decomposition`)"),
        (sp.S.Zero, r"$H(p)$ does not depend on $q$: the two objectives differ by a constant in $q$"),
        rule=by_scope(size),
        indices=(k,),
    )


@CLAIMS.claim(
    "gibbs.one_hot",
    "For a one-hot p = e_t: H(p) = 0 and H(p, q) = D_KL(p || q) = -log q_t",
    assumptions=(
        r"$p = e_t$: $p_t = 1$, $p_j = 0$ for $j \ne t$ ($0 \log 0 = 0$, the limit)",
        r"$q$ has positive entries",
    ),
    sympy_assumptions=("q[j] positive", "t integer, 1 <= t <= n"),
    sample=lambda size, rng: simplex(q, size, rng),
)
def _one_hot(size):
    delta = sp.KroneckerDelta(j, t)
    out = (lambda e: e) if is_general(size) else unroll_sums  # concrete n: sums written out once, not once per t
    return chain(
        out(total(XLogX(delta) - delta * sp.log(q[j]), size)),
        (
            out(sp.Add(total(XLogX(delta), size), -total(delta * sp.log(q[j]), size), evaluate=False)),
            r"linearity: $D_{\mathrm{KL}}(e_t \,\|\, q) = -H(e_t) + H(e_t, q)$",
        ),
        (
            out(-total(delta * sp.log(q[j]), size)),
            r"$H(e_t) = 0$: $1 \log 1 = 0$ and $0 \log 0 = 0$ (`entropy.certain_event`)",
        ),
        (-sp.log(q[t]), r"only the $j = t$ term of $H(e_t, q)$ survives"),
        rule=sums_in_range(size, t) if is_general(size) else simplified(),
        indices=(t,),
    )


@CLAIMS.claim(
    "entropy.upper_bound",
    "Entropy is at most log n, the uniform distribution's",
    assumptions=(r"$p$ is a probability vector: every $p_j > 0$, $\sum_j p_j = 1$",),
    sympy_assumptions=("p[j] positive", "Sum(p[j], (j, 1, n)) = 1", "n positive integer"),
    sample=lambda size, rng: simplex(p, size, rng),
    declared=(DECLARED_TERM,),
    page=ENTROPY_PAGE,
)
def _upper_bound(size):
    uniform = sp.S.One / size
    return chain(
        entropy(p, size),
        (
            sp.log(size) - total(p[j] * sp.log(p[j] / uniform), size),
            r"$\log(p_j / (1/n)) = \log p_j + \log n$ and $\sum_j p_j = 1$: "
            r"$H(p) = \log n - D_{\mathrm{KL}}(p \,\|\, u)$",
            _normalised(size, p),
        ),
        (
            sp.log(size) - _identity_steps(size, lambda i: uniform)[-1][0],
            r"Gibbs' identity with $q = u$ (`gibbs.identity`)",
            _normalised(size, p),
        ),
        (sp.log(size) - total(p[j] * GibbsTerm(uniform / p[j]), size), r"$g(x) = x - 1 - \log x$", _unfold_g),
        (
            sp.log(size),
            r"every $p_j \, g(1/(n p_j)) \ge 0$ (`gibbs.lemma`, declared): "
            r"$D_{\mathrm{KL}}(p \,\|\, u) \ge 0$, with equality at $p = u$",
            _at_most,
            "<=",
        ),
        rule=sums(),
    )
