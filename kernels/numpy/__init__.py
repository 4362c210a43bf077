"""NumPy backend: torch.nn.functional's cross-entropy family on arrays, emitted from the derivations.

Each loss returns a NumPy array (0-d for 'mean' / 'sum'); ``<name>_grad(..., grad_output=None)``
returns the vector-Jacobian product with respect to ``input`` (grad_output defaults to ones of the
loss's shape), and ``cross_entropy_with_grad`` both from one pass. Arguments, defaults, exception types
and messages follow kernels.torch. The math comes from `kernels/_generated/numpy_*.py`; float16 is
computed and summed in float32. No SciPy.
"""

# Beside this file (private; not part of the API):
# _functional.py   cross_entropy, nll_loss and their gradients, explain, warn_on_misuse
# _ce.py           the block loops of softmax cross-entropy and nll_loss
# _linear.py       linear_cross_entropy and its gradients, chunked
# _pointwise.py    BCE with logits, kl_div, and entropy / cross-entropy / KL divergence along an axis
# _arrays.py       what they share: arrays in, the working dtype, the upstream gradient, reduce

from kernels.numpy._functional import (
    cross_entropy,
    cross_entropy_grad,
    cross_entropy_with_grad,
    explain,
    nll_loss,
    nll_loss_grad,
    warn_on_misuse,
)
from kernels.numpy._linear import linear_cross_entropy, linear_cross_entropy_grad
from kernels.numpy._pointwise import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    distribution_cross_entropy,
    entropy,
    kl_div,
    kl_div_grad,
    kl_divergence,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "cross_entropy_with_grad",
    "distribution_cross_entropy",
    "entropy",
    "explain",
    "kl_div",
    "kl_div_grad",
    "kl_divergence",
    "linear_cross_entropy",
    "linear_cross_entropy_grad",
    "nll_loss",
    "nll_loss_grad",
    "warn_on_misuse",
]
