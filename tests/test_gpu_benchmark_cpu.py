"""scripts/device_check.sh and python -m benchmarks.gpu as far as a CPU takes them, and the kernels page's GPU
section judged from the benchmark's own JSON.

Without CUDA the script must skip its CUDA steps cleanly (exit 0) and run what a CPU can: the benchmark's plan
and its smoke run in Triton's interpreter, whose JSON is never the site's copy. The page's hook refuses that CPU
file, says plainly that no GPU has run the benchmark while docs/data/gpu-benchmarks.json is absent, and judges
each goal of the GPU run (met, missed, not measured) from a file in the benchmark's format.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hooks"))
import gpu_benchmarks_hook as hook  # noqa: E402


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[Path, str]:
    """The device script run here, without CUDA: (its $OUT, its stdout)."""
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: scripts/device_check.sh runs the CUDA steps here, not the CPU path")
    pytest.importorskip("triton", reason="triton is not installed (pip install triton==3.9.0)")
    out = tmp_path_factory.mktemp("device-out")
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable}
    env.pop("TRITON_INTERPRET", None)  # the script sets it for the smoke run itself
    done = subprocess.run(["bash", "scripts/device_check.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=420)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr + (out / "gpu-benchmarks-cpu-smoke.txt").read_text()
    return out, done.stdout


def test_without_cuda_the_device_script_skips_the_cuda_steps_and_runs_the_smoke_run(smoke):
    out, stdout = smoke
    status = (out / "status.txt").read_text()
    assert status.startswith("no CUDA device") and "skipped" in status and stdout.startswith("no CUDA device")
    assert "--dry-run: rc=0" in status and "interpreter): rc=0" in status
    plan = json.loads((out / "gpu-plan.json").read_text())
    assert {(c["n"], c["v"]) for c in plan["cross_entropy"]} == {(8192, 32000), (8192, 128256), (16384, 32000),
                                                                 (16384, 128256)}  # fmt: skip
    assert plan["linear"] == [{"n": 8192, "v": 128256, "h": 4096, "dtype": "bfloat16"}]
    assert not (out / "docs").exists() and not (out / "pytest-cuda.log").exists()  # no site copy, no CUDA step


def _smoke_json(smoke) -> dict:
    return json.loads((smoke[0] / "gpu-benchmarks-cpu-smoke.json").read_text())


def test_the_smoke_run_times_every_method_that_installs_here(smoke):
    data = _smoke_json(smoke)
    assert data["meta"]["device"].startswith("cpu") and data["meta"]["rounds"] == 1
    assert [c["dtype"] for c in data["cross_entropy"]] == ["float32", "bfloat16"]
    for case in data["cross_entropy"]:
        assert {"torch", "ours_torch", "triton", "triton_overwrite"} <= set(case["methods"])
        assert case["methods"]["torch"]["time_ratio"] == 1.0
        for row in case["methods"].values():
            assert row["forward_backward_ms"] > 0 and row["time_ratio"] > 0
    assert {"reference", "triton"} <= set(data["linear"][0]["methods"])
    with pytest.raises(ValueError, match="not a GPU"):
        hook.render(data)


def _as_gpu(data: dict, triton_ratio: float, liger_ms: float | None, peak: float) -> dict:
    """The smoke run's JSON in the shape of a GPU run: one case at V = 32000 with the figures given."""
    gpu = copy.deepcopy(data)
    gpu["meta"].update(device="NVIDIA H200", copy_bandwidth_GBps=3900.0)
    case = gpu["cross_entropy"][0]
    case["v"] = 32000
    methods = case["methods"]
    for row in methods.values():
        row.update(peak_extra_L=3.0, copy_bound_fraction=0.5)
    methods["triton"].update(time_ratio=triton_ratio, forward_backward_ms=2.0, peak_extra_L=peak,
                             copy_bound_fraction=0.8)  # fmt: skip
    methods["triton_overwrite"].update(peak_extra_L=0.001)
    methods.pop("liger", None)
    if liger_ms is not None:
        methods["liger"] = {**methods["torch"], "forward_backward_ms": liger_ms}
    return gpu


def _goal(lines: list[str], key: str) -> str:
    """The line of goal ``key`` (one line per goal, in the order of hook.GOALS)."""
    assert len(lines) == len(hook.GOALS)
    return lines[[goal[0] for goal in hook.GOALS].index(key)]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_gpu_goals_are_judged_from_a_file_in_the_benchmarks_format(smoke, lang):
    data = _smoke_json(smoke)
    met = hook._goal_lines(_as_gpu(data, 0.4, 2.5, 1.0), lang)
    words = hook.WORDS[lang]
    assert all(line.startswith(f"- {words['met']}:") for line in met), met
    assert "3.00-3.00 L" in _goal(met, "memory")  # torch's peak beside ours
    planted = hook._goal_lines(_as_gpu(data, 0.6, 1.5, 1.2), lang)  # slower than 0.5x and Liger, 1.2 L
    assert _goal(planted, "time").startswith(f"- {words['missed']}") and "0.60" in _goal(planted, "time")
    assert _goal(planted, "liger").startswith(f"- {words['missed']}")
    assert _goal(planted, "memory").startswith(f"- {words['missed']}") and "1.20" in _goal(planted, "memory")
    assert _goal(planted, "bandwidth").startswith(f"- {words['met']}")
    no_liger = hook._goal_lines(_as_gpu(data, 0.4, None, 1.0), lang)
    assert _goal(no_liger, "liger").startswith(f"- {words['not_measured']}")
    page = hook.render(_as_gpu(data, 0.4, 2.5, 1.0), lang)
    assert "NVIDIA H200" in page and "| 64x32000, float32 | " in page and "| 64x1000x32, bfloat16 | " in page


class _Page:
    class file:
        src_path = "kernels.md"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_without_the_file_the_page_says_no_gpu_has_run_the_benchmark(tmp_path, monkeypatch, lang):
    monkeypatch.setattr(hook, "DATA", tmp_path / "gpu-benchmarks.json")
    config = type("Config", (), {"theme": {"language": lang}})()
    shown = hook.on_page_markdown(f"before\n\n{hook.MARKER}\n\nafter", _Page, config, None)
    assert hook.MARKER not in shown and hook.WORDS[lang]["none"] in shown
    assert "scripts/device_check.sh" in shown
