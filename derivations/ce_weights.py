"""Class weights, label smoothing and the weighted 'mean' reduction, exactly as torch defines them.

    index target:        l = -w_t log s_t = w_t (LSE(z) - z_t),        dl/dz = w_t (s - e_t)
    probability target:  l = -sum_c w_c y_c log s_c,                    dl/dz = s sum_c w_c y_c - w * y
    label smoothing (uniform part eps/C, not eps/(C - 1)), index target:
        l = (1 - eps) w_t (LSE - z_t) + (eps/C) sum_c w_c (LSE - z_c)
        dl/dz = (1 - eps) w_t (s - e_t) + (eps/C) ((sum_c w_c) s - w)
    unweighted, that is CE with the smoothed target (1 - eps) e_t + eps/C, whose entries sum to 1;
    a probability target is smoothed to (1 - eps) y + eps/C, and at y = e_t both paths agree.
    'mean' over positions r:  L = sum_r l_r / sum_r w_{t_r} v_r  (v_r = [t_r != ignore_index]),
        dL/dz_r = v_r (per-position gradient) / sum_r w_{t_r} v_r

Here s = softmax(z), C = n classes, w the class weights (any reals; torch accepts negative ones).
Every per-position claim holds for a general n and for n = 2..8. In the concrete scopes a target t
that only selects entries (z_t, w_t, [k = t]) stays a symbol, which covers every t at once; sums over
[i = t] enumerate t = 1..n. The 'mean' claim is about a batch, not the class dimension: its scopes
2..4 count positions M (with C = 3 classes and symbolic targets t_r), and no general M is claimed
(general=False); the per-position gradients it uses hold for every n.
"""

from __future__ import annotations

import sympy as sp

from derivations.ce_gradient import target
from derivations.core import Claim, Derivation, chain
from derivations.rules import matrices, scoped, underneath
from derivations.symbols import LSE, eps, i, j, k, positives, reals, scalar, simplex, softmax, t, total, w, y, z

PAGE = "softmax-cross-entropy.md"
BASE = ("the logits z_1..z_n and the class weights w_1..w_n are real", "class indices k, t lie in 1..n")
SYMPY_BASE = (
    "z = IndexedBase('z', real=True); w = IndexedBase('w', real=True)",
    "k, t: integer, positive; Q.le(k, n), Q.le(t, n) asserted by refine; [k = t] = KroneckerDelta(k, t)",
)
SMOOTHING = ("0 <= eps <= 1 is torch's label_smoothing; C = n",)
SYMPY_SMOOTHING = ("eps = Symbol('varepsilon', nonnegative=True)",)


def _sample(size, rng):
    values = {**reals(z, size, rng), **reals(w, size, rng), **simplex(y, size, rng), **scalar(eps, rng, 0, 1)}
    return {**values, **target(size, rng, values)}


def _log_s(index, size):
    """log softmax_index(z), written as the textbook log of the softmax."""
    return sp.log(softmax(z, index, size))


def _sum(body, size):
    """sum_{i=1}^{size} body (the class sum around a softmax, whose denominator sums over j)."""
    return sp.Sum(body, (i, 1, size))


def _kernel(expr, size):
    """softmax_k(z) -> e^{z_k - LSE(z)}, the stable form the kernels evaluate."""
    return expr.xreplace({softmax(z, k, size): sp.exp(z[k] - LSE(z, size))})


def _gradient(loss, log_z_form, derivative, regrouped, size, indices) -> Derivation:
    """d/dz_k of: torch's loss -> its log Z form -> the derivative -> torch's grouping -> the kernel form."""
    return chain(
        sp.Derivative(loss, z[k]),
        (
            sp.Derivative(log_z_form, z[k]),
            "log s_c = z_c - log Z with Z = sum_j e^{z_j}; log Z comes out of every sum over classes",
            underneath(scoped(size, *indices[1:])),
        ),
        (derivative, "d/dz_k log Z = e^{z_k} / Z and d z_c / d z_k = [c = k]; weights and targets are constants"),
        (regrouped, "e^{z_k} / Z = softmax_k(z) = s_k; regroup as torch writes it"),
        (_kernel(regrouped, size), "the kernels' stable form s_k = e^{z_k - LSE(z)}"),
        rule=scoped(size, *indices),
        indices=(k,),  # a target t stays symbolic: z_t, w_t and [k = t] are exact, for every t at once
    )


