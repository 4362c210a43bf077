"""The opt-in switch that sends kernels.torch's CUDA calls to the Triton kernels (kernels.triton). Off by default.

    VCE_TRITON=1                  in the environment, read at every call
    kernels.torch.use_triton()    process-wide, overriding the environment; use_triton(False) off,
                                  use_triton(None) back to the environment

Off by default because no GPU has yet run the Triton parity grid (tests/test_triton_cuda.py). When on, a call
whose tensors are all CUDA tensors of float32, float16 or bfloat16 goes to kernels.triton; everything else
(CPU tensors, float64, torch.compile tracing, torch.func transforms) stays on the torch operators, the fallback.
"""

from __future__ import annotations

import os

import torch

from kernels.torch._ops import transformed

_CHOICE: list = [None]  # None: the environment decides
_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def use_triton(enabled: bool | None = True) -> bool | None:
    """Send CUDA calls to kernels.triton (True), keep them on torch (False), or follow VCE_TRITON (None);
    returns the previous setting."""
    previous, _CHOICE[0] = _CHOICE[0], enabled
    return previous


def triton_backend(*tensors):
    """kernels.triton when the switch is on and every tensor given (None skipped) can go there, else None."""
    on = _CHOICE[0] if _CHOICE[0] is not None else os.environ.get("VCE_TRITON") == "1"
    present = [t for t in tensors if t is not None]
    if not on or not all(isinstance(t, torch.Tensor) and t.is_cuda for t in present):
        return None
    if not all(t.dtype in _DTYPES or not t.is_floating_point() for t in present) or not present[0].is_floating_point():
        return None
    if torch.compiler.is_compiling() or transformed(*present):
        return None
    import kernels.triton  # an ImportError naming the fix where triton is not installed

    return kernels.triton
