"""Softmax cross-entropy kernels in stable form, with the row statistics m = max_j z_j and d.

    d = sum_j exp(z_j - m) in [1, C],      lse = m + log d,      softmax_k = exp(z_k - m) / d
    loss = w_t ((m - z_t) + log d)                 (gather z_t: never multiply by a one-hot)
    dloss/dz_k = (g w_t / d) exp(z_k - m) - g w_t [k = t]   (the one-hot enters only at k = t)
    exp(z_k - m) = 2^u_k,  u_k = (z_k - m) / ln 2 <= 0        (exp2 is the fast exponential on CPU)
    a exp(z_k - m) = 2^(u_k + log2 a)                         (backward, for 0 <= a <= 1: one pass fewer)
    u'_k = c z_k + s,  d = sum_j 2^u'_j / 2^(c m + s)          (folded: one fused multiply-add, c = 1 / ln 2)
    a exp(z_k - m) = 2^(c z_k + s),  s = log2 a - c m           (the folded backward)
    sum_j w_j (lse - z_j) = (sum_j w_j) log d - ln 2 sum_j w_j u_j   (two nonnegative terms)

Every expression is proved equal to its textbook form (log-softmax, torch's label smoothing and
probability targets) with the row log-sum-exp LSE(z) kept opaque; ``kernel.lse`` ties it to m and d.
"""

from __future__ import annotations

import sympy as sp

from derivations import rules, rules_concrete
from derivations.core import Claim
from derivations.kernel_forms import (
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
    first,
    substitute,
)
from derivations.symbols import LSE, eps, j, k, positives, q, reals, scalar, simplex, t, total
from derivations.symbols import w as w_
from derivations.symbols import y as y_
from derivations.symbols import z as z_

PAGE = "kernels.md"
ell = sp.IndexedBase("ell", real=True)  # nll_loss input: log-probabilities


def forms() -> dict[str, sp.Expr]:
    """name -> stable expression (the emitted math)."""
    stat = first(M - Z) + sp.log(D)  # lse - z_k = (m - z_k) + log d, both terms >= 0
    shift = (Z - M) / sp.log(2)  # u_k = (z_k - m) / ln 2 <= 0: exp(z_k - m) = 2^u_k
    return {
        "base2_shift": shift,
        "base2_exp": Exp2(U),
        "shifted_exp": Exp2(shift),
        "lse": M + sp.log(D),
        "probs": Exp2(shift) / D,
        "ce_index_loss": WT * (first(M - ZT) + sp.log(D)),
        "ce_smooth_row": SW * sp.log(D) - sp.log(2) * SWU,
        "ce_smoothed_loss": (1 - EPS) * NLL + EPS * SMOOTH / NUM_CLASSES,
        "ce_grad_coef": G * ((1 - EPS) * WT + EPS * SW / NUM_CLASSES) / D,
        "ce_grad_dense": A * E,
        "log2_coef": sp.log(A) / sp.log(2),
        "ce_grad_scaled": Exp2(shift + LA),
        "ce_grad_scaled_smooth": Exp2(shift + LA) - B * W,
        "ce_grad_smooth_coef": G * EPS / NUM_CLASSES,
        "ce_grad_dense_smooth": A * E - B * W,
        "folded_shift": SCALE * Z + S,
        "folded_sum": DF / Exp2(SCALE * M + S),
        "folded_swu": SWUF - SW * (SCALE * M + S),
        "folded_grad_shift": LA - SCALE * M,
        "ce_grad_folded": Exp2(SCALE * Z + S),
        "ce_grad_folded_smooth": Exp2(SCALE * Z + S) - B * W,
        "ce_grad_at_target": -G * (1 - EPS) * WT,
        "smoothed_target": (1 - EPS) * Y + EPS / NUM_CLASSES,
        "ce_prob_term": W * Y * stat,
        "ce_prob_coef": G * SWY / D,
        "ce_prob_grad": A * E - G * W * Y,
        "ce_prob_target_grad": G * (1 - EPS) * W * stat,
        "ce_prob_weight_grad": G * Y * stat,
        "nll_loss_term": -WT * XT,
        "nll_grad_at_target": -G * WT,
    }