def weighted_index(size) -> Derivation:
    return chain(
        -w[t] * _log_s(t, size),
        (w[t] * (LSE(z, size) - z[t]), "-log softmax_t(z) = LSE(z) - z_t (ce.lse_form); w_t is a number"),
        rule=scoped(size, t),
        indices=(t,),
    )


def weighted_index_gradient(size) -> Derivation:
    Z, delta = total(sp.exp(z[j]), size), sp.KroneckerDelta(k, t)
    return _gradient(
        -w[t] * _log_s(t, size),
        w[t] * (sp.log(Z) - z[t]),
        w[t] * (sp.exp(z[k]) / Z - delta),
        w[t] * (softmax(z, k, size) - delta),
        size,
        (k, t),
    )


def weighted_prob(size) -> Derivation:
    return chain(
        -_sum(w[i] * y[i] * _log_s(i, size), size),
        (_sum(w[i] * y[i] * (LSE(z, size) - z[i]), size), "-log s_i = LSE(z) - z_i (softmax.log_softmax)"),
        (
            LSE(z, size) * _sum(w[i] * y[i], size) - _sum(w[i] * y[i] * z[i], size),
            "LSE(z) comes out of the sum: the kernel needs the row sums sum w_c y_c and sum w_c y_c z_c",
        ),
        rule=scoped(size),
    )


def weighted_prob_gradient(size) -> Derivation:
    Z, wy = total(sp.exp(z[j]), size), _sum(w[i] * y[i], size)
    return _gradient(
        -_sum(w[i] * y[i] * _log_s(i, size), size),
        sp.log(Z) * wy - _sum(w[i] * y[i] * z[i], size),
        wy * sp.exp(z[k]) / Z - w[k] * y[k],
        softmax(z, k, size) * wy - w[k] * y[k],
        size,
        (k,),
    )


def smoothed_index_loss(size) -> sp.Expr:
    """torch: (1 - eps)(-w_t log s_t) + (eps/C)(-sum_c w_c log s_c)."""
    return (1 - eps) * (-w[t] * _log_s(t, size)) + eps / size * (-_sum(w[i] * _log_s(i, size), size))


def label_smoothing_index(size) -> Derivation:
    lse = LSE(z, size)
    return chain(
        smoothed_index_loss(size),
        (
            (1 - eps) * w[t] * (lse - z[t]) + eps / size * _sum(w[i] * (lse - z[i]), size),
            "-log s_c = LSE(z) - z_c for the target term and for every term of the uniform part",
        ),
        (
            ((1 - eps) * w[t] + eps / size * _sum(w[i], size)) * lse
            - (1 - eps) * w[t] * z[t]
            - eps / size * _sum(w[i] * z[i], size),
            "collect LSE(z): the kernel needs z_t, sum_c w_c and sum_c w_c z_c per row",
        ),
        rule=scoped(size, t),
        indices=(),  # t stays symbolic: it only selects z_t and w_t
    )


def label_smoothing_index_gradient(size) -> Derivation:
    Z, delta, sw = total(sp.exp(z[j]), size), sp.KroneckerDelta(k, t), _sum(w[i], size)
    a = eps / size  # torch's uniform part: eps / C, not eps / (C - 1)
    return _gradient(
        smoothed_index_loss(size),
        ((1 - eps) * w[t] + a * sw) * sp.log(Z) - (1 - eps) * w[t] * z[t] - a * _sum(w[i] * z[i], size),
        ((1 - eps) * w[t] + a * sw) * sp.exp(z[k]) / Z - (1 - eps) * w[t] * delta - a * w[k],
        (1 - eps) * w[t] * (softmax(z, k, size) - delta) + a * (sw * softmax(z, k, size) - w[k]),
        size,
        (k, t),
    )


def smoothed_target(index, size, uniform=None):
    """(1 - eps) [index = t] + eps/C, the smoothed one-hot target."""
    return (1 - eps) * sp.KroneckerDelta(index, t) + (eps / size if uniform is None else uniform)


