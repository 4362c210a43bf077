"""Two extras of language-model heads: the z-loss and logit soft-capping, and their gradients.

    ce.z_loss_gradient        d/dz_k [s LSE(z)^2] = 2 s LSE(z) softmax_k(z)                   (PaLM's z-loss)
    ce.z_loss_coefficient     dL/dz_k = (sum_j q_j + 2 s LSE) softmax_k - q_k  for L = sum_j q_j (LSE - z_j) + s LSE^2
    ce.softcap_derivative     d/dz [c tanh(z / c)] = 1 - (c tanh(z / c) / c)^2                (Gemma 2's soft-capping)
    ce.softcap_gradient       dL/dz_k = (softmax_k(z') - [k = t]) (1 - (z'_k / c)^2),  z' = c tanh(z / c)

The z-loss adds s LSE(z)^2 to every counted row (lse_square_scale = s, as PaLM and Liger-Kernel define it;
not class-weighted; 'mean' divides its sum by the number of counted rows). Its gradient only raises the row
coefficient of softmax_k, so the kernels fold it into the coefficient they already have
(ce.z_loss_coefficient). Soft-capping maps every logit to z' = c tanh(z / c) in (-c, c) before the loss; the
gradient is the capped logits' gradient times the derivative of the cap, which needs z' only. Page:
``linear-head.md``.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import scoped
from derivations.engine.rules_concrete import zero_remainder
from derivations.engine.samplers import reals, scalar
from derivations.engine.symbols import LSE, j, k, q, t, total, x, z

PAGE = "linear-head.md"
#: lse_square_scale, the z-loss weight s; softcap, the cap c.
s = sp.Symbol("s", positive=True)
cap = sp.Symbol("c", positive=True)
LOGITS = (r"the logits $z_1, \dots, z_n$ are real", r"the class index $k$ lies in $\{1, \dots, n\}$")
SYMPY_LOGITS = ("z = IndexedBase('z', real=True)", "k: integer, positive; Q.le(k, n) asserted by refine")


def _sample(size, rng) -> dict:
    values = {**reals(z, size, rng), **reals(q, size, rng), **scalar(s, rng, 1e-4, 1), **scalar(cap, rng, 1, 30)}
    return {**values, **scalar(x, rng, -40, 40), t: sp.Integer(int(rng.integers(1, size + 1)))}


CLAIMS = Claims(
    __name__,
    page=PAGE,
    assumptions=LOGITS,
    sympy_assumptions=(*SYMPY_LOGITS, "s, c: positive"),
    sample=_sample,
    concrete=(2, 3, 4),
)
claims = CLAIMS.list


def softmax_via_lse(cls, size) -> sp.Expr:
    return sp.exp(z[cls] - LSE(z, size))


@CLAIMS.claim("ce.z_loss_gradient", "The z-loss gradient: d/dz_k [s LSE(z)^2] = 2 s LSE(z) softmax_k(z)")
def z_loss_gradient(size) -> Derivation:
    return chain(
        sp.Derivative(s * LSE(z, size) ** 2, z[k]),
        (
            2 * s * LSE(z, size) * softmax_via_lse(k, size),
            r"$\frac{d}{dz_k} s \operatorname{LSE}^2 = 2 s \operatorname{LSE} \frac{\partial \operatorname{LSE}}"
            r"{\partial z_k}$, and $\frac{\partial \operatorname{LSE}}{\partial z_k} = \operatorname{softmax}_k(z)$ "
            "(`softmax.lse_gradient`)",
        ),
        rule=scoped(size, k, explicit_lse=False),
        indices=(k,),
    )


@CLAIMS.claim(
    "ce.z_loss_coefficient",
    "With the z-loss the gradient keeps its form: (sum_j q_j + 2 s LSE) softmax_k - q_k",
    assumptions=(*LOGITS, r"the target's coefficients $q_j$ are real (any target kind, as in `linear.input_gradient`)"),
)
def z_loss_coefficient(size) -> Derivation:
    lse = LSE(z, size)
    loss = total(q[j] * (lse - z[j]), size) + s * lse**2
    return chain(
        sp.Derivative(loss, z[k]),
        (
            (total(q[j], size) + 2 * s * lse) * softmax_via_lse(k, size) - q[k],
            r"`ce.weighted_prob_gradient` plus `ce.z_loss_gradient`: both are multiples of "
            r"$\operatorname{softmax}_k(z)$, so the z-loss only raises the row's coefficient",
        ),
        rule=scoped(size, k, explicit_lse=False),
        indices=(k,),
    )


def _tanh_rule(a, b) -> sp.Expr:
    return zero_remainder(sp.simplify((a - b).doit().rewrite(sp.exp)))


@CLAIMS.claim(
    "ce.softcap_derivative",
    "The derivative of the cap from the capped logit alone: d/dz [c tanh(z / c)] = 1 - (z' / c)^2",
    assumptions=(r"the logit $z$ is real, the cap $c > 0$; $z' = c \tanh(z / c)$",),
    sympy_assumptions=("x real", "c positive"),
    concrete=(),
)
def softcap_derivative(size) -> Derivation:
    capped = cap * sp.tanh(x / cap)
    return chain(
        sp.Derivative(capped, x),
        (1 - sp.tanh(x / cap) ** 2, r"$\tanh' = 1 - \tanh^2$, and the factors $c$ and $1 / c$ cancel"),
        (1 - (capped / cap) ** 2, r"$\tanh(z / c) = z' / c$: the kernels need only the capped logit"),
        rule=_tanh_rule,
    )


def _at_the_target(inner):
    """``inner``, then in every term [k = t] f(t) the other factor evaluated at t = k: the term is 0 unless k = t."""
    delta = sp.KroneckerDelta(k, t)

    def collapse(term):
        return delta * (term / delta).subs(t, k) if delta in sp.Mul.make_args(term) else term

    def rule(a, b):
        terms = sp.Add.make_args(sp.expand(inner(a, b)))
        return zero_remainder(sp.Add(*[collapse(term) for term in terms]))

    return rule


@CLAIMS.claim(
    "ce.softcap_gradient",
    "Soft-capped cross-entropy: dL/dz_k = (softmax_k(z') - [k = t]) (1 - (z'_k / c)^2)",
    assumptions=(*LOGITS, r"the target $t$ is a class index in $\{1, \dots, n\}$", r"the cap $c > 0$"),
)
def softcap_gradient(size) -> Derivation:
    def capped(cls):
        return cap * sp.tanh(z[cls] / cap)

    loss = sp.log(total(sp.exp(capped(j)), size)) - capped(t)
    softmax_capped = sp.exp(capped(k)) / total(sp.exp(capped(j)), size)
    return chain(
        sp.Derivative(loss, z[k]),
        (
            (softmax_capped - sp.KroneckerDelta(k, t)) * (1 - (capped(k) / cap) ** 2),
            r"the chain rule through $z'_k = c \tanh(z_k / c)$: `ce.gradient_index` at $z'$ times "
            "`ce.softcap_derivative`",
        ),
        rule=_at_the_target(scoped(size, k, t, explicit_lse=False)),
        indices=(k, t),
    )
