"""Peak extra memory of one loss call, in units of L = the bytes of one logits tensor.

On CUDA, torch.cuda.max_memory_allocated counts it exactly, in-process (measure_cuda). The CPU build of
torch keeps no allocator statistics and tracemalloc cannot see tensors, so each CPU case runs in a fresh
subprocess with ``MALLOC_MMAP_THRESHOLD_=65536`` (big blocks go straight to the OS and come back when
freed): allocate the inputs, read VmRSS, reset the high-water mark (``echo 5 > /proc/self/clear_refs``),
run the case once, read VmHWM. extra = (VmHWM - VmRSS) / L.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: The child: builds inputs, measures one call of `case`, prints JSON.
_CHILD = r"""
import json, sys
import torch
torch.set_num_threads(1)
from benchmarks.cases import build_case

def _kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field + " not found in /proc/self/status")

spec = json.loads(sys.argv[1])
case, logits_bytes = build_case(spec)
case.run()  # warm-up: first-call allocations (thread pools, dispatch caches) are not the loss's memory
case.reset()
import gc; gc.collect()
before = _kb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
case.run()
peak = _kb("VmHWM")
print(json.dumps({"extra_bytes": peak - before, "logits_bytes": logits_bytes}))
"""


def measure_cuda(spec: dict) -> float:
    """Peak extra device memory of one run of a CUDA case, in units of L: torch's caching allocator counts
    every byte it hands out, so this runs in-process (torch.cuda.max_memory_allocated, exact)."""
    import gc

    import torch

    from benchmarks.cases import build_case

    case, logits_bytes = build_case(spec)
    case.run()  # warm-up: cuBLAS handles and the like are not the loss's memory
    case.reset()
    gc.collect()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    case.run()
    torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - before
    del case
    gc.collect()
    torch.cuda.empty_cache()
    return extra / logits_bytes


def measure(spec: dict) -> float:
    """Peak extra memory of one run of the case ``spec`` (see benchmarks.cases), in units of L."""
    if spec.get("device", "cpu") == "cuda":
        return measure_cuda(spec)
    out = run_child(_CHILD, spec)
    return out["extra_bytes"] / out["logits_bytes"]


def run_child(code: str, spec: dict) -> dict:
    """Run ``code`` in a fresh Python with ``spec`` as its argument (big blocks straight from the OS, one thread)
    and return the JSON object it prints last."""
    if not os.path.exists("/proc/self/clear_refs"):
        raise RuntimeError("peak-memory measurement needs Linux /proc/self/clear_refs")
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS="1")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True, env=env, timeout=1200
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory case {spec} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
