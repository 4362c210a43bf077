#!/usr/bin/env bash
# On a GPU machine: the CUDA tests, then the benchmark on CUDA in float32 and in bfloat16.
# Run from the repository root; results go under $OUT (default: device-out/):
#   status.txt, torch.txt, nvidia-smi.txt, pytest-cuda.log,
#   benchmarks-cuda-<dtype>.{txt,json,csv}   (CUDA-event time ratios and exact device memory, in L)
# Needs torch, numpy and pytest; hypothesis, mkdocs and SymPy-dependent tests are not run here.
set -uo pipefail
OUT="${OUT:-device-out}"
PY="${PYTHON:-python}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
"$PY" -c "import torch; print(torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name())" \
  > "$OUT/torch.txt" 2>&1 || { cat "$OUT/torch.txt"; echo "no CUDA device: nothing to check"; exit 1; }
timeout 300 "$PY" -m pytest -q -p no:cacheprovider -m cuda \
  tests/test_parity_torch.py tests/test_bad_input.py tests/test_explain_reports.py tests/test_benchmark_cuda.py \
  tests/test_linear_cuda.py \
  > "$OUT/pytest-cuda.log" 2>&1
echo "pytest -m cuda: rc=$?" >> "$OUT/status.txt"
for dtype in float32 bfloat16; do
  timeout 120 "$PY" -m benchmarks --device cuda --dtype "$dtype" --rounds 7 \
    --json "$OUT/benchmarks-cuda-$dtype.json" --csv "$OUT/benchmarks-cuda-$dtype.csv" \
    > "$OUT/benchmarks-cuda-$dtype.txt" 2>&1
  echo "benchmarks cuda $dtype: rc=$?" >> "$OUT/status.txt"
done
cat "$OUT/torch.txt" "$OUT/status.txt"
tail -n 5 "$OUT/pytest-cuda.log"
cat "$OUT"/benchmarks-cuda-*.txt
