"""python -m benchmarks.linear: the linear head, cross_entropy(h @ W.T, t), against what users write.

    reference      F.cross_entropy(F.linear(h, W), t)                     the time and memory unit
    torch_chunked  F.linear_cross_entropy(h, W, t, options=LinearCrossEntropyOptions())
    torch_compile  torch.compile of the reference line (with --compile: inductor compiles for minutes)
    ours           kernels.torch.linear_cross_entropy(h, W, t)

Forward + backward time as the median over rounds of (method / reference) timed side by side in one
process, one torch thread; peak memory beyond the inputs and the gradients themselves, in L = N C 4 bytes,
each in a fresh subprocess (as benchmarks/memory.py measures), for forward + backward and for a forward
without gradients.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import time

import torch
import torch.nn.functional as F

from benchmarks.memory import run_child

SHAPES = ((2048, 512, 32000), (512, 1024, 128256))  # (N, H, C)
OPTIONS = {"plain": {}, "weight+ignore+ls": {"weight": True, "ignore_index": True, "label_smoothing": 0.1}}
METHODS = ("reference", "torch_chunked", "ours")


def inputs(n, h, c, options, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, h, generator=gen)
    w = torch.randn(c, h, generator=gen) / h**0.5  # logits of order 1
    target = torch.randint(0, c, (n,), generator=gen)
    kwargs = {}
    if options.get("weight"):
        kwargs["weight"] = torch.rand(c, generator=gen) + 0.5
    if options.get("ignore_index"):
        target[::7] = -100
    if options.get("label_smoothing"):
        kwargs["label_smoothing"] = options["label_smoothing"]
    return x, w, target, kwargs


def loss_fn(method: str):
    if method == "reference":
        return lambda x, w, t, **kw: F.cross_entropy(F.linear(x, w), t, **kw)
    if method == "torch_chunked":
        options = torch.nn.LinearCrossEntropyOptions()
        return lambda x, w, t, **kw: F.linear_cross_entropy(x, w, t, options=options, **kw)
    if method == "torch_compile":
        return torch.compile(lambda x, w, t, **kw: F.cross_entropy(F.linear(x, w), t, **kw))
    if method == "ours":
        from kernels.torch import linear_cross_entropy

        return linear_cross_entropy
    if method.startswith("ours_rows_"):  # ours with whole-row chunks of this many rows
        from kernels.torch import linear_cross_entropy

        options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=int(method.removeprefix("ours_rows_")))
        return lambda x, w, t, **kw: linear_cross_entropy(x, w, t, options=options, **kw)
    if method == "three_matmuls":
        return lambda x, w, t, **kw: _ThreeMatmuls.apply(x, w)
    raise ValueError(f"unknown method {method!r}; choose from {(*METHODS, 'torch_compile')}")


class _ThreeMatmuls(torch.autograd.Function):
    """The three matrix products alone, whole: z = x W^T in forward, then G W and G^T x in backward with the
    saved z standing in for G = dL/dz. No loss, no softmax: the floor of any method that multiplies three times."""

    @staticmethod
    def forward(ctx, x, w):
        z = x @ w.t()
        ctx.save_for_backward(x, w, z)
        return z[0, 0].clone()  # a scalar to call backward() on, without a pass over z

    @staticmethod
    def backward(ctx, grad):
        x, w, z = ctx.saved_tensors
        return z @ w, z.t() @ x


def _once(fn, x, w, t, kwargs, backward=True) -> float:
    x.grad = w.grad = None
    start = time.perf_counter()
    if backward:
        fn(x, w, t, **kwargs).backward()
    else:
        with torch.no_grad():
            fn(x, w, t, **kwargs)
    return time.perf_counter() - start


def ratios(shape, options, methods, rounds, seed=0) -> dict:
    """{method: (median ratio to the reference, lowest, highest)} for forward + backward, and the reference's time."""
    from benchmarks.timing import steady_allocator

    torch.set_num_threads(1)
    steady_allocator()
    x, w, t, kwargs = inputs(*shape, options, seed)
    x.requires_grad_(), w.requires_grad_()
    fns = {m: loss_fn(m) for m in ("reference", *methods)}
    for fn in fns.values():  # warm-up (and, for torch.compile, compilation)
        _once(fn, x, w, t, kwargs)
    per, ref_times = {m: [] for m in methods}, []
    rng = random.Random(seed)
    for _ in range(rounds):
        order = list(methods)
        rng.shuffle(order)
        for m in order:
            ref = _once(fns["reference"], x, w, t, kwargs)
            per[m].append(_once(fns[m], x, w, t, kwargs) / ref)
            ref_times.append(ref)
    out = {m: (statistics.median(v), min(v), max(v)) for m, v in per.items()}
    out["reference_seconds"] = statistics.median(ref_times)
    return out


