"""The methods python -m benchmarks.gpu times, each a function of the inputs that returns the loss.

    cross-entropy on given logits    torch (F.cross_entropy, the unit), torch_compile (torch.compile of it),
                                     ours_torch (kernels.torch), triton (kernels.triton), triton_overwrite
                                     (its opt-in variant, the gradient over the logits), liger (Liger-Kernel)
    linear head, logits never held   reference (F.cross_entropy(F.linear(x, W), t), the unit), torch_chunked
                                     (F.linear_cross_entropy with LinearCrossEntropyOptions()), triton
                                     (kernels.triton.linear_cross_entropy), liger (its fused linear CE)

A method whose package is missing (Liger-Kernel, triton) is left out, with the reason (``unavailable``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CE_METHODS = ("torch", "torch_compile", "ours_torch", "triton", "triton_overwrite", "liger")
LINEAR_METHODS = ("reference", "torch_chunked", "triton", "liger")


def unavailable(method: str) -> str | None:
    """Why ``method`` cannot run here, or None."""
    try:
        if method in ("triton", "triton_overwrite"):
            import kernels.triton  # noqa: F401
        elif method == "liger":
            import liger_kernel  # noqa: F401
    except ImportError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def ce_method(method: str):
    """loss(logits, target) for cross-entropy on given logits (class indices, mean)."""
    if method == "torch":
        return F.cross_entropy
    if method == "torch_compile":  # dynamic: one compilation per dtype, not one per shape
        return torch.compile(F.cross_entropy, dynamic=True)
    if method == "ours_torch":
        from kernels.torch import cross_entropy

        return cross_entropy
    if method == "triton":
        from kernels.triton import cross_entropy

        return cross_entropy
    if method == "triton_overwrite":
        from kernels.triton import cross_entropy_overwrite_logits

        return cross_entropy_overwrite_logits
    if method == "liger":
        from liger_kernel.transformers.functional import liger_cross_entropy

        return liger_cross_entropy
    raise ValueError(f"unknown method {method!r}; choose from {CE_METHODS}")


def linear_method(method: str):
    """loss(x, W, target) for the linear head (class indices, mean)."""
    if method == "reference":
        return lambda x, w, t: F.cross_entropy(F.linear(x, w), t)
    if method == "torch_chunked":
        options = torch.nn.LinearCrossEntropyOptions()
        return lambda x, w, t: F.linear_cross_entropy(x, w, t, options=options)
    if method == "triton":
        from kernels.triton import linear_cross_entropy

        return linear_cross_entropy
    if method == "liger":
        from liger_kernel.transformers.functional import liger_fused_linear_cross_entropy

        return lambda x, w, t: liger_fused_linear_cross_entropy(x, w, t)
    raise ValueError(f"unknown method {method!r}; choose from {LINEAR_METHODS}")
