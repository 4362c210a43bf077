"""python -m benchmarks.compiled: cross-entropy inside torch.compile, ours against F.cross_entropy's.

Each row is forward + backward of ``loss = f(logits, target); loss.backward()`` where f is compiled with
torch.compile(fullgraph=True) (inductor), side by side in one process, one torch thread, medians of
``--rounds`` interleaved rounds. Ratios, each against the compiled F.cross_entropy of the same shape:

    ours compiled     kernels.torch.cross_entropy inside the compiled function (goal <= 1.0x, stretch <= 0.8x)
    ours eager        kernels.torch.cross_entropy, not compiled
    torch eager       F.cross_entropy, not compiled (how much the compiler gains on its own)

python -m benchmarks.compiled [--shapes 4096x32000 8192x1000] [--rounds 5] [--json docs/data/compiled_benchmarks.json]
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

from benchmarks.cases import OPTION_SETS, SHAPES, inputs
from benchmarks.timing import steady_allocator

METHODS = ("torch compiled", "ours compiled", "ours eager", "torch eager")


def _functions(kwargs: dict) -> dict:
    import kernels.torch as kt

    def theirs(x, t):
        return F.cross_entropy(x, t, **kwargs)

    def ours(x, t):
        return kt.cross_entropy(x, t, **kwargs)

    return {
        "torch compiled": torch.compile(theirs, fullgraph=True),
        "ours compiled": torch.compile(ours, fullgraph=True),
        "ours eager": ours,
        "torch eager": theirs,
    }


def _time(fn, logits, target) -> float:
    logits.grad = None
    start = time.perf_counter()
    fn(logits, target).backward()
    return time.perf_counter() - start


def measure(n: int, c: int, options: dict, rounds: int, seed: int = 0) -> dict:
    """{method: median seconds} and {method: median ratio to 'torch compiled'} for one shape."""
    torch.set_num_threads(1)
    steady_allocator()
    logits, target, kwargs = inputs(n, c, options, seed)
    logits.requires_grad_(True)
    functions = _functions(kwargs)
    for fn in functions.values():  # compile and warm up (two calls: the first compiles)
        _time(fn, logits, target)
        _time(fn, logits, target)
    seconds: dict = {m: [] for m in METHODS}
    ratios: dict = {m: [] for m in METHODS[1:]}
    rng = random.Random(seed)
    for _ in range(rounds):
        order = list(METHODS[1:])
        rng.shuffle(order)
        for method in order:  # each against a reference call right before it
            ref = _time(functions["torch compiled"], logits, target)
            mine = _time(functions[method], logits, target)
            seconds["torch compiled"].append(ref)
            seconds[method].append(mine)
            ratios[method].append(mine / ref)
    return {
        "seconds": {m: statistics.median(v) for m, v in seconds.items()},
        "ratio": {m: statistics.median(v) for m, v in ratios.items()},
        "range": {m: [min(v), max(v)] for m, v in ratios.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="*", default=[f"{n}x{c}" for n, c in SHAPES])
    parser.add_argument("--options", nargs="*", default=list(OPTION_SETS), choices=list(OPTION_SETS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    rows = []
    for shape in args.shapes:
        n, c = (int(x) for x in shape.lower().split("x"))
        for name in args.options:
            got = measure(n, c, OPTION_SETS[name], args.rounds)
            for method in METHODS:
                ratio = 1.0 if method == "torch compiled" else got["ratio"][method]
                spread = [1.0, 1.0] if method == "torch compiled" else got["range"][method]
                row = {"shape": shape, "options": name, "method": method, "pass": "forward_backward"}
                row.update(ratio_to_compiled_torch=round(ratio, 3), range=[round(x, 3) for x in spread])
                row["seconds"] = round(got["seconds"][method], 4)
                rows.append(row)
                print(f"{shape:>12s}  {name:<17s} {method:<15s} {ratio:5.2f}x  [{spread[0]:.2f}-{spread[1]:.2f}]")
    if args.json:
        from benchmarks.__main__ import _machine

        meta = {"date": datetime.date.today().isoformat(), "machine": _machine(), "torch": torch.__version__}
        meta.update(rounds=args.rounds, allocator="glibc pinned (benchmarks/timing.py), as the cross-entropy rows")
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
