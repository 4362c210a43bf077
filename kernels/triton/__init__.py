"""Triton backend: torch.nn.functional's softmax cross-entropy family as Triton kernels on CUDA tensors.

Same names, arguments, defaults, results and exception types as kernels.torch (and torch.nn.functional):
``cross_entropy``, ``nll_loss``, ``linear_cross_entropy`` and the opt-in ``cross_entropy_overwrite_logits``.
The elementwise math is emitted (kernels/_generated/triton_ce.py, @triton.jit helpers of the checked kernel
forms); the row loops beside this file are hand-written around it: one program per row, an online max and
sum over vocabulary tiles, float32 arithmetic from float32, float16 or bfloat16 loads, int64 offsets, per-row
losses reduced in torch. On CPU tensors the kernels run in Triton's interpreter when TRITON_INTERPRET=1 is set
before this package is imported (slow: for tests); otherwise a CPU tensor is a RuntimeError naming the fix.
kernels.torch sends CUDA tensors here when asked to (``VCE_TRITON=1`` or ``kernels.torch.use_triton()``).
"""

# Beside this file (private; not part of the API):
# _functional.py     cross_entropy, nll_loss, cross_entropy_overwrite_logits: validation, then the autograd
# _linear.py         linear_cross_entropy: kernels.torch's chunk loop with the Triton pass per chunk
# _autograd.py       the autograd functions; _launch.py the class-last rows, buffers and launches
# _index_kernels.py  class indices;  _prob_kernels.py probabilities;  _nll_kernels.py nll_loss
# _row_loops.py      the tile load and the online max and sum;  _offsets.py int64 row offsets
# _runtime.py        where the kernels run (CUDA, or the interpreter) and the tile size

try:
    import triton  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised where triton is absent
    raise ImportError(
        "kernels.triton needs the triton package, which is not installed: `pip install triton==3.9.0` (Linux "
        "x86_64; the CUDA wheels of torch bring it), or use kernels.torch, which runs everywhere"
    ) from exc

from kernels.triton._functional import cross_entropy, cross_entropy_overwrite_logits, nll_loss
from kernels.triton._linear import linear_cross_entropy

__all__ = ["cross_entropy", "cross_entropy_overwrite_logits", "linear_cross_entropy", "nll_loss"]
