# generated from derivations/emission/kl.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
"""PyTorch kernels: kl_div and the information quantities (0 log 0 = 0).

Elementwise stable forms, each proved equal to its textbook form by the claim named in its docstring
(kernels.md). Row sums, masking, reductions and autograd live in kernels/torch/, around these functions.
"""

import torch


def kl_div_term(x, p):
    """kl_div pointwise: p (log p - x), 0 where p = 0.

    SymPy: -p*x + XLogY(p, p)
    Claim: kernel.kl_div (derivations/emission/kl.py), checked on kernels.md

    Args:
        x: kl_div input, a log-probability log q
        p: a probability (may be 0)
    """
    return -p * x + torch.xlogy(p, p)


def kl_div_log_target_term(x, lp):
    """kl_div pointwise, log target.

    SymPy: (lp - x)*exp(lp)
    Claim: kernel.kl_div_log_target (derivations/emission/kl.py), checked on kernels.md

    Args:
        x: kl_div input, a log-probability log q
        lp: a log-probability target (kl_div log_target)
    """
    return (lp - x) * torch.exp(lp)


def kl_div_grad(p, g):
    """kl_div gradient w.r.t. the input.

    SymPy: -g*p
    Claim: kernel.kl_div_grad (derivations/emission/kl.py), checked on kernels.md

    Args:
        p: a probability (may be 0)
        g: the upstream gradient of the row (reduction scale included)
    """
    return -g * p


def kl_div_log_target_grad(lp, g):
    """kl_div (log target) input gradient.

    SymPy: -g*exp(lp)
    Claim: kernel.kl_div_log_target_grad (derivations/emission/kl.py), checked on kernels.md

    Args:
        lp: a log-probability target (kl_div log_target)
        g: the upstream gradient of the row (reduction scale included)
    """
    return -g * torch.exp(lp)


def kl_div_target_grad(x, p, g):
    """kl_div gradient w.r.t. the target.

    SymPy: g*(-x + log(p) + 1)
    Claim: kernel.kl_div_target_grad (derivations/emission/kl.py), checked on kernels.md

    Args:
        x: kl_div input, a log-probability log q
        p: a probability (may be 0)
        g: the upstream gradient of the row (reduction scale included)
    """
    return g * (-x + torch.log(p) + 1)


def kl_div_log_target_target_grad(x, lp, g):
    """Log-target gradient.

    SymPy: g*(lp - x + 1)*exp(lp)
    Claim: kernel.kl_div_log_target_target_grad (derivations/emission/kl.py), checked on kernels.md

    Args:
        x: kl_div input, a log-probability log q
        lp: a log-probability target (kl_div log_target)
        g: the upstream gradient of the row (reduction scale included)
    """
    return g * (lp - x + 1) * torch.exp(lp)


def entropy_term(p):
    """Entropy term -xlogy(p, p); summed along the axis.

    SymPy: -XLogY(p, p)
    Claim: kernel.entropy_term (derivations/emission/kl.py), checked on kernels.md

    Args:
        p: a probability (may be 0)
    """
    return -torch.xlogy(p, p)


def cross_entropy_term(p, q):
    """Cross-entropy term -xlogy(p, q).

    SymPy: -XLogY(p, q)
    Claim: kernel.cross_entropy_term (derivations/emission/kl.py), checked on kernels.md

    Args:
        p: a probability (may be 0)
        q: a model probability (may be 0)
    """
    return -torch.xlogy(p, q)


def kl_term(p, q):
    """KL term xlogy(p, p) - xlogy(p, q).

    SymPy: XLogY(p, p) - XLogY(p, q)
    Claim: kernel.kl_term (derivations/emission/kl.py), checked on kernels.md

    Args:
        p: a probability (may be 0)
        q: a model probability (may be 0)
    """
    return torch.xlogy(p, p) - torch.xlogy(p, q)