_CHILD = r"""
import gc, json, sys, torch
torch.set_num_threads(1)
from benchmarks.linear import inputs, loss_fn
spec = json.loads(sys.argv[1])
def kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
x, w, t, kwargs = inputs(*spec["shape"], spec["options"])
backward = spec["pass"] == "forward_backward"
x.requires_grad_(backward); w.requires_grad_(backward)
fn = loss_fn(spec["method"])
def run():
    x.grad = w.grad = None
    if backward:
        fn(x, w, t, **kwargs).backward()
    else:
        with torch.no_grad():
            fn(x, w, t, **kwargs)
run(); x.grad = w.grad = None; gc.collect()
before = kb("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
run()
grads = sum(g.numel() * g.element_size() for g in (x.grad, w.grad) if g is not None)
print(json.dumps({"extra": kb("VmHWM") - before - grads, "L": spec["shape"][0] * spec["shape"][2] * 4}))
"""


def memory(shape, options, method, pass_) -> float:
    """Peak memory of one call beyond the inputs and the gradients it returns, in L, in a fresh subprocess."""
    spec = {"shape": list(shape), "options": options, "method": method, "pass": pass_}
    out = run_child(_CHILD, spec)
    return out["extra"] / out["L"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.linear", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", metavar="NxHxC", help="default: 2048x512x32000 512x1024x128256")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the reference line")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes] if args.shapes else SHAPES
    methods = [*METHODS[1:], *(["torch_compile"] if args.compile else [])]
    rows = []
    for shape in shapes:
        for name, options in OPTIONS.items():
            times = ratios(shape, options, methods, args.rounds)
            for method in ("reference", *methods):
                ratio = (1.0, 1.0, 1.0) if method == "reference" else times[method]
                row = {"shape": "x".join(map(str, shape)), "options": name, "method": method,
                       "time_ratio": round(ratio[0], 3), "time_ratio_range": [round(ratio[1], 3), round(ratio[2], 3)],
                       "reference_seconds": round(times["reference_seconds"], 3)}  # fmt: skip
                if not args.no_memory and method != "torch_compile":
                    row["peak_extra_L"] = round(memory(shape, options, method, "forward_backward"), 3)
                    row["forward_extra_L"] = round(memory(shape, options, method, "forward"), 3)
                rows.append(row)
                mem = (
                    f"{row.get('peak_extra_L', float('nan')):.3f} L / {row.get('forward_extra_L', float('nan')):.3f} L"
                )
                print(
                    f"{row['shape']:>16s} {name:<17s} {method:<14s} {row['time_ratio']:.2f}x  f+b / fwd {mem}",
                    flush=True,
                )
    if args.json:
        from benchmarks.__main__ import _machine

        meta = {"date": datetime.date.today().isoformat(), "machine": _machine(), "torch": torch.__version__}
        meta.update(rounds=args.rounds, allocator="glibc pinned (benchmarks/timing.py), as the cross-entropy rows")
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
