"""PyTorch backend: a drop-in for torch.nn.functional's cross-entropy family, emitted from the derivations.

Same names, arguments, defaults, results and exception types as torch.nn.functional / torch.nn
(torch 2.13), with clearer messages. The math comes from `kernels/_generated/torch_*.py`; the modules
beside this file validate, reshape, mask and reduce. Differences that are improvements: half-precision
inputs sum in float32 (float16 label-smoothing mean stays finite at N = 4096, C = 10, where torch
overflows to inf), and no N x C log-probabilities are kept: forward saves per-row statistics (m and d,
2 N floats) and backward recomputes the gradient from them straight into its own buffer (forward +
backward peak at 1 L, one logits tensor, against torch's 3 L). The opt-in
``cross_entropy_overwrite_logits`` writes the gradient over the logits instead (0 L; it destroys them).

On CUDA, class-index targets are range-checked before any kernel runs (an IndexError, never a
device-side assert); that check costs one device synchronisation per call, and
``with unchecked_targets():`` skips it.

Opt-in, off by default: with ``VCE_TRITON=1`` in the environment (read at every call) or after
``use_triton()``, calls on CUDA tensors of float32, float16 or bfloat16 run the Triton kernels of
kernels.triton; CPU tensors and everything else stay here. No GPU has yet run the Triton parity grid.
"""

# Beside this file (private; not part of the API):
# _functional.py   cross_entropy, nll_loss, binary_cross_entropy_with_logits, kl_div, entropy, ..., explain
# _modules.py      CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss, KLDivLoss, LinearCrossEntropyLoss
# _linear.py       linear_cross_entropy, chunked; _linear_chunks.py its chunk loop
# _overwrite.py    cross_entropy_overwrite_logits (opt-in: the gradient is written over the logits)
# _targets.py      class-index targets (range check, ignore_index), the (N, C, S) view, unchecked_targets
# _ce_indices.py   the autograd functions of index-target cross-entropy; _row_pass.py its forward pass,
#                  _ce_gradient.py its gradient; _fold.py the folded exponent (one fused multiply-add)
# _ce_probs.py     probability targets;  _nll.py nll_loss;  _pointwise.py BCE with logits and kl_div
# _triton_switch.py  use_triton / VCE_TRITON=1: CUDA calls to kernels.triton (opt-in, off by default)
# _refusals.py     what the overwrite variants refuse
# _autograd.py     what the autograd functions share: working dtype, upstream gradient, reduce

from kernels.torch._functional import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    distribution_cross_entropy,
    entropy,
    explain,
    kl_div,
    kl_divergence,
    nll_loss,
    warn_on_misuse,
)
from kernels.torch._linear import linear_cross_entropy
from kernels.torch._modules import BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, LinearCrossEntropyLoss, NLLLoss
from kernels.torch._overwrite import cross_entropy_overwrite_logits
from kernels.torch._targets import unchecked_targets
from kernels.torch._triton_switch import use_triton

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "KLDivLoss",
    "LinearCrossEntropyLoss",
    "NLLLoss",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "cross_entropy_overwrite_logits",
    "distribution_cross_entropy",
    "entropy",
    "explain",
    "kl_div",
    "kl_divergence",
    "linear_cross_entropy",
    "nll_loss",
    "unchecked_targets",
    "use_triton",
    "warn_on_misuse",
]
