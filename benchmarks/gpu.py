"""python -m benchmarks.gpu: the GPU benchmark at the anchors' shapes, kernels.triton against what users run.

    cross-entropy      float32 and bfloat16 logits, N in {8192, 16384}, V in {32000, 128256}
    linear head        bfloat16, (N, V, H) = (8192, 128256, 4096)
    methods            benchmarks/gpu_methods.py (F.cross_entropy, torch.compile of it, F.linear_cross_entropy
                       chunked, kernels.torch, kernels.triton and its overwrite variant, Liger-Kernel if importable)

Per method: forward, backward and forward + backward times (medians over rounds of CUDA-event times), their
ratios to the unit (F.cross_entropy, or F.cross_entropy(F.linear(x, W), t)) measured in the same round, peak
memory (torch.cuda.max_memory_allocated after a reset) including the inputs and as extra above them, in L
(cross-entropy: the bytes of one logits tensor, as benchmarks/cases.py; the linear head: N V 4 bytes, as
benchmarks/linear.py), and for cross-entropy the fraction of the copy-bandwidth bound: 3 L of traffic (read the
logits, read them again, write the gradient) at the copy_ bandwidth measured in the same run.

    python -m benchmarks.gpu --out DIR          writes DIR/gpu-benchmarks.json and DIR/docs/data/gpu-benchmarks.json
    python -m benchmarks.gpu --dry-run          the plan, without a device
    python -m benchmarks.gpu --device cpu       tiny shapes, kernels.triton in Triton's interpreter (a smoke run,
                                                written as DIR/gpu-benchmarks-cpu-smoke.json only)

Liger-Kernel, where the device has no network: on a machine with one, `pip download --no-deps liger-kernel -d
vendor/wheels`; carry vendor/wheels along; scripts/device_check.sh installs it with `pip install --no-index
--no-deps vendor/wheels/*.whl` when the folder is there, and the liger rows are left out otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT", "."), help="folder for the JSON (default: $OUT)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    parser.add_argument("--no-compile", action="store_true", help="leave out torch.compile (minutes of compiling)")
    args = parser.parse_args(argv)
    if args.device == "cpu":  # before anything imports triton (torch.compile does): the interpreter
        os.environ.setdefault("TRITON_INTERPRET", "1")
    from benchmarks import gpu_cases

    plan = gpu_cases.plan(args.device, args.no_compile or args.device == "cpu")
    if args.dry_run:
        print(json.dumps(plan, indent=2))
        return 0
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available (torch.cuda.is_available() is False): nothing to benchmark; "
              "`--device cpu` runs a smoke test in Triton's interpreter", file=sys.stderr)  # fmt: skip
        return 2
    result = gpu_cases.run(plan, args.device, args.rounds)
    result["meta"].update(date=datetime.date.today().isoformat(), rounds=args.rounds, torch=torch.__version__)
    out = Path(args.out)
    # the site's copy only from a GPU: the interpreter's smoke run is no measurement (hooks/gpu_benchmarks_hook.py)
    paths = [out / "gpu-benchmarks.json", out / "docs" / "data" / "gpu-benchmarks.json"]
    if args.device == "cpu":
        paths = [out / "gpu-benchmarks-cpu-smoke.json"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