def label_smoothing_target(size, uniform=None) -> Derivation:
    return chain(
        smoothed_index_loss(size).xreplace({w[t]: 1, w[i]: 1}),
        (
            -_sum(smoothed_target(i, size, uniform) * _log_s(i, size), size),
            "-log s_t = -sum_i [i = t] log s_i: both parts are one sum with target (1 - eps) [i = t] + eps/C",
        ),
        rule=scoped(size, t),
        indices=(t,),
    )


def smoothed_target_normalised(size) -> Derivation:
    return chain(
        _sum(smoothed_target(i, size), size),
        ((1 - eps) + size * (eps / size), "one term [i = t] survives; the uniform part is n equal terms eps/n"),
        (sp.S.One, "(1 - eps) + eps = 1: the smoothed target is a probability vector"),
        rule=scoped(size, t),
        indices=(t,),
    )


def smoothed_prob_target(index, size):
    """(1 - eps) y_index + eps/C, torch's smoothed probability target."""
    return (1 - eps) * y[index] + eps / size


def label_smoothing_prob(size) -> Derivation:
    lse = LSE(z, size)
    return chain(
        -_sum(w[i] * smoothed_prob_target(i, size) * _log_s(i, size), size),
        (
            (1 - eps) * -_sum(w[i] * y[i] * _log_s(i, size), size) + eps / size * -_sum(w[i] * _log_s(i, size), size),
            "the loss is linear in the target: the weighted loss of y, plus eps/C times the uniform part",
        ),
        (
            (1 - eps) * (lse * _sum(w[i] * y[i], size) - _sum(w[i] * y[i] * z[i], size))
            + eps / size * (lse * _sum(w[i], size) - _sum(w[i] * z[i], size)),
            "-log s_c = LSE(z) - z_c, and LSE(z) comes out of both sums (ce.weighted_prob)",
        ),
        rule=scoped(size),
    )


def label_smoothing_prob_gradient(size) -> Derivation:
    Z = total(sp.exp(z[j]), size)
    wy = _sum(w[i] * smoothed_prob_target(i, size), size)
    return _gradient(
        -_sum(w[i] * smoothed_prob_target(i, size) * _log_s(i, size), size),
        sp.log(Z) * wy - _sum(w[i] * smoothed_prob_target(i, size) * z[i], size),
        wy * sp.exp(z[k]) / Z - w[k] * smoothed_prob_target(k, size),
        softmax(z, k, size) * wy - w[k] * smoothed_prob_target(k, size),
        size,
        (k,),
    )


def smoothed_prob_target_normalised(size) -> Derivation:
    return chain(
        _sum(smoothed_prob_target(i, size), size),
        ((1 - eps) * _sum(y[i], size) + eps, "linearity: n equal terms eps/n add up to eps"),
        (sp.S.One, "the target y sums to 1, so (1 - eps) + eps = 1"),
        rule=scoped(size, normalised=y),
    )


def label_smoothing_paths_agree(size) -> Derivation:
    return chain(
        -_sum(w[i] * smoothed_target(i, size) * _log_s(i, size), size),
        (smoothed_index_loss(size), "[i = t] keeps the target term of the first part; the uniform part is unchanged"),
        rule=scoped(size, t),
        indices=(t,),
    )


# The 'mean' reduction over a batch of M positions r = 1..M, each with its own row of logits z_{r, c}.

#: Classes in the batch claim (the per-position claims hold for every n; this one is about the reduction).
BATCH_CLASSES = 3


def batch(positions):
    """(r, t_r, v_r) for r = 1..positions: a target class and a mask per position."""
    rows = range(1, positions + 1)
    targets = [sp.Symbol(f"t_{r}", integer=True, positive=True) for r in rows]
    masks = [sp.Symbol(f"v_{r}", integer=True, nonnegative=True) for r in rows]  # v_r = [t_r != ignore_index]
    return list(zip(rows, targets, masks, strict=True))


