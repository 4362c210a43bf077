"""Binary cross-entropy with logits in stable form (torch's BCEWithLogits, pos_weight p_w).

    softplus(-z) = log(1 + exp(-z)) = max(-z, 0) + log1p(exp(-|z|))                  (kernel.softplus)
    sigmoid(z)   = exp(min(z, 0)) / (1 + exp(-|z|))                                   (kernel.sigmoid)
    d sigmoid/dz = sigmoid(z) sigmoid(-z)                                             (kernel.sigmoid_grad)
    loss         = w [(1 - y) z + (1 + (p_w - 1) y) softplus(-z)]   (kernel.bce_loss, kernel.bce_loss_pos_weight)
    dloss/dz     = w [(1 + (p_w - 1) y) sigmoid(z) - p_w y] = w [(sigmoid(z) - y) - (p_w - 1) y sigmoid(-z)]
                                                                  (kernel.bce_grad, kernel.bce_grad_pos_weight)
    dloss/dy     = w [p_w softplus(-z) - softplus(z)]    (kernel.bce_target_grad, kernel.bce_target_grad_pos_weight)

Every exp has a non-positive argument, so nothing overflows at |z| = 1e4 (the textbook
-w [p_w y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] is inf - inf there). SymPy shows each stable
form equal to the textbook one branch by branch (z > 0, z < 0, z = 0): |z| and max need the sign.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from derivations.emission.kernel import PW, G, Kernel, W, Y, evaluated_first
from derivations.emission.kernel import Z as Z_
from derivations.engine import rules_concrete, rules_inequality
from derivations.engine.core import Claim, chain

PAGE = "kernels.md"
#: The logit inside the claims: the kernel argument z itself (a real scalar, no class index here).
z = Z_


def softplus_neg(x: sp.Expr) -> sp.Expr:
    """softplus(-x) = max(-x, 0) + log1p(exp(-|x|)): exp(-|x|) <= 1."""
    return sp.Max(-x, 0) + log1p(sp.exp(-sp.Abs(x)))


def sigmoid(x: sp.Expr) -> sp.Expr:
    """sigmoid(x) = exp(min(x, 0)) / (1 + exp(-|x|)): both exps <= 1."""
    return sp.exp(sp.Min(x, 0)) / (1 + sp.exp(-sp.Abs(x)))


def kernels() -> list[Kernel]:
    """Every BCE kernel, in emission order."""
    sp_neg, sig, log_weight = softplus_neg(z), sigmoid(z), 1 + (PW - 1) * Y  # log_weight as torch names it
    return [
        Kernel("sigmoid", sig, (z,), "kernel.sigmoid", "Stable sigmoid exp(min(z, 0)) / (1 + exp(-|z|))."),
        Kernel(
            "sigmoid_grad",
            G * sig * sigmoid(-z),
            (z, G),
            "kernel.sigmoid_grad",
            "The chain through a sigmoid: g sigmoid(z) sigmoid(-z), both factors in stable form.",
        ),
        Kernel(
            "bce_loss",
            W * ((1 - Y) * z + sp_neg),
            (z, Y, W),
            "kernel.bce_loss",
            "BCE with logits, elementwise (pos_weight = 1).",
        ),
        Kernel(
            "bce_loss_pos_weight",
            W * ((1 - Y) * z + log_weight * sp_neg),
            (z, Y, W, PW),
            "kernel.bce_loss_pos_weight",
            "BCE with logits and pos_weight.",
        ),
        Kernel(
            "bce_grad",
            G * W * (sig - Y),
            (z, Y, W, G),
            "kernel.bce_grad",
            "Gradient w.r.t. the logit (pos_weight = 1).",
        ),
        Kernel(  # (1 + (p_w - 1) y) sigmoid(z) - p_w y = (sigmoid(z) - y) - (p_w - 1) y sigmoid(-z): no cancellation
            "bce_grad_pos_weight",
            G * W * (evaluated_first(sig - Y) - (PW - 1) * Y * sigmoid(-z)),
            (z, Y, W, PW, G),
            "kernel.bce_grad_pos_weight",
            "Gradient w.r.t. the logit.",
        ),
        Kernel(
            "bce_target_grad",
            -G * W * z,
            (z, W, G),
            "kernel.bce_target_grad",
            "Gradient w.r.t. the target (pos_weight = 1).",
        ),
        Kernel(  # log(1 - sigmoid) - p_w log sigmoid = p_w softplus(-z) - softplus(z): no inf - inf at z = -inf
            "bce_target_grad_pos_weight",
            G * W * (PW * sp_neg - softplus_neg(-z)),
            (z, W, PW, G),
            "kernel.bce_target_grad_pos_weight",
            "Gradient w.r.t. the target.",
        ),
    ]


def forms() -> dict[str, sp.Expr]:
    """name -> stable expression (the emitted math), as the claims use it."""
    return {k.name: k.expr for k in kernels()}


def textbook_loss(pos_weight=PW) -> sp.Expr:
    s = 1 / (1 + sp.exp(-z))
    return -W * (pos_weight * Y * sp.log(s) + (1 - Y) * sp.log(1 - s))


def _compare(a, b):
    """a - b = 0 with log1p written as log(1 + x) and logs expanded (their arguments are positive)."""
    rest = (a - b).replace(lambda e: isinstance(e, log1p), lambda e: sp.log(1 + e.args[0]))
    return rules_concrete.zero_remainder(sp.expand_log(rest, force=True))


_BRANCHWISE = rules_inequality.branchwise(z, _compare)
_LOGS = "log sigmoid(z) = -softplus(-z), log(1 - sigmoid(z)) = -z - softplus(-z)"
_SPLIT = "softplus(-z) = max(-z, 0) + log1p(exp(-|z|)) (kernel.softplus), per sign of z"


def _claim(cid, title, lhs, *steps) -> Claim:
    return Claim(
        id=cid,
        title=title,
        build=lambda n: chain(lhs, *steps, rule=_BRANCHWISE),
        assumptions=("logit z real", "target y, weight w, pos_weight p_w real", "checked for z > 0, z < 0, z = 0"),
        sympy_assumptions=("z real", "y real", "w real", "pos_weight real"),
        sample=_sample,
        concrete=(),
        page=PAGE,
    )


def _sample(n, rng) -> dict:
    def draw(low, high):
        return sp.Rational(float(rng.uniform(low, high))).limit_denominator(10**9)

    return {z: draw(-6, 6), Y: draw(0, 1), W: draw(0.1, 3), PW: draw(0.1, 4), G: draw(-2, 2)}


def claims() -> list[Claim]:
    f = forms()
    ln1p = sp.log(1 + sp.exp(-z))
    textbook = textbook_loss()
    plain = textbook_loss(1)
    loss_mid = W * ((1 - Y) * z + (1 + (PW - 1) * Y) * ln1p)
    sig = "dsoftplus(-z)/dz = -sigmoid(z) (binary.bce_gradient, binary.pos_weight_gradient); kernel.sigmoid"
    return [
        _claim(
            "kernel.softplus",
            "Stable softplus: log(1 + e^-z) = max(-z, 0) + log1p(e^-|z|)",
            ln1p,
            (softplus_neg(z), "split on the sign of z"),
        ),
        _claim(
            "kernel.sigmoid",
            "Stable sigmoid: exp(min(z, 0)) / (1 + exp(-|z|))",
            1 / (1 + sp.exp(-z)),
            (f["sigmoid"], "multiply by exp(z) / exp(z) where z < 0"),
        ),
        _claim(
            "kernel.sigmoid_grad",
            "The sigmoid's derivative: sigmoid(z) sigmoid(-z) = sigmoid(z) (1 - sigmoid(z))",
            G * sp.diff(1 / (1 + sp.exp(-z)), z),
            (f["sigmoid_grad"], "1 - sigmoid(z) = sigmoid(-z) (binary.sigmoid_symmetry); kernel.sigmoid"),
        ),
        _claim(
            "kernel.bce_loss_pos_weight",
            "BCE with logits and pos_weight in stable form",
            textbook,
            (loss_mid, _LOGS + " (binary.stable_pos_weight)"),
            (f["bce_loss_pos_weight"], _SPLIT),
        ),
        _claim(
            "kernel.bce_loss",
            "BCE with logits in stable form",
            plain,
            (loss_mid.xreplace({PW: 1}), _LOGS),
            (f["bce_loss"], _SPLIT),
        ),
        _claim(
            "kernel.bce_grad_pos_weight",
            "BCE gradient with pos_weight",
            G * sp.diff(textbook, z),
            (f["bce_grad_pos_weight"], sig),
        ),
        _claim("kernel.bce_grad", "BCE gradient: w (sigmoid(z) - y)", G * sp.diff(plain, z), (f["bce_grad"], sig)),
        _claim(
            "kernel.bce_target_grad_pos_weight",
            "BCE gradient w.r.t. the target, with pos_weight",
            G * sp.diff(textbook, Y),
            (f["bce_target_grad_pos_weight"], _SPLIT),
        ),
        _claim(
            "kernel.bce_target_grad",
            "BCE gradient w.r.t. the target: -w z",
            G * sp.diff(plain, Y),
            (f["bce_target_grad"], "the softplus terms cancel at pos_weight = 1"),
        ),
    ]
