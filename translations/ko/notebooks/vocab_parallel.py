# translation of docs/notebooks/vocab_parallel.py, source a0ac130ffb25
# %% [markdown]
# # 세 랭크, 하나의 손실 {#three-ranks-one-loss}
#
# [어휘 나누기](../../vocab-parallel/) 페이지에서는 여러 장치에 나뉜 클래스(class)에 대한 교차 엔트로피(cross-entropy)가
# 행 전체의 교차 엔트로피와 같음을 증명합니다. 여기서는 이 머신의 세 프로세스(gloo 백엔드를 쓰는
# `torch.distributed`, 127.0.0.1에서 실행)가 11개 클래스를 2 + 6 + 3으로 고르지 않게 나누어 가지고,
# `vocab_parallel_cross_entropy`로 손실(loss)과 각자 샤드(shard)의 기울기(gradient)를 계산합니다.
# 그 결과를 모은 로짓(logit)에 대한 `F.cross_entropy`와 비교합니다. 이것이 정확한 이유는 한 행의
# 로그-합-지수(log-sum-exp)가 그 부분들의 로그-합-지수들에 대한 로그-합-지수, 즉
# $\operatorname{LSE}(z) = \log \sum_r e^{\operatorname{LSE}(z_r)}$이기 때문이며, 이는 SymPy가 검사하는 명제(claim)입니다:

# %%
from derivations import claim_by_id

claim_by_id("shard.lse_of_parts").derivation().statement()

# %%
import datetime
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from kernels.torch.distributed import vocab_parallel_cross_entropy

SIZES = [2, 6, 3]  # the classes each rank holds, in rank order
gen = torch.Generator().manual_seed(0)
logits = torch.randn(5, sum(SIZES), generator=gen, dtype=torch.float64) * 3
# global class indices; -100 is ignored
target = torch.tensor([0, 10, 4, -100, 7])
options = dict(label_smoothing=0.1, reduction="mean")


def rank_main(rank, port, results):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group(
        "gloo",
        rank=rank,
        world_size=len(SIZES),
        timeout=datetime.timedelta(seconds=30),
    )
    start = sum(SIZES[:rank])
    shard = logits[:, start : start + SIZES[rank]].clone().requires_grad_()
    loss = vocab_parallel_cross_entropy(shard, target, **options)
    # no communication: the shard's gradient from the global statistics
    loss.backward()
    # plain numbers, not tensors: the process ends right after
    results.put((rank, loss.item(), shard.grad.tolist()))
    dist.destroy_process_group()


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
results = mp.get_context("fork").SimpleQueue()
context = mp.start_processes(
    rank_main,
    args=(port, results),
    nprocs=len(SIZES),
    join=False,
    start_method="fork",
)
got = {}
for _ in SIZES:
    rank, loss, grad = results.get()
    got[rank] = (loss, torch.tensor(grad, dtype=torch.float64))
for _ in SIZES:  # each join returns once a rank exits; True when all have
    if context.join(timeout=60):
        break

# %% [markdown]
# 모든 랭크(rank)가 같은 손실을 보고하며, 샤드들의 기울기를 나란히 이어 붙이면 행 전체의
# 기울기가 됩니다:

# %%
whole = logits.clone().requires_grad_()
expected = F.cross_entropy(whole, target, **options)
expected.backward()
print("loss on each rank:", [round(got[r][0], 12) for r in range(len(SIZES))])
print("F.cross_entropy:   ", round(expected.item(), 12))
sharded_grad = torch.cat([got[r][1] for r in range(len(SIZES))], dim=1)
print(
    "largest gradient difference:",
    (sharded_grad - whole.grad).abs().max().item(),
)
