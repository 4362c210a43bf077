"""Time ratios against F.cross_entropy, measured side by side in one process.

Absolute times on shared machines move by up to 2x between runs; ratios measured in the same round
move by about +-20 %. So every round times each method once, in a shuffled order, right after the
reference, and the result is the median over rounds of (method time / reference time).
"""

from __future__ import annotations

import ctypes
import random
import statistics
import time

import numpy
import torch

from benchmarks.cases import Case, inputs

#: glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def steady_allocator() -> bool:
    """Pin glibc's allocator so that every round sees the same memory state: blocks up to 32 MiB (its
    largest heap block) come from the heap and freed memory is kept for reuse, never trimmed; larger
    ones are always fresh mapped pages. With the default, adaptive thresholds a freed 32 MB buffer is
    kept in some rounds and returned in others, and F.cross_entropy at 8192 x 1000 (three such buffers)
    swings between about 8 and 30 ms. Pinned, it always gets reused memory there: its best case.
    False where the C library has no mallopt (not glibc); the timings then run on the default allocator.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def small_numpy_pages() -> bool:
    """Have NumPy leave its large arrays in 4 KiB pages (no madvise(MADV_HUGEPAGE)), for steady timings.

    A fresh 500 MB NumPy gradient (4096 x 32000) in huge pages took 0.12 s to write in most calls here
    and 1.1-1.3 s in every third one, with the same page-fault counts (the virtual machine's host backing
    each 2 MiB page); in 4 KiB pages it takes a steady 0.37 s. torch's CPU allocator asks for no huge
    pages, so this puts NumPy on the same footing. False where this NumPy has no such switch.
    """
    core = getattr(numpy, "_core", None) or getattr(numpy, "core", None)
    switch = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if switch is None:
        return False
    switch(False)
    return True


def _time_once(case: Case, repeat: int) -> float:
    best = float("inf")
    cuda = case.logits.device.type == "cuda"
    for _ in range(repeat):
        case.reset()
        if cuda:  # device time between two events on the stream, after the queue has drained
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            case.run()
            end.record()
            end.synchronize()
            best = min(best, start.elapsed_time(end) / 1000)
            continue
        start = time.perf_counter()
        case.run()
        best = min(best, time.perf_counter() - start)
    return best


def ratios(
    n: int,
    c: int,
    options: dict,
    methods: list[str],
    passes: list[str],
    rounds: int = 7,
    seed: int = 0,
    spread=None,
    device: str = "cpu",
    dtype: str = "float32",
) -> dict:
    """{(method, pass): median ratio to the torch reference of the same pass}, plus the reference's median time.

    ``spread``, a dict, receives {(method, pass): (lowest, highest) per-round ratio}. On CUDA each call is
    timed by CUDA events (device time); on the CPU by the wall clock, one torch thread.
    """
    torch.set_num_threads(1)
    if device == "cpu":
        steady_allocator()
        small_numpy_pages()
    logits, target, kwargs = inputs(n, c, options, seed, device, dtype)
    cases = {}
    for pass_ in passes:
        for method in ["torch", *methods]:
            spec = {"method": method, "pass": pass_, "n": n, "c": c, "options": options, "device": device}
            spec["dtype"] = dtype
            # every method works on its own copy: the in-place variant overwrites its logits
            cases[(method, pass_)] = Case(spec, logits.clone(), target, kwargs)
    # small shapes take a few ms: take the best of a few calls per round so timer noise stays small
    repeat = 3 if n * c <= 10_000_000 else 1
    for case in cases.values():  # warm-up: thread pools, dispatch caches, first-touch of buffers
        _time_once(case, 1)
    per_round: dict = {key: [] for key in cases if key[0] != "torch"}
    reference: dict = {p: [] for p in passes}
    rng = random.Random(seed)
    for _ in range(rounds):
        order = list(per_round)
        rng.shuffle(order)
        for key in order:
            ref = _time_once(cases[("torch", key[1])], repeat)
            mine = _time_once(cases[key], repeat)
            per_round[key].append(mine / ref)
            reference[key[1]].append(ref)
    out = {key: statistics.median(values) for key, values in per_round.items()}
    if spread is not None:
        spread.update({key: (min(values), max(values)) for key, values in per_round.items()})
    out.update({("torch", p): statistics.median(v) if v else float("nan") for p, v in reference.items()})
    return out
