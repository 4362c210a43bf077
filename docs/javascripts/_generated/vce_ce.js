// generated from derivations/emission/ce/__init__.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
/* JavaScript kernels: softmax cross-entropy and nll_loss.
 *
 * Elementwise stable forms on numbers (doubles), each proved equal to its textbook form by the claim
 * named above it (kernels.md). Row sums and the explorable live in docs/javascripts/, around these.
 */
(function (root) {
  "use strict";
  const VCE = (root.VCE = root.VCE || {});
  const kernels = (VCE.kernels = VCE.kernels || {});

  // base2_shift: Base-2 shifted logit u = (z - m) / ln 2 <= 0.
  // SymPy: (-m + z)/log(2)
  // Claim: kernel.exp2 (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   m: the row max, m = max_j z_j
  kernels.base2_shift = function (z, m) {
    return 1.4426950408889634*(-m + z);
  };

  // base2_exp: 2^u = exp(z - m) in (0, 1]; its row sum is d.
  // SymPy: Exp2(u)
  // Claim: kernel.exp2 (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   u: a base-2 shifted logit u_k = (z_k - m) / ln 2 <= 0
  kernels.base2_exp = function (u) {
    return Math.pow(2, u);
  };

  // shifted_exp: Shifted exponential exp(z - m) = 2^((z - m) / ln 2) <= 1.
  // SymPy: Exp2((-m + z)/log(2))
  // Claim: kernel.lse (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   m: the row max, m = max_j z_j
  kernels.shifted_exp = function (z, m) {
    return Math.pow(2, 1.4426950408889634*(-m + z));
  };

  // natural_shifted_exp: exp(z - m) <= 1 for inductor's loops.
  // SymPy: exp(-m + z)
  // Claim: kernel.exp2 (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   m: the row max, m = max_j z_j
  kernels.natural_shifted_exp = function (z, m) {
    return Math.exp(-m + z);
  };

  // lse: Row log-sum-exp lse = m + log d.
  // SymPy: m + log(d)
  // Claim: kernel.lse (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.lse = function (m, d) {
    return m + Math.log(d);
  };

  // probs: Softmax exp(z - m) / d.
  // SymPy: Exp2((-m + z)/log(2))/d
  // Claim: kernel.probs (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.probs = function (z, m, d) {
    return Math.pow(2, 1.4426950408889634*(-m + z))/d;
  };

  // ce_index_loss: Index-target loss w_t ((m - z_t) + log d).
  // SymPy: wt*(log(d) + (m - zt))
  // Claim: kernel.ce_index_loss (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   zt: the target's logit z_t (gathered, never a one-hot product)
  //   wt: the target's class weight w_t
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.ce_index_loss = function (zt, wt, m, d) {
    return wt*(Math.log(d) + (m - zt));
  };

  // ce_smooth_row: Smoothing term sum_j w_j (lse - z_j) of a row.
  // SymPy: sw*log(d) - swu*log(2)
  // Claim: kernel.ce_smooth_term (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   sw: sum_j w_j, the class weights' sum (C without weights)
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  //   swu: sum_j w_j u_j of the row (a weighted row sum of u)
  kernels.ce_smooth_row = function (sw, d, swu) {
    return sw*Math.log(d) - 0.6931471805599453*swu;
  };

  // ce_smoothed_loss: Label-smoothed row loss.
  // SymPy: eps*smooth/num_classes + nll*(1 - eps)
  // Claim: kernel.ce_label_smoothing (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   nll: the row's index loss w_t (lse - z_t)
  //   smooth: the row's smoothing term sum_j w_j (lse - z_j)
  //   eps: the label smoothing eps, in [0, 1]
  //   num_classes: C, the number of classes
  kernels.ce_smoothed_loss = function (nll, smooth, eps, num_classes) {
    return eps*smooth/num_classes + nll*(1 - eps);
  };

  // ce_grad_coef: Row coefficient of exp(z - m).
  // SymPy: g*(eps*sw/num_classes + wt*(1 - eps))/d
  // Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   g: the upstream gradient of the row (reduction scale included)
  //   wt: the target's class weight w_t
  //   sw: sum_j w_j, the class weights' sum (C without weights)
  //   eps: the label smoothing eps, in [0, 1]
  //   num_classes: C, the number of classes
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.ce_grad_coef = function (g, wt, sw, eps, num_classes, d) {
    return g*(eps*sw/num_classes + wt*(1 - eps))/d;
  };

  // ce_grad_dense: Index-target gradient away from the target.
  // SymPy: a*e
  // Claim: kernel.ce_index_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
  //   a: a row coefficient of exp(z_k - m)
  kernels.ce_grad_dense = function (e, a) {
    return a*e;
  };

  // ce_grad_smooth_coef: Row coefficient of w_k.
  // SymPy: eps*g/num_classes
  // Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   g: the upstream gradient of the row (reduction scale included)
  //   eps: the label smoothing eps, in [0, 1]
  //   num_classes: C, the number of classes
  kernels.ce_grad_smooth_coef = function (g, eps, num_classes) {
    return eps*g/num_classes;
  };

  // log2_coef: log2 a of a row coefficient a in [0, 1] (-inf at a = 0).
  // SymPy: log(a)/log(2)
  // Claim: kernel.ce_scaled_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   a: a row coefficient of exp(z_k - m)
  kernels.log2_coef = function (a) {
    return 1.4426950408889634*Math.log(a);
  };

  // ce_grad_scaled: Gradient away from the target, 2^(u + log2 a).
  // SymPy: Exp2(la + (-m + z)/log(2))
  // Claim: kernel.ce_scaled_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   m: the row max, m = max_j z_j
  //   la: log2 a of a row coefficient a in [0, 1] (-inf where a = 0)
  kernels.ce_grad_scaled = function (z, m, la) {
    return Math.pow(2, la + 1.4426950408889634*(-m + z));
  };

  // ce_grad_scaled_smooth: Label-smoothed gradient, dense part, 2^(u + log2 a) - b w.
  // SymPy: -b*w + Exp2(la + (-m + z)/log(2))
  // Claim: kernel.ce_scaled_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   m: the row max, m = max_j z_j
  //   w: the class weight w_k (1 without weights)
  //   la: log2 a of a row coefficient a in [0, 1] (-inf where a = 0)
  //   b: a row coefficient of w_k
  kernels.ce_grad_scaled_smooth = function (z, m, w, la, b) {
    return -b*w + Math.pow(2, la + 1.4426950408889634*(-m + z));
  };

  // ce_grad_dense_smooth: Label-smoothed gradient, dense part.
  // SymPy: a*e - b*w
  // Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
  //   w: the class weight w_k (1 without weights)
  //   a: a row coefficient of exp(z_k - m)
  //   b: a row coefficient of w_k
  kernels.ce_grad_dense_smooth = function (e, w, a, b) {
    return a*e - b*w;
  };

  // folded_shift: Folded exponent u' = c z + s <= 0 (s <= -c m).
  // SymPy: c*z + s
  // Claim: kernel.ce_folded_sum (derivations/emission/ce/folded_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
  //   s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
  kernels.folded_shift = function (z, c, s) {
    return c*z + s;
  };

  // folded_sum: Row sum d = d' / 2^(c m + s) of the folded d'.
  // SymPy: df/Exp2(c*m + s)
  // Claim: kernel.ce_folded_sum (derivations/emission/ce/folded_claims.py), checked on kernels.md
  //   df: the folded row sum d' = sum_j 2^(c z_j + s)
  //   c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
  //   m: the row max, m = max_j z_j
  //   s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
  kernels.folded_sum = function (df, c, m, s) {
    return df/Math.pow(2, c*m + s);
  };

  // folded_swu: sum_j w_j u_j from its folded sum.
  // SymPy: -sw*(c*m + s) + swuf
  // Claim: kernel.ce_folded_smooth (derivations/emission/ce/folded_claims.py), checked on kernels.md
  //   swuf: sum_j w_j u'_j of the folded exponents u'_j = c z_j + s
  //   sw: sum_j w_j, the class weights' sum (C without weights)
  //   c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
  //   m: the row max, m = max_j z_j
  //   s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
  kernels.folded_swu = function (swuf, sw, c, m, s) {
    return -sw*(c*m + s) + swuf;
  };

  // folded_grad_shift: Backward's folded shift s = log2 a - c m.
  // SymPy: -c*m + la
  // Claim: kernel.ce_folded_grad (derivations/emission/ce/folded_claims.py), checked on kernels.md
  //   m: the row max, m = max_j z_j
  //   c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
  //   la: log2 a of a row coefficient a in [0, 1] (-inf where a = 0)
  kernels.folded_grad_shift = function (m, c, la) {
    return -c*m + la;
  };

  // ce_grad_folded: Gradient away from the target, 2^(c z + s).
  // SymPy: Exp2(c*z + s)
  // Claim: kernel.ce_folded_grad (derivations/emission/ce/folded_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
  //   s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
  kernels.ce_grad_folded = function (z, c, s) {
    return Math.pow(2, c*z + s);
  };

  // ce_grad_folded_smooth: Label-smoothed gradient, dense part, 2^(c z + s) - b w.
  // SymPy: -b*w + Exp2(c*z + s)
  // Claim: kernel.ce_folded_grad (derivations/emission/ce/folded_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   c: the base-2 scale 1/ln 2, a Python float (float32's value of it)
  //   w: the class weight w_k (1 without weights)
  //   s: a row's folded shift, s <= -c m (the wrapper rounds -c m down)
  //   b: a row coefficient of w_k
  kernels.ce_grad_folded_smooth = function (z, c, w, s, b) {
    return -b*w + Math.pow(2, c*z + s);
  };

  // ce_grad_at_target: Added at the target class only.
  // SymPy: -g*wt*(1 - eps)
  // Claim: kernel.ce_smoothed_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   g: the upstream gradient of the row (reduction scale included)
  //   wt: the target's class weight w_t
  //   eps: the label smoothing eps, in [0, 1]
  kernels.ce_grad_at_target = function (g, wt, eps) {
    return -g*wt*(1 - eps);
  };

  // smoothed_target: (1 - eps) y + eps / C.
  // SymPy: eps/num_classes + y*(1 - eps)
  // Claim: kernel.smoothed_target (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   y: a probability target y_k
  //   eps: the label smoothing eps, in [0, 1]
  //   num_classes: C, the number of classes
  kernels.smoothed_target = function (y, eps, num_classes) {
    return eps/num_classes + y*(1 - eps);
  };

  // ce_prob_term: Probability-target term; summed per row.
  // SymPy: w*y*(log(d) + (m - z))
  // Claim: kernel.ce_prob_loss (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   y: a probability target y_k
  //   w: the class weight w_k (1 without weights)
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.ce_prob_term = function (z, y, w, m, d) {
    return w*y*(Math.log(d) + (m - z));
  };

  // ce_prob_coef: Row coefficient g sum(w y) / d.
  // SymPy: g*swy/d
  // Claim: kernel.ce_prob_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   g: the upstream gradient of the row (reduction scale included)
  //   swy: sum_j w_j y_j of the row
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.ce_prob_coef = function (g, swy, d) {
    return g*swy/d;
  };

  // ce_prob_grad: Probability-target gradient.
  // SymPy: a*e - g*w*y
  // Claim: kernel.ce_prob_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
  //   y: a probability target y_k
  //   w: the class weight w_k (1 without weights)
  //   a: a row coefficient of exp(z_k - m)
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.ce_prob_grad = function (e, y, w, a, g) {
    return a*e - g*w*y;
  };

  // ce_prob_target_grad: Gradient w.r.t. the target.
  // SymPy: g*w*(1 - eps)*(log(d) + (m - z))
  // Claim: kernel.ce_prob_target_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   w: the class weight w_k (1 without weights)
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  //   eps: the label smoothing eps, in [0, 1]
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.ce_prob_target_grad = function (z, w, m, d, eps, g) {
    return g*w*(1 - eps)*(Math.log(d) + (m - z));
  };

  // ce_prob_weight_grad: Gradient w.r.t. w_k; summed over rows.
  // SymPy: g*y*(log(d) + (m - z))
  // Claim: kernel.ce_prob_weight_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   y: a probability target y_k
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.ce_prob_weight_grad = function (z, y, m, d, g) {
    return g*y*(Math.log(d) + (m - z));
  };

  // nll_loss_term: NLL of a log-probability: -w_t x_t.
  // SymPy: -wt*xt
  // Claim: kernel.nll_loss (derivations/emission/ce/loss_claims.py), checked on kernels.md
  //   xt: the target's log-probability (nll_loss input)
  //   wt: the target's class weight w_t
  kernels.nll_loss_term = function (xt, wt) {
    return -wt*xt;
  };

  // nll_grad_at_target: NLL gradient, added at the target class only.
  // SymPy: -g*wt
  // Claim: kernel.nll_grad (derivations/emission/ce/gradient_claims.py), checked on kernels.md
  //   g: the upstream gradient of the row (reduction scale included)
  //   wt: the target's class weight w_t
  kernels.nll_grad_at_target = function (g, wt) {
    return -g*wt;
  };

  // ce_z_loss_term: The row's z-loss s lse^2.
  // SymPy: zs*(m + log(d))**2
  // Claim: kernel.ce_z_loss (derivations/emission/ce/extras.py), checked on kernels.md
  //   zs: lse_square_scale s, the z-loss's weight
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.ce_z_loss_term = function (zs, m, d) {
    return zs*Math.pow(m + Math.log(d), 2);
  };

  // ce_z_loss_coef: The z-loss's row coefficient of exp(z - m), added to the loss's.
  // SymPy: 2*gz*zs*(m + log(d))/d
  // Claim: kernel.ce_z_loss_grad (derivations/emission/ce/extras.py), checked on kernels.md
  //   gz: the z-loss's upstream gradient of the row (1 / counted rows for 'mean'), 0 where ignored
  //   zs: lse_square_scale s, the z-loss's weight
  //   m: the row max, m = max_j z_j
  //   d: d = sum_j exp(z_j - m), 1 <= d <= C
  kernels.ce_z_loss_coef = function (gz, zs, m, d) {
    return 2*gz*zs*(m + Math.log(d))/d;
  };

  // softcap: Soft-capped logit c tanh(z / c).
  // SymPy: cap*tanh(z/cap)
  // Claim: kernel.softcap (derivations/emission/ce/extras.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   cap: softcap c > 0, the bound of the capped logits
  kernels.softcap = function (z, cap) {
    return cap*Math.tanh(z/cap);
  };

  // softcap_grad: The cap's derivative 1 - (z' / c)^2, from the capped logit.
  // SymPy: 1 - zc**2/cap**2
  // Claim: kernel.softcap_grad (derivations/emission/ce/extras.py), checked on kernels.md
  //   zc: a soft-capped logit z' = c tanh(z / c), in (-c, c)
  //   cap: softcap c > 0, the bound of the capped logits
  kernels.softcap_grad = function (zc, cap) {
    return 1 - Math.pow(zc, 2)/Math.pow(cap, 2);
  };

  // ce_hvp: Hessian-vector product a e_k (v_k - sum_j s_j v_j) of a row.
  // SymPy: a*e*(-sv + v)
  // Claim: kernel.ce_hvp (derivations/emission/ce/second_order.py), checked on kernels.md
  //   e: a shifted exponential e_k = exp(z_k - m) = 2^u_k, in (0, 1]
  //   v: a direction v_k in logit space: the cotangent of a gradient, or a tangent
  //   a: a row coefficient of exp(z_k - m)
  //   sv: sum_j s_j v_j, the softmax-weighted row sum of the direction v
  kernels.ce_hvp = function (e, v, a, sv) {
    return a*e*(-sv + v);
  };
})(typeof window !== "undefined" ? window : globalThis);