_TABLE = (  # name, arguments, claim, summary[, block argument of the in-place twin]
    ("base2_shift", (Z, M), "kernel.exp2", "Base-2 shifted logit u = (z - m) / ln 2 <= 0.", Z),
    ("base2_exp", (U,), "kernel.exp2", "2^u = exp(z - m) in (0, 1]; its row sum is d.", U),
    ("shifted_exp", (Z, M), "kernel.lse", "Shifted exponential exp(z - m) = 2^((z - m) / ln 2) <= 1.", Z),
    ("lse", (M, D), "kernel.lse", "Row log-sum-exp lse = m + log d."),
    ("probs", (Z, M, D), "kernel.probs", "Softmax exp(z - m) / d."),
    ("ce_index_loss", (ZT, WT, M, D), "kernel.ce_index_loss", "Index-target loss w_t ((m - z_t) + log d)."),
    ("ce_smooth_row", (SW, D, SWU), "kernel.ce_smooth_term", "Smoothing term sum_j w_j (lse - z_j) of a row."),
    ("ce_smoothed_loss", (NLL, SMOOTH, EPS, NUM_CLASSES), "kernel.ce_label_smoothing", "Label-smoothed row loss."),
    ("ce_grad_coef", (G, WT, SW, EPS, NUM_CLASSES, D), "kernel.ce_smoothed_grad", "Row coefficient of exp(z - m)."),
    ("ce_grad_dense", (E, A), "kernel.ce_index_grad", "Index-target gradient away from the target.", E),
    ("ce_grad_smooth_coef", (G, EPS, NUM_CLASSES), "kernel.ce_smoothed_grad", "Row coefficient of w_k."),
    ("log2_coef", (A,), "kernel.ce_scaled_grad", "log2 a of a row coefficient a in [0, 1] (-inf at a = 0)."),
    ("ce_grad_scaled", (Z, M, LA), "kernel.ce_scaled_grad", "Gradient away from the target, 2^(u + log2 a).", Z),
    (
        "ce_grad_scaled_smooth",
        (Z, M, W, LA, B),
        "kernel.ce_scaled_grad",
        "Label-smoothed gradient, dense part, 2^(u + log2 a) - b w.",
        Z,
    ),
    ("ce_grad_dense_smooth", (E, W, A, B), "kernel.ce_smoothed_grad", "Label-smoothed gradient, dense part.", E),
    ("folded_shift", (Z, SCALE, S), "kernel.ce_folded_sum", "Folded exponent u' = c z + s <= 0 (s <= -c m).", Z),
    ("folded_sum", (DF, SCALE, M, S), "kernel.ce_folded_sum", "Row sum d = d' / 2^(c m + s) of the folded d'."),
    ("folded_swu", (SWUF, SW, SCALE, M, S), "kernel.ce_folded_smooth", "sum_j w_j u_j from its folded sum."),
    ("folded_grad_shift", (M, SCALE, LA), "kernel.ce_folded_grad", "Backward's folded shift s = log2 a - c m.", M),
    ("ce_grad_folded", (Z, SCALE, S), "kernel.ce_folded_grad", "Gradient away from the target, 2^(c z + s).", Z),
    (
        "ce_grad_folded_smooth",
        (Z, SCALE, W, S, B),
        "kernel.ce_folded_grad",
        "Label-smoothed gradient, dense part, 2^(c z + s) - b w.",
        Z,
    ),
    ("ce_grad_at_target", (G, WT, EPS), "kernel.ce_smoothed_grad", "Added at the target class only."),
    ("smoothed_target", (Y, EPS, NUM_CLASSES), "kernel.smoothed_target", "(1 - eps) y + eps / C."),
    ("ce_prob_term", (Z, Y, W, M, D), "kernel.ce_prob_loss", "Probability-target term; summed per row."),
    ("ce_prob_coef", (G, SWY, D), "kernel.ce_prob_grad", "Row coefficient g sum(w y) / d."),
    ("ce_prob_grad", (E, Y, W, A, G), "kernel.ce_prob_grad", "Probability-target gradient.", E),
    ("ce_prob_target_grad", (Z, W, M, D, EPS, G), "kernel.ce_prob_target_grad", "Gradient w.r.t. the target."),
    ("ce_prob_weight_grad", (Z, Y, M, D, G), "kernel.ce_prob_weight_grad", "Gradient w.r.t. w_k; summed over rows."),
    ("nll_loss_term", (XT, WT), "kernel.nll_loss", "NLL of a log-probability: -w_t x_t."),
    ("nll_grad_at_target", (G, WT), "kernel.nll_grad", "NLL gradient, added at the target class only."),
)


