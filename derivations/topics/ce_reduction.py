"""The weighted 'mean' reduction over a batch, exactly as torch defines it, with label smoothing.

    ce.weighted_mean   'mean' over positions r:  L = sum_r l_r / sum_r w_{t_r} v_r  (v_r = [t_r != ignore_index]),
                       dL/dz_r = v_r (per-position gradient) / sum_r w_{t_r} v_r

Here l_r is the per-position loss with class weights and label smoothing (ce.label_smoothing_index)
and w_{t_r} the weight of position r's target class. The claim (page ``softmax-cross-entropy.md``) is
about a batch, not the class dimension: its scopes 2..4 count positions M (with C = 3 classes and
symbolic targets t_r), and no general M is claimed (general=False); the per-position gradients it uses
hold for every n.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import matrices, scoped
from derivations.engine.samplers import positives, reals, scalar
from derivations.engine.symbols import eps, i, j, w, z
from derivations.topics.ce_weights import BASE, PAGE, SYMPY_BASE, class_sum
from derivations.topics.label_smoothing import SMOOTHING, SYMPY_SMOOTHING

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
    return mask * ((1 - eps) * w[target] * (lse - z[r, target]) + eps / size * class_sum(w[i] * (lse - z[r, i]), size))


def position_gradient(r, target, mask, c, size=BATCH_CLASSES):
    """dl_r/dz_{r,c} = v_r [(1 - eps) w_t (s_{r,c} - [c = t]) + (eps/C)((sum_i w_i) s_{r,c} - w_c)]."""
    s_rc = sp.exp(z[r, c]) / sp.Sum(sp.exp(z[r, j]), (j, 1, size))
    return mask * (
        (1 - eps) * w[target] * (s_rc - sp.KroneckerDelta(c, target))
        + eps / size * (class_sum(w[i], size) * s_rc - w[c])
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
    """Positive weights, eps, and per position a row of logits, a target class and a mask."""
    values = {**positives(w, BATCH_CLASSES, rng), **scalar(eps, rng, 0, 1)}
    for r, t_r, v_r in batch(positions):
        row = reals(z, BATCH_CLASSES, rng)
        values.update({z[r, c]: row[z[c]] for c in range(1, BATCH_CLASSES + 1)})
        values[t_r] = int(rng.integers(1, BATCH_CLASSES + 1))
        values[v_r] = 1 if r == 1 else int(rng.integers(0, 2))  # position 1 counts, so the mean is defined
    return values


CLAIMS = Claims(__name__, page=PAGE)
claims = CLAIMS.list


@CLAIMS.claim(
    "ce.weighted_mean",
    "Weighted 'mean' over a batch of M = 2..4 positions: L = sum_r l_r / sum_r w_{t_r} v_r, "
    "dL/dz_r = (per-position gradient) / sum_r w_{t_r} v_r",
    assumptions=(
        *BASE,
        *SMOOTHING,
        "scope: the sizes $2, 3, 4$ count batch positions $M$, not classes; $C = 3$ classes, targets $t_r$ symbolic",
        r"$v_r = [t_r \ne \texttt{ignore\_index}]$; $\sum_r w_{t_r} v_r$ is not 0 (torch returns `nan` when it is)",
    ),
    sympy_assumptions=(
        *SYMPY_BASE,
        *SYMPY_SMOOTHING,
        "z[r, c]: IndexedBase('z', real=True) with two indices; t_r, v_r integer Symbols",
    ),
    sample=_sample_batch,
    general=False,
    concrete=(2, 3, 4),
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
            r"the denominator $\sum_r w_{t_r} v_r$ does not depend on the logits, and $l_m$ depends on row $m$ only",
        ),
        (
            jacobian(lambda r, c: position_gradient(*rows[r], c) / denominator),
            "the per-position gradient (`ce.label_smoothing_index_gradient`), zero where $v_r = 0$",
        ),
        rule=matrices(_gathered(scoped(BATCH_CLASSES), rows)),
    )
