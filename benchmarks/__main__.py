"""python -m benchmarks: time ratios and peak extra memory against F.cross_entropy.

python -m benchmarks                       the three shapes, plain and with weight+ignore_index+ls
python -m benchmarks --shapes 2048x4096 --rounds 5 --json out.json --csv out.csv
python -m benchmarks --device cuda [--dtype bfloat16]   on a GPU: CUDA-event timings, exact device memory
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform

import numpy
import torch

from benchmarks import memory, timing
from benchmarks.cases import DTYPES, METHODS, OPTION_SETS, PASSES, SHAPES, available


def _shape(text: str) -> tuple[int, int]:
    n, c = text.lower().split("x")
    return int(n), int(c)


def run(shapes, option_names, rounds: int, with_memory: bool, device="cpu", dtype="float32") -> list[dict]:
    methods = [m for m in METHODS if m != "torch" and available(m, device, dtype)]
    where = {"device": device, "dtype": dtype}
    rows = []
    for n, c in shapes:
        for name in option_names:
            options = OPTION_SETS[name]
            spread: dict = {}
            times = timing.ratios(n, c, options, methods, list(PASSES), rounds, spread=spread, **where)
            for pass_ in PASSES:
                for method in ["torch", *methods]:
                    if method in ("numpy", "ours_inplace") and pass_ == "forward":
                        continue  # numpy's row is loss+gradient; the in-place variant only differs in backward
                    spec = {"method": method, "pass": pass_, "n": n, "c": c, "options": options, **where}
                    rows.append(
                        {
                            "shape": f"{n}x{c}",
                            "options": name,
                            "method": method,
                            "pass": pass_,
                            "time_ratio": 1.0 if method == "torch" else round(times[(method, pass_)], 3),
                            "time_ratio_range": [round(x, 3) for x in spread.get((method, pass_), (1.0, 1.0))],
                            "torch_seconds": round(times[("torch", pass_)], 4),
                            "peak_extra_L": round(memory.measure(spec), 2) if with_memory else None,
                            **where,
                        }
                    )
                    print(_line(rows[-1]), flush=True)
            if with_memory:  # what a forward on logits that require grad keeps for its backward (memory only)
                spec = {"method": "ours", "pass": "forward_grad", "n": n, "c": c, "options": options, **where}
                row = {**rows[-1], "method": "ours", "pass": "forward_grad", "time_ratio": None}
                row.update(time_ratio_range=None, torch_seconds=None)
                rows.append({**row, "peak_extra_L": round(memory.measure(spec), 2)})
                print(_line(rows[-1]), flush=True)
    return rows


def _line(row: dict) -> str:
    mem = "-" if row["peak_extra_L"] is None else f"{row['peak_extra_L']:.2f} L"
    time = "-" if row["time_ratio"] is None else f"{row['time_ratio']:.2f}x"
    return f"{row['shape']:>12s}  {row['options']:<17s} {row['method']:<13s} {row['pass']:<17s} {time:>7s}  {mem:>8s}"


def _machine() -> str:
    """The CPU model and core count (from /proc/cpuinfo where there is one), the OS and the threads used."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; 1 torch thread"


def _allocator(device: str) -> str:
    if device == "cuda":
        return "torch's CUDA caching allocator; times from CUDA events"
    pinned = (
        "glibc pinned: blocks up to 32 MiB reused from the heap, never trimmed; larger ones fresh pages"
        if timing.steady_allocator()
        else "the C library's default (no mallopt)"
    )
    pages = "; NumPy arrays in 4 KiB pages" if timing.small_numpy_pages() else ""
    return pinned + pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", type=_shape, default=list(SHAPES), metavar="NxC")
    parser.add_argument("--options", nargs="+", choices=list(OPTION_SETS), default=list(OPTION_SETS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--csv", metavar="FILE")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--dtype", choices=list(DTYPES), default="float32", help="of the logits")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device here (torch.cuda.is_available() is False)")
    torch.set_num_threads(1)
    print(f"{'shape':>12s}  {'options':<17s} {'method':<13s} {'pass':<17s} {'time':>7s}  {'peak':>8s}")
    load_before = os.getloadavg()
    rows = run(args.shapes, args.options, args.rounds, not args.no_memory, args.device, args.dtype)
    meta = {
        "date": datetime.date.today().isoformat(),
        "machine": _machine() if args.device == "cpu" else torch.cuda.get_device_name(),
        "device": args.device,
        "dtype": args.dtype,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "rounds": args.rounds,
        "allocator": _allocator(args.device),
        "note": "time_ratio = median over rounds of (method time / F.cross_entropy time, same round), "
        "time_ratio_range = lowest and highest per-round ratio; peak_extra_L = peak extra memory in units of "
        "one logits tensor; pass forward_grad = a forward on logits that require grad (memory only)",
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=2)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
