"""python -m benchmarks.linear_tradeoff: the linear head's time against the rows each chunk holds, and the floor.

    three_matmuls   x W^T, G W and G^T x alone, whole (no loss, no softmax): the floor of any method that
                    multiplies three times, as a multiple of the reference line
    ours            kernels.torch.linear_cross_entropy by default (the memory goals' plan)
    ours_rows_R     the same with LinearCrossEntropyOptions(batch_chunk_size=R): whole rows, R at a time

Each chunk of whole rows multiplies by all of W twice and adds its update to all of the weight gradient, so
on a core whose memory is slow next to its arithmetic, fewer and larger chunks are faster and hold more: this
prints both, forward + backward time as the median ratio to the reference timed right before it (one torch
thread) and peak memory beyond the inputs and the gradients in L = N C 4 bytes (a fresh subprocess each, as
benchmarks/linear.py measures). Plain options only.

python -m benchmarks.linear_tradeoff [--shapes 2048x512x32000 ...] [--rows 128 256 512] [--rounds 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json

import torch

from benchmarks.linear import SHAPES, memory, ratios


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.linear_tradeoff", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", metavar="NxHxC", help="default: 2048x512x32000 512x1024x128256")
    parser.add_argument("--rows", nargs="+", type=int, default=[128, 256, 512])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes] if args.shapes else SHAPES
    rows = []
    for shape in shapes:
        methods = ["three_matmuls", "ours", *(f"ours_rows_{r}" for r in args.rows if r < shape[0])]
        times = ratios(shape, {}, methods, args.rounds)
        for method in methods:
            row = {"shape": "x".join(map(str, shape)), "method": method, "time_ratio": round(times[method][0], 3),
                   "time_ratio_range": [round(times[method][1], 3), round(times[method][2], 3)],
                   "reference_seconds": round(times["reference_seconds"], 3)}  # fmt: skip
            if method != "three_matmuls":
                row["peak_extra_L"] = round(memory(shape, {}, method, "forward_backward"), 3)
            rows.append(row)
            print(f"{row['shape']:>16s} {method:<14s} {row['time_ratio']:.2f}x  f+b {row.get('peak_extra_L', '-')} L")
    if args.json:
        from benchmarks.__main__ import _machine

        meta = {"date": datetime.date.today().isoformat(), "machine": _machine(), "torch": torch.__version__}
        with open(args.json, "w") as f:
            json.dump({"meta": {**meta, "rounds": args.rounds}, "rows": rows}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
