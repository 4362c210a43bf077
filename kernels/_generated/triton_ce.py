# generated from derivations/emission/ce/__init__.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
"""Triton kernels: softmax cross-entropy and nll_loss, as @triton.jit helpers.

Elementwise stable forms, each proved equal to its textbook form by the claim named in its docstring
(kernels.md), the same expressions as torch_ce.py. The row loops (online max and sum over vocabulary
tiles, the gradient pass), masking and reductions live in kernels/triton/, around these functions.
"""

import triton
import triton.language as tl


@triton.jit
def _tanh(x):
    """tanh x through exp (libdevice's tanh does not run under TRITON_INTERPRET=1): for |x| >= 1/8,
    sign(x) (1 - e) / (1 + e) with e = exp(-2 |x|) <= 1 (never overflows); below 1/8, where 1 - e would
    cancel, the Taylor series x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 (relative error < 1e-11)."""
    a = tl.abs(x)
    e = tl.exp(-2.0 * a)
    x2 = x * x
    small = a * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0)))))
    t = tl.where(a < 0.125, small, (1.0 - e) / (1.0 + e))
    return tl.where(x < 0, -t, t)


@triton.jit
def base2_shift(z, m):
    """Base-2 shifted logit u = (z - m) / ln 2 <= 0.

    SymPy: (-m + z)/log(2)
    Claim: kernel.exp2 (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        m: the row max, m = max_j z_j
    """
    return 1.4426950408889634 * (-m + z)


@triton.jit
def base2_exp(u):
    """2^u = exp(z - m) in (0, 1]; its row sum is d.

    SymPy: Exp2(u)
    Claim: kernel.exp2 (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        u: a base-2 shifted logit u_k = (z_k - m) / ln 2 <= 0
    """
    return tl.exp2(u)


@triton.jit
def shifted_exp(z, m):
    """Shifted exponential exp(z - m) = 2^((z - m) / ln 2) <= 1.

    SymPy: Exp2((-m + z)/log(2))
    Claim: kernel.lse (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        m: the row max, m = max_j z_j
    """
    return tl.exp2(1.4426950408889634 * (-m + z))


@triton.jit
def natural_shifted_exp(z, m):
    """exp(z - m) <= 1 for inductor's loops.

    SymPy: exp(-m + z)
    Claim: kernel.exp2 (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        m: the row max, m = max_j z_j
    """
    return tl.exp(-m + z)