def position_loss(r, target, mask, size=BATCH_CLASSES):
    """l_r = v_r [(1 - eps) w_t (LSE_r - z_{r,t}) + (eps/C) sum_c w_c (LSE_r - z_{r,c})] (ce.label_smoothing_index)."""
    lse = sp.log(sp.Sum(sp.exp(z[r, j]), (j, 1, size)))
    return mask * ((1 - eps) * w[target] * (lse - z[r, target]) + eps / size * _sum(w[i] * (lse - z[r, i]), size))


def position_gradient(r, target, mask, c, size=BATCH_CLASSES):
    """dl_r/dz_{r,c} = v_r [(1 - eps) w_t (s_{r,c} - [c = t]) + (eps/C)((sum_i w_i) s_{r,c} - w_c)]."""
    s_rc = sp.exp(z[r, c]) / sp.Sum(sp.exp(z[r, j]), (j, 1, size))
    return mask * (
        (1 - eps) * w[target] * (s_rc - sp.KroneckerDelta(c, target)) + eps / size * (_sum(w[i], size) * s_rc - w[c])
    )


def weighted_mean(positions) -> Derivation:
    rows = batch(positions)  # (r, t_r, v_r)
    denominator = sum(w[t_r] * v_r for _, t_r, v_r in rows)  # sum_r w_{t_r} v_r
    losses = [position_loss(*b) for b in rows]

    def jacobian(entry):  # rows: positions r; columns: classes c
        return sp.Matrix(positions, BATCH_CLASSES, lambda r, c: entry(r, c + 1))

    return chain(
        jacobian(lambda r, c: sp.Derivative(sum(losses) / denominator, z[r + 1, c])),
        (
            jacobian(lambda r, c: sp.Derivative(losses[r], z[r + 1, c]) / denominator),
            "the denominator sum_r w_{t_r} v_r does not depend on the logits, and l_m depends on row m only",
        ),
        (
            jacobian(lambda r, c: position_gradient(*rows[r], c) / denominator),
            "the per-position gradient (ce.label_smoothing_index_gradient), zero where v_r = 0",
        ),
        rule=matrices(_gathered(scoped(BATCH_CLASSES), rows)),
    )


def _gathered(inner, rows):
    """Write z_{r,t_r} and w_{t_r} as sums over c of [c = t_r] z_{r,c} (t_r in 1..C), then apply ``inner``.

    A gather as a one-hot sum: every index becomes a number, so the concrete rule can differentiate
    plain symbols; the Kronecker deltas stay symbolic, so every target is covered at once.
    """
    classes = range(1, BATCH_CLASSES + 1)
    one_hot = {}
    for r, t_r, _ in rows:
        one_hot[z[r, t_r]] = sp.Add(*[sp.KroneckerDelta(c, t_r) * z[r, c] for c in classes])
        one_hot[w[t_r]] = sp.Add(*[sp.KroneckerDelta(c, t_r) * w[c] for c in classes])

    def rule(a, b):
        return inner(a.xreplace(one_hot), b.xreplace(one_hot))

    return rule


def _sample_batch(positions, rng):
    values = {**positives(w, BATCH_CLASSES, rng), **scalar(eps, rng, 0, 1)}
    for r, t_r, v_r in batch(positions):
        row = reals(z, BATCH_CLASSES, rng)
        values.update({z[r, c]: row[z[c]] for c in range(1, BATCH_CLASSES + 1)})
        values[t_r] = int(rng.integers(1, BATCH_CLASSES + 1))
        values[v_r] = 1 if r == 1 else int(rng.integers(0, 2))  # position 1 counts, so the mean is defined
        # the entries that t_r selects, for an evaluation that substitutes once
        values[w[t_r]], values[z[r, t_r]] = values[w[values[t_r]]], values[z[r, values[t_r]]]
    return values


def _claim(claim_id, title, build, words=(), sympy=(), sample=_sample, **kw) -> Claim:
    return Claim(claim_id, title, build, (*BASE, *words), (*SYMPY_BASE, *sympy), sample, page=PAGE, **kw)


