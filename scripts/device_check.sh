#!/usr/bin/env bash
# On a GPU machine: the CUDA tests (kernels.torch and kernels.triton), then the benchmarks on CUDA. About 8 minutes
# at most: each step has its own timeout (240 + 2 x 50 + 150 s). Run from the repository root; results go under
# $OUT (default: device-out/). Without a CUDA device it skips the CUDA steps, runs the benchmark's plan and
# its smoke run in Triton's interpreter instead, and exits 0 when those pass. On a GPU:
#   status.txt, torch.txt, nvidia-smi.txt, pytest-cuda.log, liger.txt,
#   benchmarks-cuda-<dtype>.{txt,json,csv}   (CUDA-event time ratios and exact device memory, in L)
#   gpu-benchmarks.{txt,json}                (python -m benchmarks.gpu: the anchors' shapes, kernels.triton against
#   docs/data/gpu-benchmarks.json             F.cross_entropy, torch.compile, F.linear_cross_entropy and Liger;
#                                             the copy for the site, to be committed as docs/data/gpu-benchmarks.json)
# Needs torch, numpy, pytest and triton (the CUDA wheels of torch bring it); hypothesis, mkdocs and SymPy-dependent
# tests are not run here. Liger-Kernel, optional: where the device has no network, run on a machine with one
#   pip download --no-deps liger-kernel -d vendor/wheels
# and carry vendor/wheels along; it is installed from there (--no-index) and its rows are left out without it.
set -uo pipefail
OUT="${OUT:-device-out}"
PY="${PYTHON:-python}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
unset TRITON_INTERPRET  # the Triton kernels compile for the device here
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
"$PY" -c "import torch; print(torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name())" \
  > "$OUT/torch.txt" 2>&1 || {
  # no CUDA device: the CUDA steps are skipped, and what a CPU can try runs instead, the benchmark's plan and its
  # smoke run in Triton's interpreter (tiny shapes; $OUT/gpu-benchmarks-cpu-smoke.json, not a measurement)
  echo "no CUDA device ($(tail -n 1 "$OUT/torch.txt")): the CUDA tests and benchmarks are skipped" > "$OUT/status.txt"
  timeout 60 "$PY" -m benchmarks.gpu --dry-run > "$OUT/gpu-plan.json" 2>&1
  echo "benchmarks.gpu --dry-run: rc=$?" >> "$OUT/status.txt"
  TRITON_INTERPRET=1 timeout 240 "$PY" -m benchmarks.gpu --device cpu --rounds 1 --out "$OUT" \
    > "$OUT/gpu-benchmarks-cpu-smoke.txt" 2>&1
  echo "benchmarks.gpu --device cpu (Triton's interpreter): rc=$?" >> "$OUT/status.txt"
  cat "$OUT/status.txt"
  ! grep -q "rc=[1-9]" "$OUT/status.txt"
  exit
}
if compgen -G "vendor/wheels/*.whl" > /dev/null; then
  "$PY" -m pip install --quiet --no-index --no-deps vendor/wheels/*.whl > "$OUT/liger.txt" 2>&1
  echo "liger-kernel from vendor/wheels: rc=$?" >> "$OUT/status.txt"
else
  echo "no vendor/wheels: Liger-Kernel rows are left out" > "$OUT/liger.txt"
fi
timeout 240 "$PY" -m pytest -q -p no:cacheprovider -m cuda \
  tests/test_parity_torch.py tests/test_bad_input.py tests/test_explain_reports.py tests/test_benchmark_cuda.py \
  tests/test_linear_cuda.py tests/test_triton_cuda.py tests/test_distributed_cuda.py \
  > "$OUT/pytest-cuda.log" 2>&1
echo "pytest -m cuda: rc=$?" >> "$OUT/status.txt"
for dtype in float32 bfloat16; do
  timeout 50 "$PY" -m benchmarks --device cuda --dtype "$dtype" --rounds 5 \
    --json "$OUT/benchmarks-cuda-$dtype.json" --csv "$OUT/benchmarks-cuda-$dtype.csv" \
    > "$OUT/benchmarks-cuda-$dtype.txt" 2>&1
  echo "benchmarks cuda $dtype: rc=$?" >> "$OUT/status.txt"
done
timeout 150 "$PY" -m benchmarks.gpu --out "$OUT" --rounds 5 > "$OUT/gpu-benchmarks.txt" 2>&1
echo "benchmarks.gpu: rc=$?" >> "$OUT/status.txt"
cat "$OUT/torch.txt" "$OUT/status.txt"
tail -n 5 "$OUT/pytest-cuda.log"
cat "$OUT"/benchmarks-cuda-*.txt
tail -n 40 "$OUT/gpu-benchmarks.txt"
