"""Where the Triton kernels run, and with which block: CUDA tensors, or CPU tensors under TRITON_INTERPRET=1.

INTERPRETING    TRITON_INTERPRET=1 when this module was imported (Triton reads it when it decorates a
                kernel, so it must be set before kernels.triton is imported)
launch_device   the device of the tensors, after refusing what the kernels cannot run on
block_size(C)   the vocabulary tile: one fixed size under the interpreter (INTERPRET_BLOCK; no autotune,
                which needs a GPU driver), a power of two up to MAX_BLOCK on CUDA
"""

from __future__ import annotations

import torch
import triton

INTERPRETING = bool(triton.knobs.runtime.interpret)
#: The tile under the interpreter (its cost grows with programs x tiles, not elements); tests may lower it.
INTERPRET_BLOCK = 1024
#: The largest tile on CUDA: 4 float32 registers per thread at 32 warps x 32 threads would be 4096; a tile of
#: 16384 float32 spreads over 16 warps as Liger's 32768 does over 32.
MAX_BLOCK = 16384
#: Input dtypes the kernels load (and compute in float32).
DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def launch_device(*tensors: torch.Tensor | None) -> torch.device:
    """The one device of ``tensors`` (None skipped); a RuntimeError naming the fix where the kernels cannot run."""
    devices = {t.device for t in tensors if t is not None}
    if len(devices) != 1:
        raise RuntimeError(f"kernels.triton: expected all tensors on one device, got {sorted(map(str, devices))}")
    (device,) = devices
    if device.type == "cuda":
        return device
    if device.type == "cpu" and INTERPRETING:
        return device
    if device.type == "cpu" and triton.knobs.runtime.interpret:
        raise RuntimeError(
            "kernels.triton: TRITON_INTERPRET=1 was set after kernels.triton was imported, so its kernels were "
            "compiled for a GPU; set it before the first import (os.environ, or the shell) to run on CPU tensors"
        )
    raise RuntimeError(
        f"kernels.triton runs on CUDA tensors, got a tensor on {device}: move the tensors to the GPU (x.cuda()), "
        "use kernels.torch (any device), or set TRITON_INTERPRET=1 before importing kernels.triton to run the "
        "kernels on CPU tensors in Triton's interpreter (slow: for tests)"
    )


def check_dtype(dtype: torch.dtype, what: str = "logits") -> None:
    """The kernels load float32, float16 and bfloat16 and compute in float32; anything else is refused."""
    if dtype not in DTYPES:
        raise TypeError(
            f"kernels.triton computes in float32 from float32, float16 or bfloat16 {what}, got {dtype}: pass "
            f"{what}.float() (or .bfloat16()), or use kernels.torch, which computes float64 in float64"
        )


def block_size(num_classes: int) -> int:
    """The vocabulary tile: a power of two >= min(C, the limit), INTERPRET_BLOCK or MAX_BLOCK at most."""
    limit = INTERPRET_BLOCK if INTERPRETING else MAX_BLOCK
    return min(triton.next_power_of_2(max(num_classes, 1)), limit)


def num_warps(block: int) -> int:
    """Warps per program on CUDA (ignored by the interpreter): more for larger tiles, as Liger-Kernel chooses."""
    return 4 if block <= 2048 else 8 if block <= 8192 else 16