def claims() -> list[Claim]:
    normalised = ("the target y sums to 1",)
    sympy_normalised = ("y = IndexedBase('y', real=True); Sum(y[j], (j, 1, n)) = 1 substituted",)
    any_target = ("the target y is any real vector",)
    sympy_any_target = ("y = IndexedBase('y', real=True), no constraint",)
    return [
        _claim(
            "ce.weighted_index", "Class weights, index target: l = -w_t log s_t = w_t (LSE(z) - z_t)", weighted_index
        ),
        _claim(
            "ce.weighted_index_gradient",
            "Class weights, index target: dl/dz_k = w_t (s_k - [k = t])",
            weighted_index_gradient,
        ),
        _claim(
            "ce.weighted_prob",
            "Class weights, probability target: l = -sum_c w_c y_c log s_c = LSE(z) sum w y - sum w y z",
            weighted_prob,
            any_target,
            sympy_any_target,
        ),
        _claim(
            "ce.weighted_prob_gradient",
            "Class weights, probability target: dl/dz_k = s_k sum_c w_c y_c - w_k y_k",
            weighted_prob_gradient,
            any_target,
            sympy_any_target,
        ),
        _claim(
            "ce.label_smoothing_index",
            "Label smoothing (torch, uniform part eps/C): l = (1-eps) w_t (LSE - z_t) + (eps/C) sum_c w_c (LSE - z_c)",
            label_smoothing_index,
            SMOOTHING,
            SYMPY_SMOOTHING,
        ),
        _claim(
            "ce.label_smoothing_index_gradient",
            "Label smoothing gradient: (1-eps) w_t (s_k - [k = t]) + (eps/C)((sum_c w_c) s_k - w_k)",
            label_smoothing_index_gradient,
            SMOOTHING,
            SYMPY_SMOOTHING,
        ),
        _claim(
            "ce.label_smoothing_target",
            "Unweighted label smoothing is CE with the smoothed target (1 - eps) e_t + eps/C",
            label_smoothing_target,
            (*SMOOTHING, "no class weights (w = 1)"),
            SYMPY_SMOOTHING,
        ),
        _claim(
            "ce.smoothed_target_normalised",
            "The smoothed target (1 - eps) e_t + eps/C sums to 1",
            smoothed_target_normalised,
            SMOOTHING,
            SYMPY_SMOOTHING,
        ),
        _claim(
            "ce.label_smoothing_prob",
            "Label smoothing, probability target (1 - eps) y + eps/C: (1 - eps) l(y) + (eps/C) times the uniform part",
            label_smoothing_prob,
            (*SMOOTHING, *any_target),
            (*SYMPY_SMOOTHING, *sympy_any_target),
        ),
        _claim(
            "ce.label_smoothing_prob_gradient",
            "Label smoothing, probability target: dl/dz_k = s_k sum_c w_c y~_c - w_k y~_k, y~ = (1 - eps) y + eps/C",
            label_smoothing_prob_gradient,
            (*SMOOTHING, *any_target),
            (*SYMPY_SMOOTHING, *sympy_any_target),
        ),
        _claim(
            "ce.smoothed_prob_target_normalised",
            "A smoothed probability target (1 - eps) y + eps/C still sums to 1",
            smoothed_prob_target_normalised,
            (*SMOOTHING, *normalised),
            (*SYMPY_SMOOTHING, *sympy_normalised),
        ),
        _claim(
            "ce.label_smoothing_paths_agree",
            "With label smoothing, the probability path at y = e_t gives the index path's loss (with weights)",
            label_smoothing_paths_agree,
            SMOOTHING,
            SYMPY_SMOOTHING,
        ),
        _claim(
            "ce.weighted_mean",
            "Weighted 'mean' over a batch of M = 2..4 positions: L = sum_r l_r / sum_r w_{t_r} v_r, "
            "dL/dz_r = (per-position gradient) / sum_r w_{t_r} v_r",
            weighted_mean,
            (
                *SMOOTHING,
                "scope: the sizes 2..4 count batch positions M, not classes; C = 3 classes, targets t_r symbolic",
                "v_r = [t_r != ignore_index]; sum_r w_{t_r} v_r is not 0 (torch returns nan when it is)",
            ),
            (*SYMPY_SMOOTHING, "z[r, c]: IndexedBase('z', real=True) with two indices; t_r, v_r integer Symbols"),
            _sample_batch,
            general=False,
            concrete=(2, 3, 4),
        ),
    ]
