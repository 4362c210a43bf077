// generated from derivations/emission/binary.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
/* JavaScript kernels: binary cross-entropy with logits.
 *
 * Elementwise stable forms on numbers (doubles), each proved equal to its textbook form by the claim
 * named above it (kernels.md). Row sums and the explorable live in docs/javascripts/, around these.
 */
(function (root) {
  "use strict";
  const VCE = (root.VCE = root.VCE || {});
  const kernels = (VCE.kernels = VCE.kernels || {});

  // sigmoid: Stable sigmoid exp(min(z, 0)) / (1 + exp(-|z|)).
  // SymPy: exp(Min(0, z))/(1 + exp(-Abs(z)))
  // Claim: kernel.sigmoid (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  kernels.sigmoid = function (z) {
    return Math.exp(Math.min(z, 0))/(1 + Math.exp(-Math.abs(z)));
  };

  // sigmoid_grad: The chain through a sigmoid: g sigmoid(z) sigmoid(-z), both factors in stable form.
  // SymPy: g*exp(Min(0, -z))*exp(Min(0, z))/(1 + exp(-Abs(z)))**2
  // Claim: kernel.sigmoid_grad (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.sigmoid_grad = function (z, g) {
    return g*Math.exp(Math.min(-z, 0))*Math.exp(Math.min(z, 0))/Math.pow(1 + Math.exp(-Math.abs(z)), 2);
  };

  // bce_loss: BCE with logits, elementwise (pos_weight = 1).
  // SymPy: w*(z*(1 - y) + log1p(exp(-Abs(z))) + Max(0, -z))
  // Claim: kernel.bce_loss (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   y: a probability target y_k
  //   w: the class weight w_k (1 without weights)
  kernels.bce_loss = function (z, y, w) {
    return w*(z*(1 - y) + Math.log1p(Math.exp(-Math.abs(z))) + Math.max(-z, 0));
  };

  // bce_loss_pos_weight: BCE with logits and pos_weight.
  // SymPy: w*(z*(1 - y) + (y*(pw - 1) + 1)*(log1p(exp(-Abs(z))) + Max(0, -z)))
  // Claim: kernel.bce_loss_pos_weight (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   y: a probability target y_k
  //   w: the class weight w_k (1 without weights)
  //   pw: BCE pos_weight
  kernels.bce_loss_pos_weight = function (z, y, w, pw) {
    return w*(z*(1 - y) + (y*(pw - 1) + 1)*(Math.log1p(Math.exp(-Math.abs(z))) + Math.max(-z, 0)));
  };

  // bce_grad: Gradient w.r.t. the logit (pos_weight = 1).
  // SymPy: g*w*(-y + exp(Min(0, z))/(1 + exp(-Abs(z))))
  // Claim: kernel.bce_grad (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   y: a probability target y_k
  //   w: the class weight w_k (1 without weights)
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.bce_grad = function (z, y, w, g) {
    return g*w*(-y + Math.exp(Math.min(z, 0))/(1 + Math.exp(-Math.abs(z))));
  };

  // bce_grad_pos_weight: Gradient w.r.t. the logit.
  // SymPy: g*w*(-y*(pw - 1)*exp(Min(0, -z))/(1 + exp(-Abs(z))) + ((-y + exp(Min(0, z))/(1 + exp(-Abs(z))))))
  // Claim: kernel.bce_grad_pos_weight (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   y: a probability target y_k
  //   w: the class weight w_k (1 without weights)
  //   pw: BCE pos_weight
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.bce_grad_pos_weight = function (z, y, w, pw, g) {
    return g*w*(-y*(pw - 1)*Math.exp(Math.min(-z, 0))/(1 + Math.exp(-Math.abs(z))) + ((-y + Math.exp(Math.min(z, 0))/(1 + Math.exp(-Math.abs(z))))));
  };

  // bce_target_grad: Gradient w.r.t. the target (pos_weight = 1).
  // SymPy: -g*w*z
  // Claim: kernel.bce_target_grad (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   w: the class weight w_k (1 without weights)
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.bce_target_grad = function (z, w, g) {
    return -g*w*z;
  };

  // bce_target_grad_pos_weight: Gradient w.r.t. the target.
  // SymPy: g*w*(pw*(log1p(exp(-Abs(z))) + Max(0, -z)) - log1p(exp(-Abs(z))) - Max(0, z))
  // Claim: kernel.bce_target_grad_pos_weight (derivations/emission/binary.py), checked on kernels.md
  //   z: a logit z_k of the row
  //   w: the class weight w_k (1 without weights)
  //   pw: BCE pos_weight
  //   g: the upstream gradient of the row (reduction scale included)
  kernels.bce_target_grad_pos_weight = function (z, w, pw, g) {
    return g*w*(pw*(Math.log1p(Math.exp(-Math.abs(z))) + Math.max(-z, 0)) - Math.log1p(Math.exp(-Math.abs(z))) - Math.max(z, 0));
  };
})(typeof window !== "undefined" ? window : globalThis);
