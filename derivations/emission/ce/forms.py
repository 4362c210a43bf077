"""Softmax cross-entropy kernels in stable form, with the row statistics m = max_j z_j and d.

    d = sum_j exp(z_j - m) in [1, C],      lse = m + log d,      softmax_k = exp(z_k - m) / d
    loss = w_t ((m - z_t) + log d)                 (gather z_t: never multiply by a one-hot)
    dloss/dz_k = (g w_t / d) exp(z_k - m) - g w_t [k = t]   (the one-hot enters only at k = t)
    exp(z_k - m) = 2^u_k,  u_k = (z_k - m) / ln 2 <= 0        (exp2: the fast exponential of torch's CPU kernels)
    a exp(z_k - m) = 2^(u_k + log2 a)                         (backward, for 0 <= a <= 1: one pass fewer)
    u'_k = c z_k + s,  d = sum_j 2^u'_j / 2^(c m + s)          (folded: one fused multiply-add, c = 1 / ln 2)
    a exp(z_k - m) = 2^(c z_k + s),  s = log2 a - c m           (the folded backward)
    sum_j w_j (lse - z_j) = (sum_j w_j) log d - ln 2 sum_j w_j u_j   (two nonnegative terms)

Each kernel is declared once, below: name, expression, arguments, the claim that proves it and a summary.
Every expression is proved equal to its textbook form (log-softmax, torch's label smoothing and
probability targets) with the row log-sum-exp LSE(z) kept opaque; ``kernel.lse`` ties it to m and d.
The proofs: loss_claims.py, gradient_claims.py, folded_claims.py beside this file.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.ce import extras
from derivations.emission.kernel import (
    DF,
    EPS,
    LA,
    NLL,
    NUM_CLASSES,
    SCALE,
    SMOOTH,
    SW,
    SWU,
    SWUF,
    SWY,
    WT,
    XT,
    ZT,
    A,
    B,
    D,
    E,
    Exp2,
    G,
    Kernel,
    M,
    S,
    U,
    W,
    Y,
    Z,
    evaluated_first,
)


def kernels() -> list[Kernel]:
    """Every softmax cross-entropy kernel, in emission order; ``into``: the block argument of the ``_into`` twin.
    The z-loss and soft-capping kernels are declared in extras.py, next to their claims, and listed last; the
    Hessian-vector product in second_order.py, which the family's ``kernels`` lists after these."""
    stat = evaluated_first(M - Z) + sp.log(D)  # lse - z_k = (m - z_k) + log d, both terms >= 0
    shift = (Z - M) / sp.log(2)  # u_k = (z_k - m) / ln 2 <= 0: exp(z_k - m) = 2^u_k
    return [
        Kernel("base2_shift", shift, (Z, M), "kernel.exp2", "Base-2 shifted logit u = (z - m) / ln 2 <= 0.", into=Z),
        Kernel("base2_exp", Exp2(U), (U,), "kernel.exp2", "2^u = exp(z - m) in (0, 1]; its row sum is d.", into=U),
        Kernel(
            "shifted_exp",
            Exp2(shift),
            (Z, M),
            "kernel.lse",
            "Shifted exponential exp(z - m) = 2^((z - m) / ln 2) <= 1.",
            into=Z,
        ),
        Kernel("natural_shifted_exp", sp.exp(Z - M), (Z, M), "kernel.exp2", "exp(z - m) <= 1 for inductor's loops."),
        Kernel("lse", M + sp.log(D), (M, D), "kernel.lse", "Row log-sum-exp lse = m + log d."),
        Kernel("probs", Exp2(shift) / D, (Z, M, D), "kernel.probs", "Softmax exp(z - m) / d."),
        Kernel(
            "ce_index_loss",
            WT * (evaluated_first(M - ZT) + sp.log(D)),
            (ZT, WT, M, D),
            "kernel.ce_index_loss",
            "Index-target loss w_t ((m - z_t) + log d).",
        ),
        Kernel(
            "ce_smooth_row",
            SW * sp.log(D) - sp.log(2) * SWU,
            (SW, D, SWU),
            "kernel.ce_smooth_term",
            "Smoothing term sum_j w_j (lse - z_j) of a row.",
        ),
        Kernel(
            "ce_smoothed_loss",
            (1 - EPS) * NLL + EPS * SMOOTH / NUM_CLASSES,
            (NLL, SMOOTH, EPS, NUM_CLASSES),
            "kernel.ce_label_smoothing",
            "Label-smoothed row loss.",
        ),
        Kernel(
            "ce_grad_coef",
            G * ((1 - EPS) * WT + EPS * SW / NUM_CLASSES) / D,
            (G, WT, SW, EPS, NUM_CLASSES, D),
            "kernel.ce_smoothed_grad",
            "Row coefficient of exp(z - m).",
        ),
        Kernel(
            "ce_grad_dense",
            A * E,
            (E, A),
            "kernel.ce_index_grad",
            "Index-target gradient away from the target.",
            into=E,
        ),
        Kernel(
            "ce_grad_smooth_coef",
            G * EPS / NUM_CLASSES,
            (G, EPS, NUM_CLASSES),
            "kernel.ce_smoothed_grad",
            "Row coefficient of w_k.",
        ),
        Kernel(
            "log2_coef",
            sp.log(A) / sp.log(2),
            (A,),
            "kernel.ce_scaled_grad",
            "log2 a of a row coefficient a in [0, 1] (-inf at a = 0).",
        ),
        Kernel(
            "ce_grad_scaled",
            Exp2(shift + LA),
            (Z, M, LA),
            "kernel.ce_scaled_grad",
            "Gradient away from the target, 2^(u + log2 a).",
            into=Z,
        ),
        Kernel(
            "ce_grad_scaled_smooth",
            Exp2(shift + LA) - B * W,
            (Z, M, W, LA, B),
            "kernel.ce_scaled_grad",
            "Label-smoothed gradient, dense part, 2^(u + log2 a) - b w.",
            into=Z,
        ),
        Kernel(
            "ce_grad_dense_smooth",
            A * E - B * W,
            (E, W, A, B),
            "kernel.ce_smoothed_grad",
            "Label-smoothed gradient, dense part.",
            into=E,
        ),
        Kernel(
            "folded_shift",
            SCALE * Z + S,
            (Z, SCALE, S),
            "kernel.ce_folded_sum",
            "Folded exponent u' = c z + s <= 0 (s <= -c m).",
            into=Z,
        ),
        Kernel(
            "folded_sum",
            DF / Exp2(SCALE * M + S),
            (DF, SCALE, M, S),
            "kernel.ce_folded_sum",
            "Row sum d = d' / 2^(c m + s) of the folded d'.",
        ),
        Kernel(
            "folded_swu",
            SWUF - SW * (SCALE * M + S),
            (SWUF, SW, SCALE, M, S),
            "kernel.ce_folded_smooth",
            "sum_j w_j u_j from its folded sum.",
        ),
        Kernel(
            "folded_grad_shift",
            LA - SCALE * M,
            (M, SCALE, LA),
            "kernel.ce_folded_grad",
            "Backward's folded shift s = log2 a - c m.",
            into=M,
        ),
        Kernel(
            "ce_grad_folded",
            Exp2(SCALE * Z + S),
            (Z, SCALE, S),
            "kernel.ce_folded_grad",
            "Gradient away from the target, 2^(c z + s).",
            into=Z,
        ),
        Kernel(
            "ce_grad_folded_smooth",
            Exp2(SCALE * Z + S) - B * W,
            (Z, SCALE, W, S, B),
            "kernel.ce_folded_grad",
            "Label-smoothed gradient, dense part, 2^(c z + s) - b w.",
            into=Z,
        ),
        Kernel(
            "ce_grad_at_target",
            -G * (1 - EPS) * WT,
            (G, WT, EPS),
            "kernel.ce_smoothed_grad",
            "Added at the target class only.",
        ),
        Kernel(
            "smoothed_target",
            (1 - EPS) * Y + EPS / NUM_CLASSES,
            (Y, EPS, NUM_CLASSES),
            "kernel.smoothed_target",
            "(1 - eps) y + eps / C.",
        ),
        Kernel(
            "ce_prob_term",
            W * Y * stat,
            (Z, Y, W, M, D),
            "kernel.ce_prob_loss",
            "Probability-target term; summed per row.",
        ),
        Kernel("ce_prob_coef", G * SWY / D, (G, SWY, D), "kernel.ce_prob_grad", "Row coefficient g sum(w y) / d."),
        Kernel(
            "ce_prob_grad",
            A * E - G * W * Y,
            (E, Y, W, A, G),
            "kernel.ce_prob_grad",
            "Probability-target gradient.",
            into=E,
        ),
        Kernel(
            "ce_prob_target_grad",
            G * (1 - EPS) * W * stat,
            (Z, W, M, D, EPS, G),
            "kernel.ce_prob_target_grad",
            "Gradient w.r.t. the target.",
        ),
        Kernel(
            "ce_prob_weight_grad",
            G * Y * stat,
            (Z, Y, M, D, G),
            "kernel.ce_prob_weight_grad",
            "Gradient w.r.t. w_k; summed over rows.",
        ),
        Kernel("nll_loss_term", -WT * XT, (XT, WT), "kernel.nll_loss", "NLL of a log-probability: -w_t x_t."),
        Kernel(
            "nll_grad_at_target", -G * WT, (G, WT), "kernel.nll_grad", "NLL gradient, added at the target class only."
        ),
        *extras.kernels(),
    ]


def forms() -> dict[str, sp.Expr]:
    """name -> stable expression (the emitted math), as the claims bind it."""
    return {k.name: k.expr for k in kernels()}
