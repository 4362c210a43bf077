"""Benchmark cases: one loss call (forward, or forward + backward) by one method on one shape.

A case is a plain dict so that it can cross into a subprocess for the memory measurement:
    {"method": "torch" | "ours" | "ours_inplace" | "numpy", "pass": "forward" | "forward_backward",
     "n": 4096, "c": 32000, "options": {"weight": bool, "ignore_index": bool, "label_smoothing": float},
     "device": "cpu" | "cuda", "dtype": "float32" | "bfloat16"}     (the last two optional: cpu, float32)

The pass "forward_grad" (memory only) is a forward on logits that require grad, with no backward: what a
forward keeps for its backward.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

METHODS = ("torch", "ours", "ours_inplace", "numpy")
PASSES = ("forward", "forward_backward")
SHAPES = ((8192, 1000), (4096, 32000), (512, 128256))
OPTION_SETS = {
    "plain": {},
    "weight+ignore+ls": {"weight": True, "ignore_index": True, "label_smoothing": 0.1},
}


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def inputs(
    n: int, c: int, options: dict, seed: int = 0, device: str = "cpu", dtype: str = "float32"
) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Logits (N, C) of ``dtype``, int64 targets and the keyword arguments the options ask for, on ``device``
    (drawn on the CPU, so every device gets the same numbers)."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=gen).to(device=device, dtype=DTYPES[dtype])
    target = torch.randint(0, c, (n,), generator=gen)
    kwargs: dict = {}
    if options.get("weight"):  # torch takes a weight of the logits' dtype
        kwargs["weight"] = (torch.rand(c, generator=gen) + 0.5).to(device=device, dtype=DTYPES[dtype])
    if options.get("ignore_index"):
        target[::7] = -100  # every 7th position is ignored
        kwargs["ignore_index"] = -100
    if options.get("label_smoothing"):
        kwargs["label_smoothing"] = float(options["label_smoothing"])
    return logits, target.to(device), kwargs


class Case:
    """run() performs the case once; reset() drops what a run leaves behind (the gradient)."""

    def __init__(self, spec: dict, logits: torch.Tensor, target: torch.Tensor, kwargs: dict):
        self.spec, self.logits, self.target, self.kwargs = spec, logits, target, kwargs
        self.backward = spec["pass"] == "forward_backward"
        self.needs_grad = spec["pass"] in ("forward_backward", "forward_grad")
        self.run: Callable[[], None] = self._make()

    def _make(self) -> Callable[[], None]:
        method = self.spec["method"]
        if method == "numpy":
            return self._numpy()
        if method == "torch":
            fn = F.cross_entropy
        elif method == "ours":
            from kernels.torch import cross_entropy as fn
        elif method == "ours_inplace":
            from kernels.torch import cross_entropy_overwrite_logits as fn
        else:
            raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
        if self.needs_grad:
            self.logits.requires_grad_(True)

        def run() -> None:
            loss = fn(self.logits, self.target, **self.kwargs)
            if self.backward:
                loss.backward()

        return run

    def _numpy(self) -> Callable[[], None]:
        import kernels.numpy as knp

        x, t = self.logits.numpy(), self.target.numpy()
        kw = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in self.kwargs.items()}
        if self.backward:
            return lambda: knp.cross_entropy_with_grad(x, t, **kw)
        return lambda: knp.cross_entropy(x, t, **kw)

    def reset(self) -> None:
        self.logits.grad = None


def build_case(spec: dict, seed: int = 0) -> tuple[Case, int]:
    """The case for ``spec`` on fresh inputs, and L = the bytes of its logits tensor."""
    device, dtype = spec.get("device", "cpu"), spec.get("dtype", "float32")
    logits, target, kwargs = inputs(spec["n"], spec["c"], spec.get("options", {}), seed, device, dtype)
    return Case(spec, logits, target, kwargs), logits.numel() * logits.element_size()


def available(method: str, device: str = "cpu", dtype: str = "float32") -> bool:
    """Whether the kernels expose this method for the device and dtype (the in-place variant is an explicit
    opt-in API; NumPy runs on the CPU, in float32 here)."""
    if method == "numpy" and (device != "cpu" or dtype != "float32"):
        return False
    try:
        if method == "ours_inplace":
            from kernels.torch import cross_entropy_overwrite_logits  # noqa: F401
        elif method == "ours":
            from kernels.torch import cross_entropy  # noqa: F401
        elif method == "numpy":
            from kernels.numpy import cross_entropy_with_grad  # noqa: F401
    except ImportError:
        return False
    return True
