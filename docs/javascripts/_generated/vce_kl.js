// generated from derivations/emission/kl.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
/* JavaScript kernels: kl_div and the information quantities (0 log 0 = 0).
 *
 * Elementwise stable forms on numbers (doubles), each proved equal to its textbook form by the claim
 * named above it (kernels.md). Row sums and the explorable live in docs/javascripts/, around these.
 */
(function (root) {
  "use strict";
  const VCE = (root.VCE = root.VCE || {});
  const kernels = (VCE.kernels = VCE.kernels || {});

  // x log y, and 0 where x == 0 unless y is NaN (torch.xlogy; 0 log 0 = 0)
  function xlogy(x, y) {
    return x === 0 && !Number.isNaN(y) ? 0 : x * Math.log(y);
  }

  // kl_div_term: kl_div pointwise: p (log p - x), 0 where p = 0.
  // SymPy: -p*x + XLogY(p, p)
  // Claim: kernel.kl_div (derivations/emission/kl.py), checked on kernels.md
  //   x: kl_div input, a log-probability log q
  //   p: a probability (may be 0)
  kernels.kl_div_term = function (x, p) {
    return -p*x + xlogy(p, p);
  };

  // kl_div_log_target_term: kl_div pointwise, log target.
  // SymPy: (lp - x)*exp(lp)
  // Claim: kernel.kl_div_log_target (derivations/emission/kl.py), checked on kernels.md
  //   x: kl_div input, a log-probability log q
  //   lp: a log-probability target (kl_div log_target)
  kernels.kl_div_log_target_term = function (x, lp) {
    return (lp - x)*Math.exp(lp);
  };

  // kl_div_grad: kl_div gradient w.r.t. the input.
  // SymPy: -g*p
  // Claim: kernel.kl_div_grad (derivations/emission/kl.py), checked on kernels.md
  //   p: a probability (may be 0)
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.kl_div_grad = function (p, g) {
    return -g*p;
  };

  // kl_div_log_target_grad: kl_div (log target) input gradient.
  // SymPy: -g*exp(lp)
  // Claim: kernel.kl_div_log_target_grad (derivations/emission/kl.py), checked on kernels.md
  //   lp: a log-probability target (kl_div log_target)
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.kl_div_log_target_grad = function (lp, g) {
    return -g*Math.exp(lp);
  };

  // kl_div_target_grad: kl_div gradient w.r.t. the target.
  // SymPy: g*(-x + log(p) + 1)
  // Claim: kernel.kl_div_target_grad (derivations/emission/kl.py), checked on kernels.md
  //   x: kl_div input, a log-probability log q
  //   p: a probability (may be 0)
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.kl_div_target_grad = function (x, p, g) {
    return g*(-x + Math.log(p) + 1);
  };

  // kl_div_log_target_target_grad: Log-target gradient.
  // SymPy: g*(lp - x + 1)*exp(lp)
  // Claim: kernel.kl_div_log_target_target_grad (derivations/emission/kl.py), checked on kernels.md
  //   x: kl_div input, a log-probability log q
  //   lp: a log-probability target (kl_div log_target)
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.kl_div_log_target_target_grad = function (x, lp, g) {
    return g*(lp - x + 1)*Math.exp(lp);
  };

  // entropy_term: Entropy term -xlogy(p, p); summed along the axis.
  // SymPy: -XLogY(p, p)
  // Claim: kernel.entropy_term (derivations/emission/kl.py), checked on kernels.md
  //   p: a probability (may be 0)
  kernels.entropy_term = function (p) {
    return -xlogy(p, p);
  };

  // cross_entropy_term: Cross-entropy term -xlogy(p, q).
  // SymPy: -XLogY(p, q)
  // Claim: kernel.cross_entropy_term (derivations/emission/kl.py), checked on kernels.md
  //   p: a probability (may be 0)
  //   q: a model probability (may be 0)
  kernels.cross_entropy_term = function (p, q) {
    return -xlogy(p, q);
  };

  // kl_term: KL term xlogy(p, p) - xlogy(p, q).
  // SymPy: XLogY(p, p) - XLogY(p, q)
  // Claim: kernel.kl_term (derivations/emission/kl.py), checked on kernels.md
  //   p: a probability (may be 0)
  //   q: a model probability (may be 0)
  kernels.kl_term = function (p, q) {
    return xlogy(p, p) - xlogy(p, q);
  };
})(typeof window !== "undefined" ? window : globalThis);
