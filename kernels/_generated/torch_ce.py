# generated from derivations/kernel_ce.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
"""PyTorch kernels: softmax cross-entropy and nll_loss.

Elementwise stable forms, each proved equal to its textbook form by the claim named in its docstring
(kernels.md). Row sums, masking, reductions and autograd live in kernels/torch.py and its helpers.
"""

import torch


def shifted_exp(z, m):
    """Shifted exponential exp(z - m) <= 1; its row sum is d.

    SymPy: exp(-m + z)
    Claim: kernel.lse, checked on kernels.md
    """
    return torch.exp(-m + z)


def lse(m, d):
    """Row log-sum-exp lse = m + log d.

    SymPy: m + log(d)
    Claim: kernel.lse, checked on kernels.md
    """
    return m + torch.log(d)


def probs(z, m, d):
    """Softmax exp(z - m) / d.

    SymPy: exp(-m + z)/d
    Claim: kernel.probs, checked on kernels.md
    """
    return torch.exp(-m + z) / d


def ce_index_loss(zt, wt, m, d):
    """Index-target loss w_t ((m - z_t) + log d).

    SymPy: wt*(log(d) + (m - zt))
    Claim: kernel.ce_index_loss, checked on kernels.md
    """
    return wt * (torch.log(d) + (m - zt))


def ce_smooth_term(z, w, m, d):
    """Smoothing term w_k (lse - z_k); summed per row.

    SymPy: w*(log(d) + (m - z))
    Claim: kernel.ce_smooth_term, checked on kernels.md
    """
    return w * (torch.log(d) + (m - z))


def ce_smoothed_loss(nll, smooth, eps, num_classes):
    """Label-smoothed row loss.

    SymPy: eps*smooth/num_classes + nll*(1 - eps)
    Claim: kernel.ce_label_smoothing, checked on kernels.md
    """
    return eps * smooth / num_classes + nll * (1 - eps)


def ce_grad_coef(g, wt, sw, eps, num_classes, d):
    """Row coefficient of exp(z - m).

    SymPy: g*(eps*sw/num_classes + wt*(1 - eps))/d
    Claim: kernel.ce_smoothed_grad, checked on kernels.md
    """
    return g * (eps * sw / num_classes + wt * (1 - eps)) / d


def ce_grad_dense(z, m, a):
    """Index-target gradient away from the target.

    SymPy: a*exp(-m + z)
    Claim: kernel.ce_index_grad, checked on kernels.md
    """
    return a * torch.exp(-m + z)


def ce_grad_smooth_coef(g, eps, num_classes):
    """Row coefficient of w_k.

    SymPy: eps*g/num_classes
    Claim: kernel.ce_smoothed_grad, checked on kernels.md
    """
    return eps * g / num_classes


def ce_grad_dense_smooth(z, w, m, a, b):
    """Label-smoothed gradient, dense part.

    SymPy: a*exp(-m + z) - b*w
    Claim: kernel.ce_smoothed_grad, checked on kernels.md
    """
    return a * torch.exp(-m + z) - b * w


def ce_grad_at_target(g, wt, eps):
    """Added at the target class only.

    SymPy: -g*wt*(1 - eps)
    Claim: kernel.ce_smoothed_grad, checked on kernels.md
    """
    return -g * wt * (1 - eps)


def smoothed_target(y, eps, num_classes):
    """(1 - eps) y + eps / C.

    SymPy: eps/num_classes + y*(1 - eps)
    Claim: kernel.smoothed_target, checked on kernels.md
    """
    return eps / num_classes + y * (1 - eps)


def ce_prob_term(z, y, w, m, d):
    """Probability-target term; summed per row.

    SymPy: w*y*(log(d) + (m - z))
    Claim: kernel.ce_prob_loss, checked on kernels.md
    """
    return w * y * (torch.log(d) + (m - z))


def ce_prob_coef(g, swy, d):
    """Row coefficient g sum(w y) / d.

    SymPy: g*swy/d
    Claim: kernel.ce_prob_grad, checked on kernels.md
    """
    return g * swy / d


def ce_prob_grad(z, y, w, m, a, g):
    """Probability-target gradient.

    SymPy: a*exp(-m + z) - g*w*y
    Claim: kernel.ce_prob_grad, checked on kernels.md
    """
    return a * torch.exp(-m + z) - g * w * y


def ce_prob_target_grad(z, w, m, d, eps, g):
    """Gradient w.r.t. the target.

    SymPy: g*w*(1 - eps)*(log(d) + (m - z))
    Claim: kernel.ce_prob_target_grad, checked on kernels.md
    """
    return g * w * (1 - eps) * (torch.log(d) + (m - z))


def ce_prob_weight_grad(z, y, m, d, g):
    """Gradient w.r.t. w_k; summed over rows.

    SymPy: g*y*(log(d) + (m - z))
    Claim: kernel.ce_prob_weight_grad, checked on kernels.md
    """
    return g * y * (torch.log(d) + (m - z))


def nll_loss_term(xt, wt):
    """NLL of a log-probability: -w_t x_t.

    SymPy: -wt*xt
    Claim: kernel.nll_loss, checked on kernels.md
    """
    return -wt * xt


def nll_grad_at_target(g, wt):
    """NLL gradient, added at the target class only.

    SymPy: -g*wt
    Claim: kernel.nll_grad, checked on kernels.md
    """
    return -g * wt
