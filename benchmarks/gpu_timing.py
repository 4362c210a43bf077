"""Timing and memory of python -m benchmarks.gpu: CUDA events, max_memory_allocated, the copy_ bandwidth.

measure          per method: forward, backward, forward + backward medians over rounds (each round times every
                 method once, shuffled), the median ratio to the unit in the same round, and peak memory in L
copy_bandwidth   bytes per second copy_ moves (read + write) on the device, over a 1 GiB buffer
"""

from __future__ import annotations

import random
import statistics
import time


def _timed(device, fn, *args):
    """(forward, backward) seconds of one call: CUDA events on the device, perf_counter on the CPU."""
    import torch

    if device == "cuda":
        marks = [torch.cuda.Event(enable_timing=True) for _ in range(3)]
        torch.cuda.synchronize()
        marks[0].record()
        loss = fn(*args)
        marks[1].record()
        loss.backward()
        marks[2].record()
        marks[2].synchronize()
        return marks[0].elapsed_time(marks[1]) / 1e3, marks[1].elapsed_time(marks[2]) / 1e3
    start = time.perf_counter()
    loss = fn(*args)
    mid = time.perf_counter()
    loss.backward()
    return mid - start, time.perf_counter() - mid


def copy_bandwidth(device, size=1 << 30, repeat=10) -> float | None:
    """Bytes per second that copy_ moves (read + write) on the device, or None on the CPU."""
    import torch

    if device != "cuda":
        return None
    a, b = torch.empty(size, dtype=torch.uint8, device="cuda"), torch.empty(size, dtype=torch.uint8, device="cuda")
    b.copy_(a)
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        b.copy_(a)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return 2 * size / statistics.median(times)


def measure(device, fns: dict, make_args, unit: str, rounds: int, L: int, held: int) -> dict:
    """{method: figures}: each round times every method once in a shuffled order; ratios are to ``unit``'s time
    in the same round. ``make_args()`` gives fresh arguments (outside the timed region); ``held`` = the bytes the
    harness keeps besides the call's own inputs."""
    import torch

    for fn in fns.values():  # warm-up: compilation, autotuning caches, cuBLAS handles
        _timed(device, fn, *make_args())
    per = {m: [] for m in fns}
    rng = random.Random(0)
    for _ in range(rounds):
        order = list(fns)
        rng.shuffle(order)
        for m in order:
            per[m].append(_timed(device, fns[m], *make_args()))
    out = {}
    for m, times in per.items():
        fwd, bwd = ([t[i] for t in times] for i in (0, 1))
        unit_total = [sum(t) for t in per[unit]]
        row = {"forward_ms": 1e3 * statistics.median(fwd), "backward_ms": 1e3 * statistics.median(bwd),
               "forward_backward_ms": 1e3 * statistics.median([a + b for a, b in zip(fwd, bwd, strict=True)]),
               "time_ratio": statistics.median(sum(t) / u for t, u in zip(times, unit_total, strict=True))}  # fmt: skip
        if device == "cuda":
            args = make_args()
            torch.cuda.synchronize()
            before = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            fns[m](*args).backward()
            peak = torch.cuda.max_memory_allocated()
            row["peak_with_inputs_L"] = (peak - held) / L
            row["peak_extra_L"] = (peak - before) / L
            del args
        out[m] = {k: round(v, 4) for k, v in row.items()}
    return out