@triton.jit
def lse(m, d):
    """Row log-sum-exp lse = m + log d.

    SymPy: m + log(d)
    Claim: kernel.lse (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return m + tl.log(d)


@triton.jit
def probs(z, m, d):
    """Softmax exp(z - m) / d.

    SymPy: Exp2((-m + z)/log(2))/d
    Claim: kernel.probs (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return tl.exp2(1.4426950408889634 * (-m + z)) / d


@triton.jit
def ce_index_loss(zt, wt, m, d):
    """Index-target loss w_t ((m - z_t) + log d).

    SymPy: wt*(log(d) + (m - zt))
    Claim: kernel.ce_index_loss (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        zt: the target's logit z_t (gathered, never a one-hot product)
        wt: the target's class weight w_t
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return wt * (tl.log(d) + (m - zt))


@triton.jit
def ce_smooth_row(sw, d, swu):
    """Smoothing term sum_j w_j (lse - z_j) of a row.

    SymPy: sw*log(d) - swu*log(2)
    Claim: kernel.ce_smooth_term (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        sw: sum_j w_j, the class weights' sum (C without weights)
        d: d = sum_j exp(z_j - m), 1 <= d <= C
        swu: sum_j w_j u_j of the row (a weighted row sum of u)
    """
    return sw * tl.log(d) - 0.6931471805599453 * swu


@triton.jit
def ce_smoothed_loss(nll, smooth, eps, num_classes):
    """Label-smoothed row loss.

    SymPy: eps*smooth/num_classes + nll*(1 - eps)
    Claim: kernel.ce_label_smoothing (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        nll: the row's index loss w_t (lse - z_t)
        smooth: the row's smoothing term sum_j w_j (lse - z_j)
        eps: the label smoothing eps, in [0, 1]
        num_classes: C, the number of classes
    """
    return eps * smooth / num_classes + nll * (1 - eps)


@triton.jit
def ce_grad_coef(g, wt, sw, eps, num_classes, d):
    """Row coefficient of exp(z - m).

    SymPy: g*(eps*sw/num_classes + wt*(1 - eps))/d
    Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        g: the upstream gradient of the row (reduction scale included)
        wt: the target's class weight w_t
        sw: sum_j w_j, the class weights' sum (C without weights)
        eps: the label smoothing eps, in [0, 1]
        num_classes: C, the number of classes
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return g * (eps * sw / num_classes + wt * (1 - eps)) / d


@triton.jit
def ce_grad_dense(e, a):
    """Index-target gradient away from the target.

    SymPy: a*e
    Claim: kernel.ce_index_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
        a: a row coefficient of exp(z_k - m)
    """
    return a * e


@triton.jit
def ce_grad_smooth_coef(g, eps, num_classes):
    """Row coefficient of w_k.

    SymPy: eps*g/num_classes
    Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        g: the upstream gradient of the row (reduction scale included)
        eps: the label smoothing eps, in [0, 1]
        num_classes: C, the number of classes
    """
    return eps * g / num_classes


@triton.jit
def log2_coef(a):
    """log2 a of a row coefficient a in [0, 1] (-inf at a = 0).

    SymPy: log(a)/log(2)
    Claim: kernel.ce_scaled_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        a: a row coefficient of exp(z_k - m)
    """
    return 1.4426950408889634 * tl.log(a)


@triton.jit
def ce_grad_scaled(z, m, la):
    """Gradient away from the target, 2^(u + log2 a).

    SymPy: Exp2(la + (-m + z)/log(2))
    Claim: kernel.ce_scaled_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        m: the row max, m = max_j z_j
        la: log2 a of a row coefficient a in [0, 1] (-inf where a = 0)
    """
    return tl.exp2(la + 1.4426950408889634 * (-m + z))


@triton.jit
def ce_grad_scaled_smooth(z, m, w, la, b):
    """Label-smoothed gradient, dense part, 2^(u + log2 a) - b w.

    SymPy: -b*w + Exp2(la + (-m + z)/log(2))
    Claim: kernel.ce_scaled_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        m: the row max, m = max_j z_j
        w: the class weight w_k (1 without weights)
        la: log2 a of a row coefficient a in [0, 1] (-inf where a = 0)
        b: a row coefficient of w_k
    """
    return -b * w + tl.exp2(la + 1.4426950408889634 * (-m + z))


@triton.jit
def ce_grad_dense_smooth(e, w, a, b):
    """Label-smoothed gradient, dense part.

    SymPy: a*e - b*w
    Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
        w: the class weight w_k (1 without weights)
        a: a row coefficient of exp(z_k - m)
        b: a row coefficient of w_k
    """
    return a * e - b * w


@triton.jit
def folded_shift(z, c, s):
    """Folded exponent u' = c z + s <= 0 (s <= -c m).

    SymPy: c*z + s
    Claim: kernel.ce_folded_sum (derivations/emission/ce/folded_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
        s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
    """
    return c * z + s


@triton.jit
def folded_sum(df, c, m, s):
    """Row sum d = d' / 2^(c m + s) of the folded d'.

    SymPy: df/Exp2(c*m + s)
    Claim: kernel.ce_folded_sum (derivations/emission/ce/folded_claims.py), checked on kernels.md

    Args:
        df: the folded row sum d' = sum_j 2^(c z_j + s)
        c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
        m: the row max, m = max_j z_j
        s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
    """
    return df / tl.exp2(c * m + s)


@triton.jit
def folded_swu(swuf, sw, c, m, s):
    """sum_j w_j u_j from its folded sum.

    SymPy: -sw*(c*m + s) + swuf
    Claim: kernel.ce_folded_smooth (derivations/emission/ce/folded_claims.py), checked on kernels.md

    Args:
        swuf: sum_j w_j u'_j of the folded exponents u'_j = c z_j + s
        sw: sum_j w_j, the class weights' sum (C without weights)
        c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
        m: the row max, m = max_j z_j
        s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
    """
    return -sw * (c * m + s) + swuf


@triton.jit
def folded_grad_shift(m, c, la):
    """Backward's folded shift s = log2 a - c m.

    SymPy: -c*m + la
    Claim: kernel.ce_folded_grad (derivations/emission/ce/folded_claims.py), checked on kernels.md

    Args:
        m: the row max, m = max_j z_j
        c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
        la: log2 a of a row coefficient a in [0, 1] (-inf where a = 0)
    """
    return -c * m + la


@triton.jit
def ce_grad_folded(z, c, s):
    """Gradient away from the target, 2^(c z + s).

    SymPy: Exp2(c*z + s)
    Claim: kernel.ce_folded_grad (derivations/emission/ce/folded_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
        s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
    """
    return tl.exp2(c * z + s)


@triton.jit
def ce_grad_folded_smooth(z, c, w, s, b):
    """Label-smoothed gradient, dense part, 2^(c z + s) - b w.

    SymPy: -b*w + Exp2(c*z + s)
    Claim: kernel.ce_folded_grad (derivations/emission/ce/folded_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
        w: the class weight w_k (1 without weights)
        s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
        b: a row coefficient of w_k
    """
    return -b * w + tl.exp2(c * z + s)


@triton.jit
def ce_grad_at_target(g, wt, eps):
    """Added at the target class only.

    SymPy: -g*wt*(1 - eps)
    Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        g: the upstream gradient of the row (reduction scale included)
        wt: the target's class weight w_t
        eps: the label smoothing eps, in [0, 1]
    """
    return -g * wt * (1 - eps)


@triton.jit
def smoothed_target(y, eps, num_classes):
    """(1 - eps) y + eps / C.

    SymPy: eps/num_classes + y*(1 - eps)
    Claim: kernel.smoothed_target (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        y: a probability target y_k
        eps: the label smoothing eps, in [0, 1]
        num_classes: C, the number of classes
    """
    return eps / num_classes + y * (1 - eps)


@triton.jit
def ce_prob_term(z, y, w, m, d):
    """Probability-target term; summed per row.

    SymPy: w*y*(log(d) + (m - z))
    Claim: kernel.ce_prob_loss (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        y: a probability target y_k
        w: the class weight w_k (1 without weights)
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return w * y * (tl.log(d) + (m - z))


@triton.jit
def ce_prob_coef(g, swy, d):
    """Row coefficient g sum(w y) / d.

    SymPy: g*swy/d
    Claim: kernel.ce_prob_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        g: the upstream gradient of the row (reduction scale included)
        swy: sum_j w_j y_j of the row
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return g * swy / d


@triton.jit
def ce_prob_grad(e, y, w, a, g):
    """Probability-target gradient.

    SymPy: a*e - g*w*y
    Claim: kernel.ce_prob_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
        y: a probability target y_k
        w: the class weight w_k (1 without weights)
        a: a row coefficient of exp(z_k - m)
        g: the upstream gradient of the row (reduction scale included)
    """
    return a * e - g * w * y


@triton.jit
def ce_prob_target_grad(z, w, m, d, eps, g):
    """Gradient w.r.t. the target.

    SymPy: g*w*(1 - eps)*(log(d) + (m - z))
    Claim: kernel.ce_prob_target_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        w: the class weight w_k (1 without weights)
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
        eps: the label smoothing eps, in [0, 1]
        g: the upstream gradient of the row (reduction scale included)
    """
    return g * w * (1 - eps) * (tl.log(d) + (m - z))


@triton.jit
def ce_prob_weight_grad(z, y, m, d, g):
    """Gradient w.r.t. w_k; summed over rows.

    SymPy: g*y*(log(d) + (m - z))
    Claim: kernel.ce_prob_weight_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        y: a probability target y_k
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
        g: the upstream gradient of the row (reduction scale included)
    """
    return g * y * (tl.log(d) + (m - z))


@triton.jit
def nll_loss_term(xt, wt):
    """NLL of a log-probability: -w_t x_t.

    SymPy: -wt*xt
    Claim: kernel.nll_loss (derivations/emission/ce/loss_claims.py), checked on kernels.md

    Args:
        xt: the target's log-probability (nll_loss input)
        wt: the target's class weight w_t
    """
    return -wt * xt


@triton.jit
def nll_grad_at_target(g, wt):
    """NLL gradient, added at the target class only.

    SymPy: -g*wt
    Claim: kernel.nll_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md

    Args:
        g: the upstream gradient of the row (reduction scale included)
        wt: the target's class weight w_t
    """
    return -g * wt


@triton.jit
def ce_z_loss_term(zs, m, d):
    """The row's z-loss s lse^2.

    SymPy: zs*(m + log(d))**2
    Claim: kernel.ce_z_loss (derivations/emission/ce/extras.py), checked on kernels.md

    Args:
        zs: lse_square_scale s, the z-loss's weight
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return zs * ((m + tl.log(d)) * (m + tl.log(d)))


@triton.jit
def ce_z_loss_coef(gz, zs, m, d):
    """The z-loss's row coefficient of exp(z - m), added to the loss's.

    SymPy: 2*gz*zs*(m + log(d))/d
    Claim: kernel.ce_z_loss_grad (derivations/emission/ce/extras.py), checked on kernels.md

    Args:
        gz: the z-loss's upstream gradient of the row (1 / counted rows for 'mean'), 0 where ignored
        zs: lse_square_scale s, the z-loss's weight
        m: the row max, m = max_j z_j
        d: d = sum_j exp(z_j - m), 1 <= d <= C
    """
    return 2 * gz * zs * (m + tl.log(d)) / d


@triton.jit
def softcap(z, cap):
    """Soft-capped logit c tanh(z / c).

    SymPy: cap*tanh(z/cap)
    Claim: kernel.softcap (derivations/emission/ce/extras.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        cap: softcap c > 0, the bound of the capped logits
    """
    return cap * _tanh(z / cap)


@triton.jit
def softcap_grad(zc, cap):
    """The cap's derivative 1 - (z' / c)^2, from the capped logit.

    SymPy: 1 - zc**2/cap**2
    Claim: kernel.softcap_grad (derivations/emission/ce/extras.py), checked on kernels.md

    Args:
        zc: a soft-capped logit z' = c tanh(z / c), in (-c, c)
        cap: softcap c > 0, the bound of the capped logits
    """
    return 1 - (zc * zc) / (cap * cap)


@triton.jit
def ce_hvp(e, v, a, sv):
    """Hessian-vector product a e_k (v_k - sum_j s_j v_j) of a row.

    SymPy: a*e*(-sv + v)
    Claim: kernel.ce_hvp (derivations/emission/ce/second_order.py), checked on kernels.md

    Args:
        e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
        v: a direction v_k in logit space: the cotangent of a gradient, or a tangent
        a: a row coefficient of exp(z_k - m)
        sv: sum_j s_j v_j, the softmax-weighted row sum of the direction v
    """
    return a * e * (-sv + v)
