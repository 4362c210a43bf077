"""Softmax cross-entropy and nll_loss: the kernels (forms.py) and the claims that prove them.

forms.py            every kernel of the family, declared once: name, expression, arguments, claim, summary
common.py           what the claims share: ``bind``, the textbook losses in LSE form, the rules, samplers
loss_claims.py      the loss kernels equal their textbook forms
gradient_claims.py  the gradient kernels equal the derivatives of their textbook losses
folded_claims.py    the folded forms (one fused multiply-add per element) equal the unfolded ones
second_order.py     the Hessian-vector product kernel and its claims
"""

from __future__ import annotations

from derivations.emission.ce import extras, folded_claims, forms, gradient_claims, loss_claims, second_order
from derivations.emission.kernel import Kernel
from derivations.engine.core import Claim

__all__ = ["claims", "kernels"]


def kernels() -> list[Kernel]:
    """The family's kernels, in emission order: forms.py's, then the Hessian-vector product."""
    return [*forms.kernels(), *second_order.kernels()]


def claims() -> list[Claim]:
    """The family's claims: losses, gradients, the folded forms, the second order, then the extras."""
    return [
        *loss_claims.claims(),
        *gradient_claims.claims(),
        *folded_claims.claims(),
        *second_order.claims(),
        *extras.claims(),
    ]
