"""The cases of python -m benchmarks.gpu: which shapes and methods run (``plan``), and running them (``run``).

Inputs are drawn on the device with a fixed seed (logits ~ 3 N(0, 1); the linear head's W scaled by 1/sqrt(H)).
Each call gets fresh arguments outside the timed region: a clone of the logits (the overwrite variants destroy
them; Liger's cross-entropy writes its gradient over them too), new leaves of x and W for the linear head.
"""

from __future__ import annotations

import torch

from benchmarks import gpu_timing as timing
from benchmarks.gpu_methods import CE_METHODS, LINEAR_METHODS, ce_method, linear_method, unavailable

CE_SHAPES = [(n, v) for n in (8192, 16384) for v in (32000, 128256)]
LINEAR_SHAPES = [(8192, 128256, 4096)]
CPU_CE, CPU_LINEAR = [(64, 1000)], [(64, 1000, 32)]  # --device cpu: a smoke run in the interpreter


def plan(device: str, no_compile: bool) -> dict:
    """The shapes, dtypes and methods to run here, and the methods left out with the reason."""
    cpu = device == "cpu"
    left_out = {m: why for m in {*CE_METHODS, *LINEAR_METHODS} if (why := unavailable(m))}
    if no_compile:
        left_out["torch_compile"] = "left out (--no-compile, or --device cpu)"
    return {
        "cross_entropy": [
            {"n": n, "v": v, "dtype": d} for d in ("float32", "bfloat16") for n, v in (CPU_CE if cpu else CE_SHAPES)
        ],
        "linear": [{"n": n, "v": v, "h": h, "dtype": "bfloat16"} for n, v, h in (CPU_LINEAR if cpu else LINEAR_SHAPES)],
        "methods": {
            "cross_entropy": [m for m in CE_METHODS if m not in left_out],
            "linear": [m for m in LINEAR_METHODS if m not in left_out],
        },
        "left_out": dict(sorted(left_out.items())),
    }


def _ce_case(case, methods, device, rounds, bandwidth) -> dict:
    gen = torch.Generator(device=device).manual_seed(0)
    dtype = getattr(torch, case["dtype"])
    base = 3 * torch.randn(case["n"], case["v"], generator=gen, device=device, dtype=dtype)
    target = torch.randint(0, case["v"], (case["n"],), generator=gen, device=device)
    L = base.numel() * base.element_size()  # one logits tensor
    fns = {m: ce_method(m) for m in methods}
    rows = timing.measure(device, fns, lambda: (base.clone().requires_grad_(), target), "torch", rounds, L, L)
    for row in rows.values():  # 3 L of traffic at the copy bandwidth, over the time taken
        row["copy_bound_fraction"] = None if bandwidth is None else round(3 * L / bandwidth / (
            row["forward_backward_ms"] / 1e3), 3)  # fmt: skip
    return {**case, "L_bytes": L, "methods": rows}


def _linear_case(case, methods, device, rounds) -> dict:
    gen = torch.Generator(device=device).manual_seed(0)
    n, v, h = case["n"], case["v"], case["h"]
    dtype = getattr(torch, case["dtype"])
    x = torch.randn(n, h, generator=gen, device=device, dtype=dtype)
    w = torch.randn(v, h, generator=gen, device=device, dtype=dtype) / h**0.5
    target = torch.randint(0, v, (n,), generator=gen, device=device)
    L = n * v * 4  # benchmarks/linear.py's unit
    fns = {m: linear_method(m) for m in methods}
    make = lambda: (x.detach().requires_grad_(), w.detach().requires_grad_(), target)  # noqa: E731
    rows = timing.measure(device, fns, make, "reference", rounds, L, 0)
    for row in rows.values():  # 2 N V H multiply-adds forward, 4 N V H backward
        row["tflops"] = round(6 * n * v * h / (row["forward_backward_ms"] / 1e3) / 1e12, 1)
    return {**case, "L_bytes": L, "methods": rows}


def run(plan: dict, device: str, rounds: int) -> dict:
    """Every case of the plan, printed as it finishes: {"meta": ..., "cross_entropy": [...], "linear": [...]}."""
    bandwidth = timing.copy_bandwidth(device)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu (Triton interpreter: not a measurement)"
    result = {"meta": {"device": name, "copy_bandwidth_GBps": bandwidth and round(bandwidth / 1e9, 1),
                       "left_out": plan["left_out"], "note": __doc__.split("\n\n")[0]},
              "cross_entropy": [], "linear": []}  # fmt: skip
    for kind, cases in (("cross_entropy", plan["cross_entropy"]), ("linear", plan["linear"])):
        for case in cases:
            methods = plan["methods"][kind]
            done = (_ce_case(case, methods, device, rounds, bandwidth) if kind == "cross_entropy"
                    else _linear_case(case, methods, device, rounds))  # fmt: skip
            result[kind].append(done)
            for method, row in done["methods"].items():
                print(kind, {k: v for k, v in case.items()}, method, row, flush=True)
            if device == "cuda":
                torch.cuda.empty_cache()
    return result
