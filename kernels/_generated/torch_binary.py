# generated from derivations/emission/binary.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
"""PyTorch kernels: binary cross-entropy with logits.

Elementwise stable forms, each proved equal to its textbook form by the claim named in its docstring
(kernels.md). Row sums, masking, reductions and autograd live in kernels/torch/, around these functions.
"""

import torch


def sigmoid(z):
    """Stable sigmoid exp(min(z, 0)) / (1 + exp(-|z|)).

    SymPy: exp(Min(0, z))/(1 + exp(-Abs(z)))
    Claim: kernel.sigmoid (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
    """
    return torch.exp(torch.clamp_max(z, 0)) / (1 + torch.exp(-torch.abs(z)))


def sigmoid_grad(z, g):
    """The chain through a sigmoid: g sigmoid(z) sigmoid(-z), both factors in stable form.

    SymPy: g*exp(Min(0, -z))*exp(Min(0, z))/(1 + exp(-Abs(z)))**2
    Claim: kernel.sigmoid_grad (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        g: the upstream gradient of the row (reduction scale included)
    """
    return (
        g * torch.exp(torch.clamp_max(-z, 0)) * torch.exp(torch.clamp_max(z, 0)) / (1 + torch.exp(-torch.abs(z))) ** 2
    )


def bce_loss(z, y, w):
    """BCE with logits, elementwise (pos_weight = 1).

    SymPy: w*(z*(1 - y) + log1p(exp(-Abs(z))) + Max(0, -z))
    Claim: kernel.bce_loss (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        y: a probability target y_k
        w: the class weight w_k (1 without weights)
    """
    return w * (z * (1 - y) + torch.log1p(torch.exp(-torch.abs(z))) + torch.clamp_min(-z, 0))


def bce_loss_pos_weight(z, y, w, pw):
    """BCE with logits and pos_weight.

    SymPy: w*(z*(1 - y) + (y*(pw - 1) + 1)*(log1p(exp(-Abs(z))) + Max(0, -z)))
    Claim: kernel.bce_loss_pos_weight (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        y: a probability target y_k
        w: the class weight w_k (1 without weights)
        pw: BCE pos_weight
    """
    return w * (z * (1 - y) + (y * (pw - 1) + 1) * (torch.log1p(torch.exp(-torch.abs(z))) + torch.clamp_min(-z, 0)))


def bce_grad(z, y, w, g):
    """Gradient w.r.t. the logit (pos_weight = 1).

    SymPy: g*w*(-y + exp(Min(0, z))/(1 + exp(-Abs(z))))
    Claim: kernel.bce_grad (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        y: a probability target y_k
        w: the class weight w_k (1 without weights)
        g: the upstream gradient of the row (reduction scale included)
    """
    return g * w * (-y + torch.exp(torch.clamp_max(z, 0)) / (1 + torch.exp(-torch.abs(z))))


def bce_grad_pos_weight(z, y, w, pw, g):
    """Gradient w.r.t. the logit.

    SymPy: g*w*(-y*(pw - 1)*exp(Min(0, -z))/(1 + exp(-Abs(z))) + ((-y + exp(Min(0, z))/(1 + exp(-Abs(z))))))
    Claim: kernel.bce_grad_pos_weight (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        y: a probability target y_k
        w: the class weight w_k (1 without weights)
        pw: BCE pos_weight
        g: the upstream gradient of the row (reduction scale included)
    """
    return (
        g
        * w
        * (
            -y * (pw - 1) * torch.exp(torch.clamp_max(-z, 0)) / (1 + torch.exp(-torch.abs(z)))
            + (-y + torch.exp(torch.clamp_max(z, 0)) / (1 + torch.exp(-torch.abs(z))))
        )
    )


def bce_target_grad(z, w, g):
    """Gradient w.r.t. the target (pos_weight = 1).

    SymPy: -g*w*z
    Claim: kernel.bce_target_grad (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        w: the class weight w_k (1 without weights)
        g: the upstream gradient of the row (reduction scale included)
    """
    return -g * w * z


def bce_target_grad_pos_weight(z, w, pw, g):
    """Gradient w.r.t. the target.

    SymPy: g*w*(pw*(log1p(exp(-Abs(z))) + Max(0, -z)) - log1p(exp(-Abs(z))) - Max(0, z))
    Claim: kernel.bce_target_grad_pos_weight (derivations/emission/binary.py), checked on kernels.md

    Args:
        z: a logit z_k of the row
        w: the class weight w_k (1 without weights)
        pw: BCE pos_weight
        g: the upstream gradient of the row (reduction scale included)
    """
    return (
        g
        * w
        * (
            pw * (torch.log1p(torch.exp(-torch.abs(z))) + torch.clamp_min(-z, 0))
            - torch.log1p(torch.exp(-torch.abs(z)))
            - torch.clamp_min(z, 0)
        )
    )