def kernels() -> list[Kernel]:
    f = forms()
    table = []
    for name, args, claim, summary, *into in _TABLE:
        table.append(Kernel(name, f[name], args, claim, summary, into=into[0] if into else None))
    return table


def _d(n) -> sp.Expr:
    return sp.exp(LSE(z_, n) - M)  # d = exp(LSE - m), by kernel.lse


def bind(expr: sp.Expr, n, index=k, base2: bool = False) -> sp.Expr:
    """Each kernel argument replaced by what it stands for, at class ``index`` of a row of n classes.

    2^x is then written exp(x ln 2), its definition (kernel.exp2), unless ``base2`` keeps it.
    """
    values = {Z: z_[index], W: w_[index], Y: y_[index], ZT: z_[t], WT: w_[t], D: _d(n), EPS: eps, NUM_CLASSES: n}
    values[SW] = total(w_[j], n)
    values[U] = (z_[index] - M) / sp.log(2)  # u_k = (z_k - m) / ln 2
    values[E] = sp.exp(z_[index] - M)  # e_k = exp(z_k - m), computed as 2^u_k
    values[SWU] = total(w_[j] * (z_[j] - M), n) / sp.log(2)  # sum_j w_j u_j
    values[SCALE] = 1 / sp.log(2)  # c = 1 / ln 2
    bound = substitute(expr, values)
    return bound if base2 else bound.replace(Exp2, lambda x: sp.exp(x * sp.log(2)))


def row_sum(expr: sp.Expr, n) -> sp.Expr:
    """sum_j of an elementwise kernel expression, as the wrappers sum it."""
    return total(bind(expr, n, j), n)


def _lse_form(n, target=None):
    """Textbook losses in LSE form: -log softmax_j = LSE - z_j (softmax.log_softmax)."""
    lse = LSE(z_, n)
    index = w_[t] * (lse - z_[t])
    smooth = total(w_[j] * (lse - z_[j]), n)
    prob = total(w_[j] * (target if target is not None else y_[j]) * (lse - z_[j]), n)
    return index, smooth, prob


def _rule(n, *given, explicit_lse=False):
    if isinstance(n, sp.Symbol):
        return rules.sums(*given, explicit_lse=explicit_lse)
    return rules_concrete.simplified(explicit_lse=explicit_lse)


def _derivative(n, *indices):
    """Differentiate, evaluate only the sums a Kronecker delta picks from, resolve 1 <= k <= n, compare.

    Evaluating every sum (``doit``) would send SymPy after closed forms of sum_j w_j y_j; only the
    sums over [j = k] need evaluating, and they give w_k y_k once 1 <= k <= n is asserted.
    """
    if not isinstance(n, sp.Symbol):
        inner = _rule(n)
        return lambda a, b: inner((a - b).doit(), sp.S.Zero)

    def picks(e):
        return isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta)

    def rule(a, b):
        rest = (a - b).replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit(deep=False))
        rest = rules.linearize(rest).replace(picks, lambda e: e.doit())
        rest = rules.in_range(rest, n, *indices)
        rest = rules.linearize(sp.expand_log(rules.linearize(rest)))
        return rules.in_range(rules_concrete._zero(rest), n, *indices)

    return rule


def _sample(n, rng) -> dict:
    values = {**reals(z_, n, rng), **positives(w_, n, rng), **reals(y_, n, rng), **simplex(q, n, rng)}
    return {**values, **scalar(M, rng, -3, 3), **scalar(G, rng, -2, 2), **scalar(eps, rng, 0, 1)}


def _sample_simplex(n, rng) -> dict:
    return {**_sample(n, rng), **simplex(y_, n, rng)}


def _claim(cid, title, build, concrete=(2, 3, 4), sample=_sample, extra=()) -> Claim:
    return Claim(
        id=cid,
        title=title,
        build=build,
        assumptions=("logits z_j real", "m any real (the kernels take m = max_j z_j)", *extra),
        sympy_assumptions=("z real", "m real", "w real", "n positive integer"),
        sample=sample,
        concrete=concrete,
        page=PAGE,
    )


def claims() -> list[Claim]:
    """The ``kernel.*`` claims of this family (written in kernel_ce_claims.py)."""
    from derivations.kernel_ce_claims import claims as build

    return build()
