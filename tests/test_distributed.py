"""Vocab-parallel cross-entropy on torch.distributed (gloo, 127.0.0.1, processes spawned here, bounded in time).

World sizes 2 and 3 with uneven shards (4 + 7 and 2 + 6 + 3 of 11 classes): the loss and every gradient equal
F.cross_entropy (F.linear_cross_entropy for the linear head) on the gathered logits within 1e-12 in float64, for
index targets (weight, ignore_index, label smoothing, every reduction, a spatial layout), probability targets
(weight, smoothing; the gradients of logits, target and weight) and the linear head (x, W_r, b_r; and with a
probability target, its columns' and the class weights' gradients too; a K-dimensional classifier (C, 2, H)). Each error
case raises on every rank that calls: a target outside the global range (IndexError), ranks that disagree on
the rows or the dtype (RuntimeError), a rank that never arrives (RuntimeError after the timeout), and no
process group at all.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import torch
import torch.multiprocessing as mp
from _distributed_workers import run

from kernels.torch.distributed import vocab_parallel_cross_entropy

pytestmark = pytest.mark.distributed


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(case, world, tmp_path, timeout=90, backend="gloo") -> list[dict]:
    context = mp.start_processes(
        run, args=(world, _port(), str(tmp_path), case, backend), nprocs=world, join=False, start_method="spawn"
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                if context.join(timeout=max(0.1, deadline - time.monotonic())):
                    break
            except mp.ProcessExitedException:  # a rank that exits abnormally: its file, if any, says why
                break
    finally:
        for p in context.processes:
            if p.is_alive():
                p.kill()
    missing = [r for r in range(world) if not (tmp_path / f"{r}.json").exists()]
    assert not missing, f"ranks {missing} wrote no result within {timeout} s (killed, or died)"
    return [json.loads((tmp_path / f"{r}.json").read_text()) for r in range(world)]


VALUE_CASES = ["plain-mean", "weight-ignore-smooth-mean", "weight-ignore-none", "smooth-sum", "spatial-weight-mean",
               "prob-weight-smooth-sum", "linear-mean", "linear-weight-smooth-mean", "linear-none",
               "linear-prob-weight-smooth-mean", "linear-prob-none", "linear-spatial-index",
               "linear-spatial-prob", "prob-blocks-spatial-none", "prob-blocks-mean", "empty-shard-index",
               "empty-shard-prob", "empty-shard-linear",
               "masked-weight-mean", "masked-smooth-none"]  # fmt: skip


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("case", VALUE_CASES)
def test_the_sharded_loss_and_gradients_are_the_unsharded_ones(case, world, tmp_path):
    for rank, result in enumerate(_spawn(case, world, tmp_path)):
        assert "ok" in result, f"rank {rank}: {result.get('trace')}"
        assert result["ok"]["worst"] <= 1e-12, f"rank {rank}: off by {result['ok']['worst']:.3g}"


@pytest.mark.parametrize("case", ["planted-unmoved-smooth", "planted-unmoved-prob"])
def test_a_planted_wrong_merge_fails_the_comparison(case, tmp_path):
    for rank, result in enumerate(_spawn(case, 2, tmp_path)):
        assert "ok" in result, f"rank {rank}: {result.get('trace')}"
        assert result["ok"]["worst"] > 1e-3, f"rank {rank}: the planted merge went unnoticed ({result['ok']['worst']})"


@pytest.mark.parametrize(
    ("case", "error", "words"),
    [
        ("out-of-range", "IndexError", "Target 11 is out of bounds"),
        ("mismatched-rows", "RuntimeError", "the ranks disagree on N x positions"),
        ("mismatched-dtypes", "RuntimeError", "the ranks disagree on dtype"),
        ("linear-prob-all-columns", "RuntimeError", "this rank's columns of a probability target"),
        ("double-backward", "RuntimeError", "double backward is not supported by kernels.torch.distributed"),
    ],
)
def test_an_error_raises_on_every_rank(case, error, words, tmp_path):
    for rank, result in enumerate(_spawn(case, 2, tmp_path)):
        assert result.get("error") == error and words in result["message"], f"rank {rank}: {result}"


@pytest.mark.parametrize("world", [2, 3])
def test_forward_makes_a_header_check_and_one_all_gather_and_backward_nothing_but_the_input_gradient(world, tmp_path):
    rows, header = 6, 9  # inputs()' rows; the header's int64 per rank
    sent = {"index": 4, "prob": 3, "linear": 3}  # values per row: lse_r, z_t, w_t, smoothing; lse_r, swy, part
    for rank, result in enumerate(_spawn("counted", world, tmp_path)):
        assert "ok" in result, f"rank {rank}: {result.get('trace')}"
        for kind, calls in result["ok"].items():
            assert calls["forward"] == [["all_gather", header], ["all_gather", rows * sent[kind]]], (kind, calls)
            assert calls["backward"] == ([["all_reduce", rows * 5]] if kind == "linear" else []), (kind, calls)


def test_a_rank_that_never_arrives_makes_the_others_raise_not_hang(tmp_path):
    results = _spawn("absent-rank", 3, tmp_path, timeout=60)
    for rank, result in enumerate(results[:-1]):
        assert result.get("error") == "RuntimeError" and "did not complete" in result["message"], (
            f"rank {rank}: {result}"
        )
    assert results[-1] == {"ok": {"called": False}}


def test_without_a_process_group_it_says_what_to_call():
    with pytest.raises(RuntimeError, match="init_process_group"):
        vocab_parallel_cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]))
