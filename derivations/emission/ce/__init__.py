"""Softmax cross-entropy and nll_loss: the kernels (forms.py) and the claims that prove them.

forms.py            every kernel of the family, declared once: name, expression, arguments, claim, summary
common.py           what the claims share: ``bind``, the textbook losses in LSE form, the rules, samplers
loss_claims.py      the loss kernels equal their textbook forms
gradient_claims.py  the gradient kernels equal the derivatives of their textbook losses
folded_claims.py    the folded forms (one fused multiply-add per element) equal the unfolded ones
"""

from __future__ import annotations

from derivations.emission.ce import extras, folded_claims, gradient_claims, loss_claims
from derivations.emission.ce.forms import kernels
from derivations.engine.core import Claim

__all__ = ["claims", "kernels"]


def claims() -> list[Claim]:
    """The family's claims: losses, gradients, the folded forms, then the extras."""
    return [*loss_claims.claims(), *gradient_claims.claims(), *folded_claims.claims(), *extras.claims()]
