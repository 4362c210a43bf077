"""kl_div and the information quantities, pointwise, with 0 log 0 = 0 (xlogy).

kl_div(x = log q, p)   p (log p - x) = xlogy(p, p) - p x, 0 where p = 0              (kernel.kl_div)
its gradients          -p w.r.t. x; log p + 1 - x w.r.t. p          (kernel.kl_div_grad, kernel.kl_div_target_grad)
log_target, lp = log p exp(lp) (lp - x), lp <= 0 so exp(lp) <= 1                  (kernel.kl_div_log_target)
its gradients          -exp(lp); exp(lp) (lp - x + 1)
                                        (kernel.kl_div_log_target_grad, kernel.kl_div_log_target_target_grad)
H(p) = -sum_j xlogy(p_j, p_j)                                                        (kernel.entropy_term)
H(p, q) = -sum_j xlogy(p_j, q_j)                                               (kernel.cross_entropy_term)
D_KL = sum_j xlogy(p_j, p_j) - xlogy(p_j, q_j)                                      (kernel.kl_term)
xlogy(0, y) = 0: the continuous extension, x log x -> 0 as x -> 0+                 (kernel.xlogy)
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.kernel import LP, G, Kernel, P, Q, X, XLogY, substitute
from derivations.engine import rules, rules_concrete
from derivations.engine.core import Claim, chain
from derivations.engine.samplers import positives, simplex
from derivations.engine.symbols import j, p, q, total

PAGE = "kernels.md"
pp = sp.Symbol("p", positive=True)  # a positive probability inside the claims
xx = sp.Symbol("x", real=True)  # the kl_div input log q inside the claims
rr = sp.Symbol("r", real=True)  # a log-probability target inside the claims


def kernels() -> list[Kernel]:
    """Every kl_div and information-quantity kernel, in emission order."""
    return [
        Kernel(
            "kl_div_term",
            XLogY(P, P) - P * X,
            (X, P),
            "kernel.kl_div",
            "kl_div pointwise: p (log p - x), 0 where p = 0.",
        ),
        Kernel(
            "kl_div_log_target_term",
            sp.exp(LP) * (LP - X),
            (X, LP),
            "kernel.kl_div_log_target",
            "kl_div pointwise, log target.",
        ),
        Kernel("kl_div_grad", -G * P, (P, G), "kernel.kl_div_grad", "kl_div gradient w.r.t. the input."),
        Kernel(
            "kl_div_log_target_grad",
            -G * sp.exp(LP),
            (LP, G),
            "kernel.kl_div_log_target_grad",
            "kl_div (log target) input gradient.",
        ),
        Kernel(
            "kl_div_target_grad",
            G * (sp.log(P) + 1 - X),
            (X, P, G),
            "kernel.kl_div_target_grad",
            "kl_div gradient w.r.t. the target.",
        ),
        Kernel(
            "kl_div_log_target_target_grad",
            G * sp.exp(LP) * (LP - X + 1),
            (X, LP, G),
            "kernel.kl_div_log_target_target_grad",
            "Log-target gradient.",
        ),
        Kernel(
            "entropy_term",
            -XLogY(P, P),
            (P,),
            "kernel.entropy_term",
            "Entropy term -xlogy(p, p); summed along the axis.",
        ),
        Kernel(
            "cross_entropy_term", -XLogY(P, Q), (P, Q), "kernel.cross_entropy_term", "Cross-entropy term -xlogy(p, q)."
        ),
        Kernel("kl_term", XLogY(P, P) - XLogY(P, Q), (P, Q), "kernel.kl_term", "KL term xlogy(p, p) - xlogy(p, q)."),
    ]


def forms() -> dict[str, sp.Expr]:
    """name -> stable expression (the emitted math), as the claims use it."""
    return {k.name: k.expr for k in kernels()}


def _compare(a, b):
    return rules_concrete.zero_remainder(sp.expand_log((a - b).doit(), force=True))


def _pointwise(log_target: bool = False) -> sp.Expr:
    """The textbook pointwise KL term p log(p / q) with the input x = log q (and p = exp(r))."""
    prob = sp.exp(rr) if log_target else pp
    return prob * (sp.log(prob) - xx)


def _claim(cid, title, build, sample, concrete=(), extra=()) -> Claim:
    return Claim(
        id=cid,
        title=title,
        build=build,
        assumptions=("probabilities positive (0 is the xlogy limit, kernel.xlogy)", *extra),
        sympy_assumptions=("p positive", "x real", "r real"),
        sample=sample,
        concrete=concrete,
        page=PAGE,
    )


def _scalars(n, rng) -> dict:
    def draw(low, high):
        return sp.Rational(float(rng.uniform(low, high))).limit_denominator(10**9)

    return {pp: draw(0.01, 1), xx: draw(-5, 0), rr: draw(-5, 0), G: draw(-2, 2)}


def _vectors(n, rng) -> dict:
    return {**simplex(p, n, rng), **positives(q, n, rng, high=1.0)}


def _scalar_claim(cid, title, lhs, emitted, why, extra=()):
    def build(n):
        return chain(lhs, (substitute(emitted, {P: pp, X: xx, LP: rr}), why), rule=_compare)

    return _claim(cid, title, build, _scalars, extra=extra)


def _sum_claim(cid, title, lhs, emitted, why):
    def build(n):
        return chain(lhs(n), (total(substitute(emitted, {P: p[j], Q: q[j]}), n), why), rule=rules.by_scope(n))

    return _claim(cid, title, build, _vectors, concrete=(2, 3, 4), extra=("q positive",))


def claims() -> list[Claim]:
    f = forms()
    kl, kl_log = _pointwise(), _pointwise(log_target=True)
    log_p = ("the target is a log-probability, lp <= 0",)
    x0 = sp.Symbol("x", positive=True)
    limit = sp.Limit(x0 * sp.log(x0), x0, 0, "+")
    return [
        _claim(
            "kernel.xlogy",
            "0 log 0 = 0 is the limit of x log x",
            lambda n: chain(
                limit,
                (XLogY(sp.S.Zero, x0), "x log x -> 0 as x -> 0+ (entropy.zero_log_zero); xlogy(0, y) = 0"),
                rule=_compare,
            ),
            lambda n, rng: {},
        ),
        _scalar_claim(
            "kernel.kl_div",
            "kl_div pointwise: xlogy(p, p) - p x",
            kl,
            f["kl_div_term"],
            "p log(p / q) with x = log q; xlogy(p, p) = p log p for p > 0 (information.kl_divergence)",
        ),
        _scalar_claim(
            "kernel.kl_div_log_target",
            "kl_div pointwise with a log target",
            kl_log,
            f["kl_div_log_target_term"],
            "p = exp(lp)",
            log_p,
        ),
        _scalar_claim(
            "kernel.kl_div_grad",
            "kl_div gradient w.r.t. the input: -p",
            G * sp.diff(kl, xx),
            f["kl_div_grad"],
            "d/dx of p (log p - x)",
        ),
        _scalar_claim(
            "kernel.kl_div_log_target_grad",
            "kl_div (log target) input gradient",
            G * sp.diff(kl_log, xx),
            f["kl_div_log_target_grad"],
            "d/dx of exp(lp) (lp - x)",
            log_p,
        ),
        _scalar_claim(
            "kernel.kl_div_target_grad",
            "kl_div gradient w.r.t. the target",
            G * sp.diff(kl, pp),
            f["kl_div_target_grad"],
            "d/dp of p (log p - x)",
        ),
        _scalar_claim(
            "kernel.kl_div_log_target_target_grad",
            "kl_div (log target) target gradient",
            G * sp.diff(kl_log, rr),
            f["kl_div_log_target_target_grad"],
            "d/dlp of exp(lp) (lp - x)",
            log_p,
        ),
        _sum_claim(
            "kernel.entropy_term",
            "Entropy as a sum of xlogy terms",
            lambda n: -total(p[j] * sp.log(p[j]), n),
            f["entropy_term"],
            "H(p) = -sum_j p_j log p_j (entropy.definition)",
        ),
        _sum_claim(
            "kernel.cross_entropy_term",
            "Cross-entropy as a sum of xlogy terms",
            lambda n: -total(p[j] * sp.log(q[j]), n),
            f["cross_entropy_term"],
            "H(p, q) = -sum_j p_j log q_j (information.cross_entropy)",
        ),
        _sum_claim(
            "kernel.kl_term",
            "KL divergence as a sum of xlogy terms",
            lambda n: total(p[j] * sp.log(p[j] / q[j]), n),
            f["kl_term"],
            "D_KL(p || q) = sum_j p_j log(p_j / q_j) (information.kl_divergence)",
        ),
    ]
