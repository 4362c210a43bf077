"""The language-model extras of the softmax cross-entropy family: z-loss and soft-capping kernels, and their claims.

    s lse^2 = s (m + log d)^2                                          (kernel.ce_z_loss)
    g_z d/dz_k [s LSE^2] = (2 g_z s (m + log d) / d) exp(z_k - m)      (kernel.ce_z_loss_grad: a row coefficient,
                                                                        added to the loss's own)
    z' = c tanh(z / c)                                                 (kernel.softcap)
    d z' / dz = 1 - (z' / c)^2                                         (kernel.softcap_grad, from z' alone)

Declared here, next to their proofs; the family's emitted files hold them with the other kernels.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.ce.common import ASSUMPTIONS, bind, claims_of, derivative, sample
from derivations.emission.kernel import CAP, GZ, ZC, ZS, D, Kernel, M, Z
from derivations.engine import rules
from derivations.engine.core import Derivation, chain
from derivations.engine.rules_concrete import zero_remainder
from derivations.engine.samplers import scalar
from derivations.engine.symbols import LSE, k, z


def kernels() -> list[Kernel]:
    """The z-loss and soft-capping kernels, in emission order."""
    lse = M + sp.log(D)  # lse = m + log d (kernel.lse)
    return [
        Kernel("ce_z_loss_term", ZS * lse**2, (ZS, M, D), "kernel.ce_z_loss", "The row's z-loss s lse^2."),
        Kernel(
            "ce_z_loss_coef",
            2 * GZ * ZS * lse / D,
            (GZ, ZS, M, D),
            "kernel.ce_z_loss_grad",
            "The z-loss's row coefficient of exp(z - m), added to the loss's.",
        ),
        Kernel(
            "softcap", CAP * sp.tanh(Z / CAP), (Z, CAP), "kernel.softcap", "Soft-capped logit c tanh(z / c).", into=Z
        ),
        Kernel(
            "softcap_grad",
            1 - (ZC / CAP) ** 2,
            (ZC, CAP),
            "kernel.softcap_grad",
            "The cap's derivative 1 - (z' / c)^2, from the capped logit.",
        ),
    ]


def forms() -> dict[str, sp.Expr]:
    return {k_.name: k_.expr for k_ in kernels()}


def _sample(n, rng) -> dict:
    """The family's sampler, with the z-loss's weight and upstream scale and a cap."""
    return {**sample(n, rng), **scalar(ZS, rng, 1e-4, 1), **scalar(GZ, rng, -2, 2), **scalar(CAP, rng, 1, 30)}


CLAIMS = claims_of(__name__, sample=_sample)
claims = CLAIMS.list
_Z_LOSS = ("lse_square_scale s >= 0",)


@CLAIMS.claim(
    "kernel.ce_z_loss", "The z-loss in kernel form: s LSE(z)^2 = s (m + log d)^2", assumptions=(*ASSUMPTIONS, *_Z_LOSS)
)
def z_loss(n) -> Derivation:
    return chain(
        ZS * LSE(z, n) ** 2,
        (bind(forms()["ce_z_loss_term"], n), "LSE = m + log d with d = sum_j exp(z_j - m) (kernel.lse)"),
        rule=lambda a, b: zero_remainder(sp.expand_log(sp.expand(a - b), force=True)),
    )


@CLAIMS.claim(
    "kernel.ce_z_loss_grad",
    "The z-loss gradient in kernel form: a row coefficient of exp(z_k - m)",
    assumptions=(*ASSUMPTIONS, *_Z_LOSS, "g_z: the z-loss's upstream gradient of the row"),
)
def z_loss_grad(n) -> Derivation:
    emitted = forms()["ce_z_loss_coef"] * sp.exp(Z - M)
    return chain(
        GZ * sp.Derivative(ZS * LSE(z, n) ** 2, z[k]),
        (
            2 * GZ * ZS * LSE(z, n) * sp.exp(z[k] - LSE(z, n)),
            "ce.z_loss_gradient: d/dz_k [s LSE^2] = 2 s LSE softmax_k",
            derivative(n, k),
        ),
        (bind(emitted, n), "exp(z_k - LSE) = exp(z_k - m) / d and LSE = m + log d (kernel.probs, kernel.lse)"),
        rule=lambda a, b: zero_remainder(sp.expand_log(sp.powsimp(sp.expand(a - b)), force=True)),
        indices=(k,),
    )


@CLAIMS.claim(
    "kernel.softcap",
    "Soft-capping in kernel form: z' = c tanh(z / c), the capped logits of ce.softcap_gradient",
    assumptions=(*ASSUMPTIONS, "softcap c > 0"),
    concrete=(2,),
)
def softcap(n) -> Derivation:
    return chain(
        CAP * sp.tanh(z[k] / CAP),
        (bind(forms()["softcap"], n), "the emitted form is the definition, at the row's logit z_k"),
        rule=rules.by_scope(n),
        indices=(k,),
    )


@CLAIMS.claim(
    "kernel.softcap_grad",
    "The cap's derivative in kernel form, from the capped logit: 1 - (z' / c)^2",
    assumptions=(*ASSUMPTIONS, "softcap c > 0"),
    concrete=(2,),
)
def softcap_grad(n) -> Derivation:
    capped = CAP * sp.tanh(z[k] / CAP)
    return chain(
        sp.Derivative(capped, z[k]),
        (
            forms()["softcap_grad"].xreplace({ZC: capped}),
            "ce.softcap_derivative, with the kernel's argument z' = c tanh(z_k / c)",
            lambda a, b: zero_remainder(sp.simplify((a - b).doit().rewrite(sp.exp))),
        ),
        rule=rules.by_scope(n),
        indices=(k,),
    )
