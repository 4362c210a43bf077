"""Splitting the vocabulary: cross-entropy when each device holds a contiguous range of the classes.

    shard.lse_of_parts        LSE(z) = log(exp LSE(z_A) + exp LSE(z_B)): the log-sum-exp of the parts' LSEs
    shard.max_of_parts        max_j z_j = max(max z_A, max z_B): the row max is the max of the parts' maxima
    shard.shifted_sum         sum_j exp(z_j - m) = d_A + d_B, each part's sum shifted by the same global m
    shard.softmax_on_shard    softmax_k(z) = exp(z_k - LSE(z)) for k in a part: its logit and one global number
    shard.local_gradient      d loss / dz_k = (sum_j q_j) exp(z_k - LSE) - q_k: no communication in backward
    shard.target_logit        z_t = sum over parts of [t in the part] z_t: exactly one part holds the target
    shard.weighted_sums       sum_j q_j (LSE - z_j) = the parts' sums: smoothing's uniform term, a probability
                              target's dot product and the class weights' sum split with their columns
    shard.moved_sum           sum_{j in A} q_j (c - z_j) + (sum_{j in A} q_j)(LSE - c) = sum_{j in A} q_j (LSE - z_j)
                              for any c: a part's sum taken relative to its own LSE moves to the global one

The classes 1..n are split after class a (1 <= a < n, any a: shards may be uneven); any number of parts
follows by splitting again. q_j are the target's coefficients of every kind at once (q_j = w_t [j = t] for a
weighted index, (1 - eps) w_t [j = t] + eps w_j / C with label smoothing, w_j y_j for probabilities;
ce.weighted_prob_gradient), so one set of claims covers each option.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import merged, scoped
from derivations.engine.samplers import reals, scalar
from derivations.engine.symbols import LSE, j, k, total, z

PAGE = "vocab-parallel.md"
#: The last class of the first part: classes 1..a on one device, a+1..n on the next.
a = sp.Symbol("a", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
#: The target's coefficient of each class (every target kind at once), and the global shift m.
q = sp.IndexedBase("q", real=True)
m = sp.Symbol("m", real=True)
#: The shift a part's sums are taken relative to (its own LSE, in the kernels).
c = sp.Symbol("c", real=True)
t = sp.Symbol("t", integer=True, positive=True)

CLAIMS = Claims(
    __name__,
    page=PAGE,
    assumptions=(
        r"logits $z_j$ real, classes $1..n$ split after class $a$, $1 \le a < n$ (any split: uneven shards)",
        r"the target's coefficients $q_j$ real (an index, smoothed, weighted or probability target)",
    ),
    sympy_assumptions=("z, q = IndexedBase(..., real=True)", "n, a: integer, positive; sums merged by simplify"),
    general=True,
    concrete=(),
    sample=lambda size, rng: _sample(size, rng),
)
claims = CLAIMS.list


def _part(body, low, high) -> sp.Expr:
    return sp.Sum(body, (j, low, high))


def _sample(size, rng) -> dict:
    classes = 6
    values = {n: sp.Integer(classes), a: sp.Integer(int(rng.integers(1, classes)))}
    values.update({**reals(z, classes, rng), **reals(q, classes, rng)})
    values.update({**scalar(m, rng, -3, 3), **scalar(c, rng, -3, 3)})
    return {
        **values,
        k: sp.Integer(int(rng.integers(1, classes + 1))),
        t: sp.Integer(int(rng.integers(1, classes + 1))),
    }


def _lse(low, high) -> sp.Expr:
    return sp.log(_part(sp.exp(z[j]), low, high))


@CLAIMS.claim("shard.lse_of_parts", "The log-sum-exp of a split row is the log-sum-exp of its parts' log-sum-exps")
def lse_of_parts(size) -> Derivation:
    return chain(
        _lse(1, n),
        (sp.log(_part(sp.exp(z[j]), 1, a) + _part(sp.exp(z[j]), a + 1, n)), "the sum over 1..n splits after a"),
        (sp.log(sp.exp(_lse(1, a)) + sp.exp(_lse(a + 1, n))), "each part's sum is exp of its own LSE"),
        rule=merged,
    )


@CLAIMS.claim(
    "shard.max_of_parts",
    "The row max is the max of the parts' maxima (the shift each device agrees on)",
    general=False,
    concrete=(2, 3, 4, 5, 6),
)
def max_of_parts(size) -> Derivation:
    cut = max(1, size // 2)
    whole = sp.Max(*[z[c] for c in range(1, size + 1)])
    parts = sp.Max(sp.Max(*[z[c] for c in range(1, cut + 1)]), sp.Max(*[z[c] for c in range(cut + 1, size + 1)]))
    return chain(whole, (parts, "max is associative: the parts' maxima, then their max"), rule=lambda x, y: x - y)


@CLAIMS.claim("shard.shifted_sum", "With one global shift m, the shifted sum d is the sum of the parts' shifted sums")
def shifted_sum(size) -> Derivation:
    d = _part(sp.exp(z[j] - m), 1, n)
    return chain(
        sp.log(d) + m,
        (sp.log(_part(sp.exp(z[j] - m), 1, a) + _part(sp.exp(z[j] - m), a + 1, n)) + m, "d_A + d_B"),
        (_lse(1, n), "exp(z_j - m) = exp(z_j) exp(-m): m + log d = LSE for every m"),
        rule=lambda x, y: merged(sp.expand(sp.expand_log(sp.powsimp(x), force=True)), sp.expand_log(y, force=True)),
    )


@CLAIMS.claim("shard.softmax_on_shard", "A shard's softmax needs its own logits and the global LSE only")
def softmax_on_shard(size) -> Derivation:
    whole = sp.exp(z[k]) / _part(sp.exp(z[j]), 1, n)
    return chain(
        whole,
        (
            sp.exp(z[k] - sp.log(sp.exp(_lse(1, a)) + sp.exp(_lse(a + 1, n)))),
            "softmax = exp(z_k - LSE); shard.lse_of_parts",
        ),
        rule=lambda x, y: merged(sp.powsimp(sp.expand_log(x, force=True)), sp.simplify(y)),
    )


@CLAIMS.claim(
    "shard.local_gradient",
    "The gradient on a shard needs its logits and target coefficients, sum_j q_j and the global LSE only",
)
def local_gradient(size) -> Derivation:
    loss = total(q[j] * (LSE(z, n) - z[j]), n)
    coefficient = _part(q[j], 1, a) + _part(q[j], a + 1, n)  # sum_j q_j, summed by the devices in forward
    return chain(
        sp.Derivative(loss, z[k]),
        (
            total(q[j], n) * sp.exp(z[k] - LSE(z, n)) - q[k],
            "ce.weighted_prob_gradient (1 <= k <= n)",
            scoped(n, k, explicit_lse=False),
        ),
        (coefficient * sp.exp(z[k] - LSE(z, n)) - q[k], "sum_j q_j is the sum of the parts' sums"),
        rule=merged,
        indices=(k,),
    )


@CLAIMS.claim(
    "shard.target_logit",
    "The target's logit comes from exactly one shard: z_t = sum over shards of [t in the shard] z_t",
    general=False,
    concrete=(2, 3, 4, 5, 6),
)
def target_logit(size) -> Derivation:
    cut = max(1, size // 2)
    target = t
    inside = lambda low, high: sp.Piecewise((1, (target >= low) & (target <= high)), (0, True))  # noqa: E731
    return chain(
        sp.Add(*[sp.KroneckerDelta(target, c) * z[c] for c in range(1, size + 1)]),
        (
            inside(1, cut) * sp.Add(*[sp.KroneckerDelta(target, c) * z[c] for c in range(1, cut + 1)])
            + inside(cut + 1, size) * sp.Add(*[sp.KroneckerDelta(target, c) * z[c] for c in range(cut + 1, size + 1)]),
            "a shard adds z_t only when t lies in its range; the ranges partition 1..n",
        ),
        rule=lambda x, y: (
            sp.S.Zero if all(sp.simplify((x - y).subs(target, c)) == 0 for c in range(1, size + 1)) else x - y
        ),
    )


def _every_target(rest, target, size):
    """0 when rest vanishes for every target t in 1..n, else rest (what remains)."""
    return sp.S.Zero if all(sp.simplify(rest.subs(target, c)) == 0 for c in range(1, size + 1)) else rest


@CLAIMS.claim(
    "shard.weighted_sums",
    "The loss's row sum, sum_j q_j (LSE - z_j), is the sum of the shards' sums (smoothing, probabilities, weights)",
)
def weighted_sums(size) -> Derivation:
    body = q[j] * (LSE(z, n) - z[j])
    return chain(
        _part(body, 1, n),
        (_part(body, 1, a) + _part(body, a + 1, n), "a sum over 1..n splits after a; LSE is the global one"),
        rule=merged,
    )


@CLAIMS.claim(
    "shard.moved_sum",
    "A part's sum relative to any shift c, sum q_j (c - z_j), moves to the global LSE by adding (sum q_j)(LSE - c)",
)
def moved_sum(size) -> Derivation:
    return chain(
        _part(q[j] * (LSE(z, n) - z[j]), 1, a),
        (
            _part(q[j] * (c - z[j]), 1, a) + _part(q[j], 1, a) * (LSE(z, n) - c),
            "LSE - z_j = (c - z_j) + (LSE - c); the second term is the same for every j of the part",
        ),
        rule=merged,
    )
