# %% [markdown]
# # Three ranks, one loss
#
# The [Splitting the vocabulary](../../vocab-parallel/) page proves that cross-entropy over classes
# split across devices is the cross-entropy of the whole row. Here three processes on this machine
# (`torch.distributed` with the gloo backend, on 127.0.0.1) each hold an uneven share of 11 classes,
# 2 + 6 + 3, and compute the loss and their shard's gradient with `vocab_parallel_cross_entropy`;
# the result is compared with `F.cross_entropy` of the gathered logits. What makes it exact is that
# the log-sum-exp of a row is the log-sum-exp of its parts' log-sum-exps,
# $\operatorname{LSE}(z) = \log \sum_r e^{\operatorname{LSE}(z_r)}$, a claim SymPy checks:

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
# Every rank reports the same loss, and the shards' gradients, side by side, are the gradient of the
# whole row:

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
