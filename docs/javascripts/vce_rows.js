/* Row functions of the explorable: softmax cross-entropy of one row of logits, its gradient, and the three
 * inputs a model can feed it (raw logits, softmax first, sigmoid first), on numbers (doubles).
 *
 * The arithmetic is the emitted docs/javascripts/_generated/vce_*.js (VCE.kernels), each kernel checked by
 * SymPy; this file holds only the row sums and the loops around them, as kernels/torch/ does for tensors:
 *
 *   m = max_j x_j,  e_j = exp(x_j - m),  d = sum_j e_j,  lse = m + log d         (kernel.lse)
 *   p_k = e_k / d                                                                (kernel.probs)
 *   loss = (1 - eps) w_t ((m - x_t) + log d) + eps / C sum_j w_j (lse - x_j)    (kernel.ce_index_loss,
 *                                                                                 kernel.ce_label_smoothing)
 *   dloss/dx_k = a e_k - b w_k - (1 - eps) w_t [k = t]                          (kernel.ce_smoothed_grad)
 *   sigmoid first: x = sigmoid(z), dloss/dz = dloss/dx sigmoid(z) sigmoid(-z)   (kernel.sigmoid_grad)
 *   softmax first: x = softmax(z), dloss/dz = s (g - sum_j s_j g_j)             (kernel.ce_hvp: the Jacobian
 *                                                                                 of softmax is diag(s) - s s^T)
 *
 * The loss is torch's for one row with reduction 'none' (so a class weight scales it):
 * F.cross_entropy(x[None], t[None], weight, label_smoothing=eps, reduction="none")[0].
 */
(function (root) {
  "use strict";
  const VCE = (root.VCE = root.VCE || {});

  function kernels() {
    if (!VCE.kernels || !VCE.kernels.lse) throw new Error("VCE.kernels missing: load docs/javascripts/_generated first");
    return VCE.kernels;
  }

  function sum(values) {
    let total = 0;
    for (const v of values) total += v;
    return total;
  }

  /** m, the shifted exponentials e, d and lse of a row of logits x. */
  function stats(x) {
    const K = kernels();
    const m = Math.max(...x);
    const e = x.map((xk) => K.shifted_exp(xk, m));
    const d = sum(e);
    return { m, e, d, lse: K.lse(m, d) };
  }

  /** Index-target cross-entropy of one row: loss, probabilities and dloss/dx for target t.
   *  options: weight (array of C, or null), eps (label smoothing). */
  function crossEntropy(x, t, options = {}) {
    const K = kernels();
    const C = x.length;
    const w = options.weight || x.map(() => 1);
    const eps = options.eps || 0;
    const { m, e, d, lse } = stats(x);
    const wt = w[t];
    const sw = sum(w);
    const nll = K.ce_index_loss(x[t], wt, m, d);
    let loss = nll;
    if (eps > 0) {
      const swu = sum(x.map((xk, k) => w[k] * K.base2_shift(xk, m))); // sum_j w_j u_j
      loss = K.ce_smoothed_loss(nll, K.ce_smooth_row(sw, d, swu), eps, C);
    }
    const a = K.ce_grad_coef(1, wt, sw, eps, C, d);
    const b = K.ce_grad_smooth_coef(1, eps, C);
    const grad = e.map((ek, k) => K.ce_grad_dense_smooth(ek, w[k], a, b) + (k === t ? K.ce_grad_at_target(1, wt, eps) : 0));
    const probs = x.map((xk) => K.probs(xk, m, d));
    return { loss, lse, probs, grad, m, d };
  }

  /** Probability-target cross-entropy of one row: sum_j w_j y'_j (lse - x_j), y' the smoothed target. */
  function crossEntropyProb(x, y, options = {}) {
    const K = kernels();
    const C = x.length;
    const w = options.weight || x.map(() => 1);
    const eps = options.eps || 0;
    const { m, e, d, lse } = stats(x);
    const ys = y.map((yk) => (eps > 0 ? K.smoothed_target(yk, eps, C) : yk));
    const loss = sum(x.map((xk, k) => K.ce_prob_term(xk, ys[k], w[k], m, d)));
    const a = K.ce_prob_coef(1, sum(ys.map((yk, k) => w[k] * yk)), d);
    const grad = e.map((ek, k) => K.ce_prob_grad(ek, ys[k], w[k], a, 1));
    return { loss, lse, probs: x.map((xk) => K.probs(xk, m, d)), grad, m, d };
  }

  /** What the model feeds the loss: the raw logits z, softmax(z) or sigmoid(z) (the bug), and the chain rule
   *  back to z of a gradient with respect to that input. */
  const MODES = {
    raw: { fed: (z) => z.slice(), back: (z, g) => g.slice() },
    softmax: {
      fed: (z) => stats(z).e.map((ek, k, e) => ek / sum(e)),
      back: (z, g) => {
        const K = kernels();
        const { e, d } = stats(z);
        const sg = sum(e.map((ek, k) => (ek / d) * g[k])); // sum_j s_j g_j
        return e.map((ek, k) => K.ce_hvp(ek, g[k], 1 / d, sg)); // s_k (g_k - sum_j s_j g_j)
      },
    },
    sigmoid: {
      fed: (z) => z.map((zk) => kernels().sigmoid(zk)),
      back: (z, g) => z.map((zk, k) => kernels().sigmoid_grad(zk, g[k])),
    },
  };

  /** Everything the explorable shows for raw logits z, target t and a mode ('raw', 'softmax', 'sigmoid'):
   *  the input fed to the loss, its softmax, lse, the loss, dloss/dx and dloss/dz; and for a bounded input the
   *  limits it imposes: the largest target probability and the loss there (fed 1 at t, 0 elsewhere, with
   *  the same weight and smoothing as the loss shown). */
  function explore(z, t, mode = "raw", options = {}) {
    const how = MODES[mode];
    if (!how) throw new Error(`unknown mode ${mode}: raw, softmax or sigmoid`);
    const x = how.fed(z);
    const out = crossEntropy(x, t, options);
    const result = { mode, fed: x, ...out, gradFed: out.grad, gradLogits: how.back(z, out.grad) };
    if (mode !== "raw") {
      const best = z.map((_, k) => (k === t ? 1 : 0)); // the best a bounded input in [0, 1] can do
      const limit = crossEntropy(best, t, options); // the same weight and smoothing as the loss shown
      result.bestProb = limit.probs[t];
      result.lossFloor = limit.loss;
    }
    return result;
  }

  VCE.rows = { stats, crossEntropy, crossEntropyProb, explore, modes: Object.keys(MODES) };
})(typeof window !== "undefined" ? window : globalThis);
