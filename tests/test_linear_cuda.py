"""linear_cross_entropy and the extras on CUDA, against torch's reference path on the same device (skipped
without a GPU; scripts/device_check.sh runs them). Needs neither expecttest nor SymPy."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _compare import assert_close, seeded

import kernels.torch as kt

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
TOL = {torch.float32: (1e-5, 1e-4), torch.bfloat16: (2e-2, 2e-2)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1, "ignore_index": 3}], ids=["plain", "ls+ignore"])
def test_linear_cross_entropy_on_cuda(dtype, reduction, options):
    gen = seeded("cuda-linear", str(dtype), reduction, sorted(options))
    x = torch.randn(300, 64, generator=gen).to("cuda", dtype)
    w = (torch.randn(1000, 64, generator=gen) / 8).to("cuda", dtype)
    target = torch.randint(0, 1000, (300,), generator=gen).cuda()
    results = []
    for fn in (kt.linear_cross_entropy, F.linear_cross_entropy):
        xs, ws = x.clone().requires_grad_(), w.clone().requires_grad_()
        loss = fn(xs, ws, target, reduction=reduction, **options)
        loss.backward(torch.ones_like(loss))
        results.append((loss.float(), xs.grad.float(), ws.grad.float()))
    atol, rtol = TOL[dtype]
    for name, a, b in zip(("loss", "input grad", "weight grad"), *results, strict=True):
        assert_close(a, b, atol=atol, rtol=rtol, what=f"cuda {dtype} {reduction} {options}: {name}")


def test_the_extras_on_cuda_match_their_definition():
    gen = seeded("cuda-extras")
    logits = (torch.randn(64, 500, generator=gen) * 4).cuda()
    target = torch.randint(0, 500, (64,), generator=gen).cuda()
    ours = kt.cross_entropy(logits, target, lse_square_scale=1e-3, softcap=30.0)
    capped = 30.0 * torch.tanh(logits / 30.0)
    want = F.cross_entropy(capped, target) + 1e-3 * (torch.logsumexp(capped, 1) ** 2).mean()
    assert_close(ours, want, atol=1e-5, rtol=1e-5, what="z-loss and softcap on cuda")
