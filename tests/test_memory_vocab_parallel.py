"""Peak extra memory of vocab-parallel cross-entropy with probability targets on given logits, in L = one shard
of logits, measured exactly as tests/test_memory.py does (a fresh process, VmHWM, big blocks from the OS).

The shard is passed in ~1 MiB blocks (kernels/torch/_vocab_logits.py), so forward keeps per-position statistics
only and backward peaks at the gradient it returns; F.cross_entropy on the same logits, measured in the same
process, proves the measurement sees its N x C log-probabilities. One gloo rank on 127.0.0.1.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.memory import run_child

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")

_CHILD = r"""
import datetime, gc, json, os, socket, sys
import torch
import torch.distributed as dist
import torch.nn.functional as F
torch.set_num_threads(1)
spec = json.loads(sys.argv[1])
with socket.socket() as s:  # a free port on the loopback interface
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
dist.init_process_group("gloo", rank=0, world_size=1, timeout=datetime.timedelta(seconds=60))
from kernels.torch import distributed as vp

def kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

def measured(run):
    gc.collect()
    before = kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    kept = run()
    return (kb("VmHWM") - before) / z.numel() / z.element_size(), kept

n, c = spec["shape"]
g = torch.Generator().manual_seed(0)
z = torch.randn(n, c, generator=g).requires_grad_()
p = torch.softmax(torch.randn(n, c, generator=g), 1)
w = torch.rand(c, generator=g) + 0.5 if spec["weight"] else None
call = lambda x, y: vp.vocab_parallel_cross_entropy(x, y, weight=w, label_smoothing=spec["eps"])
call(z[:8], p[:8]).backward()  # warm-up: the process group's and the dispatcher's first allocations
z.grad = None
forward, out = measured(lambda: call(z, p))
backward, _ = measured(lambda: out.backward())
del out
z.grad = None
torch_forward, _ = measured(lambda: F.cross_entropy(z, p, w, label_smoothing=spec["eps"]))
print(json.dumps({"forward": forward, "backward": backward, "torch_forward": torch_forward}))
dist.destroy_process_group()
"""


@pytest.mark.parametrize(("weight", "eps"), [(False, 0.0), (True, 0.1)])
def test_probability_targets_keep_no_shard_sized_temporary(weight, eps):
    got = run_child(_CHILD, {"shape": [4096, 4096], "weight": weight, "eps": eps})
    assert got["torch_forward"] >= 0.99, got  # the measurement sees torch's log-probabilities (1 L, or more)
    assert got["forward"] <= 0.1, got  # per-position statistics and one block's temporaries
    assert got["backward"] <= 1.1, got  # the gradient of the logits (1 L) and one block's temporaries
