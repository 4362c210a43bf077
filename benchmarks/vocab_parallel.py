"""python -m benchmarks.vocab_parallel: what vocab-parallel cross-entropy sends, and its time on 2 gloo ranks.

Bytes each rank sends per token in one forward of kernels.torch.distributed.vocab_parallel_cross_entropy,
counted by wrapping torch.distributed's all_reduce and all_gather: a ring all_gather of b bytes per rank
sends (P - 1) b from each rank, a ring all_reduce 2 (P - 1) / P b. Against the same count for gathering the
logits (all_gather of the shard: C / P values per token from each rank) and for Megatron-LM's three
all-reduces (max, sum of exp, target logit: one float32 per token each). Then forward + backward time with
P gloo ranks on 127.0.0.1 (one torch thread each), against the unsharded kernels.torch.cross_entropy in one
process; medians of ``--rounds``.

python -m benchmarks.vocab_parallel [--shape 4096x32000] [--ranks 2] [--rounds 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import statistics
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _counting():
    """Wrap the collectives; returns the list that receives (name, bytes) per call."""
    sent = []
    for name in ("all_reduce", "all_gather"):
        original = getattr(dist, name)

        def counted(tensor_or_list, *args, _original=original, _name=name, **kwargs):
            tensor = args[0] if _name == "all_gather" else tensor_or_list
            sent.append((_name, tensor.numel() * tensor.element_size()))
            return _original(tensor_or_list, *args, **kwargs)

        setattr(dist, name, counted)
    return sent


def _rank(rank, world, port, n, c, rounds, folder, options):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=120))
    sent = _counting()
    from kernels.torch import distributed as vp

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(n, c, generator=g)
    target = torch.randint(0, c, (n,), generator=g)
    bounds = [round(c * r / world) for r in range(world + 1)]
    shard = logits[:, bounds[rank] : bounds[rank + 1]].clone().requires_grad_()
    times = []
    for i in range(rounds + 1):
        sent.clear()
        shard.grad = None
        dist.barrier()
        start = time.perf_counter()
        vp.vocab_parallel_cross_entropy(shard, target, **options).backward()
        times.append(time.perf_counter() - start)
        if i == 0:
            first = list(sent)
    with open(os.path.join(folder, f"{rank}.json"), "w") as f:
        json.dump({"seconds": statistics.median(times[1:]), "sent": first}, f)
    dist.destroy_process_group()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(n, c, world, rounds, options) -> dict:
    import kernels.torch as kt

    with tempfile.TemporaryDirectory() as folder:
        mp.spawn(_rank, args=(world, _port(), n, c, rounds, folder, options), nprocs=world, join=True)
        ranks = [json.load(open(os.path.join(folder, f"{r}.json"))) for r in range(world)]
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(n, c, generator=g).requires_grad_()
    target = torch.randint(0, c, (n,), generator=g)
    single = []
    for _ in range(rounds + 1):
        logits.grad = None
        start = time.perf_counter()
        kt.cross_entropy(logits, target, **options).backward()
        single.append(time.perf_counter() - start)
    sent = ranks[0]["sent"]
    header, stats = sent[0][1], sent[1:]  # the header check first, then the statistics
    ring = {"all_gather": world - 1, "all_reduce": 2 * (world - 1) / world}  # bytes sent per byte of input
    return {
        "ours_bytes_per_token": sum(ring[name] * b for name, b in stats) / n,
        "ours_collectives": len(sent),
        "header_bytes": ring["all_gather"] * header,
        "gather_bytes_per_token": ring["all_gather"] * 4 * c / world,
        "megatron_bytes_per_token": 3 * 4 * ring["all_reduce"],
        "sharded_seconds": max(r["seconds"] for r in ranks),
        "single_seconds": statistics.median(single[1:]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", default="4096x32000")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    n, c = (int(x) for x in args.shape.lower().split("x"))
    rows = []
    for name, options in (("plain", {}), ("ls", {"label_smoothing": 0.1})):
        got = measure(n, c, args.ranks, args.rounds, options)
        rows.append({"shape": args.shape, "ranks": args.ranks, "options": name, **got})
        print(
            f"{args.shape} {name:6s} bytes/token sent by each rank: ours {got['ours_bytes_per_token']:.0f} in "
            f"{got['ours_collectives']} collectives (+{got['header_bytes']} B header per call), gathering the logits "
            f"{got['gather_bytes_per_token']:.0f}, Megatron's three all-reduces {got['megatron_bytes_per_token']}; "
            f"fwd+bwd {args.ranks} ranks {got['sharded_seconds'] * 1e3:.0f} ms vs one process "
            f"{got['single_seconds'] * 1e3:.0f} ms ({got['sharded_seconds'] / got['single_seconds']:.2f}x)"
        )
    if args.json:
        from benchmarks.__main__ import _machine

        meta = {"date": datetime.date.today().isoformat(), "machine": _machine(), "torch": torch.__version__}
        with open(args.json, "w") as f:
            json.dump({"meta": {**meta, "rounds": args.rounds}, "rows": rows}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
