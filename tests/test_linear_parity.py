"""linear_cross_entropy against torch's reference path (options=None), on PyTorch's own sample inputs and a grid.

PyTorch's OpInfo samples for nn.functional.linear_cross_entropy (its reference, 'chunked' and 'chunked_none'
variants: every reduction, weights, ignore_index, bias, probability targets, K-dimensional weights, (H,)
inputs) in float64, float32, bfloat16 and float16, each held to tests/_compare.py's tolerance; then our
grid in float64 with chunks of 4 rows, so that every case crosses chunk boundaries, label smoothing
included; and the NumPy backend on the same grid.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _compare import DTYPES, seeded
from _linear_cases import compare, torch_samples

import kernels.numpy as knp
import kernels.torch as kt


@pytest.mark.parametrize("variant", ["", "chunked", "chunked_none"], ids=["reference", "chunked", "chunked-none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_sample_inputs(variant, dtype):
    samples = torch_samples(variant, dtype)
    assert len(samples) > 50, "PyTorch's sample inputs went missing"
    for number, s in enumerate(samples):
        (linear_weight, target), kwargs = s.args, dict(s.kwargs)
        what = f"sample {number}: input {tuple(s.input.shape)}, weight {tuple(linear_weight.shape)}, {kwargs}"
        compare(kt.linear_cross_entropy, s.input, linear_weight, target, kwargs, what)


GRID = list(
    itertools.product(
        [(7, 5, 11, 1), (9, 4, 6, 3)],  # N, H, C, S (S > 1: a K-dimensional weight)
        ["mean", "sum", "none"],
        ["index", "prob"],
        [dict(), dict(label_smoothing=0.2), dict(weight=True, ignore_index=2), dict(weight=True, label_smoothing=0.1)],
        [False, True],  # linear_bias
    )
)


def _case(shape, kind, extra, bias, dtype=torch.float64):
    n, h, c, s = shape
    gen = seeded("linear", shape, kind, sorted(extra), bias)
    x = torch.randn(n, h, generator=gen, dtype=dtype)
    w = torch.randn((c, h) if s == 1 else (c, s, h), generator=gen, dtype=dtype)
    logits = (n, c) if s == 1 else (n, c, s)
    if kind == "index":
        target = torch.randint(0, c, logits[:1] + logits[2:], generator=gen)
        target[0] = 2 if extra.get("ignore_index") == 2 else target[0]  # an ignored row where there is one
    else:
        target = torch.randn(logits, generator=gen, dtype=dtype).softmax(1)
    kwargs = {k: v for k, v in extra.items() if k != "weight"}
    if kind == "prob":
        kwargs.pop("ignore_index", None)
    if extra.get("weight"):
        kwargs["weight"] = torch.rand(c, generator=gen, dtype=dtype) + 0.5
    if bias:
        kwargs["linear_bias"] = torch.randn(w.shape[:-1], generator=gen, dtype=dtype)
    return x, w, target, kwargs


@pytest.mark.parametrize("shape, reduction, kind, extra, bias", GRID)
def test_grid_in_chunks_of_four_rows(shape, reduction, kind, extra, bias):
    x, w, target, kwargs = _case(shape, kind, extra, bias)
    kwargs.update(reduction=reduction, options=torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4))
    compare(kt.linear_cross_entropy, x, w, target, kwargs, f"{shape} {reduction} {kind} {extra} bias={bias}")


@pytest.mark.parametrize("shape, reduction, kind, extra, bias", GRID)
def test_numpy_backend_on_the_grid(shape, reduction, kind, extra, bias):
    x, w, target, kwargs = _case(shape, kind, extra, bias)
    kwargs["reduction"] = reduction
    leaves = [t.clone().requires_grad_() for t in (x, w)]
    b = kwargs.pop("linear_bias", None)
    b_leaf = None if b is None else b.clone().requires_grad_()
    ref = F.linear_cross_entropy(*leaves, target, linear_bias=b_leaf, **kwargs)
    upstream = torch.rand(ref.shape, generator=seeded("upstream"), dtype=torch.float64) + 0.5
    ref.backward(upstream)
    arrays = {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    arrays["linear_bias"] = None if b is None else b.numpy()

    class Chunks:  # duck-typed LinearCrossEntropyOptions: four rows per chunk
        batch_chunk_size = 4

    args = (x.numpy(), w.numpy(), target.numpy())
    loss = knp.linear_cross_entropy(*args, options=Chunks, **arrays)
    grads = knp.linear_cross_entropy_grad(*args, options=Chunks, grad_output=upstream.numpy(), **arrays)
    expected = [ref.detach(), leaves[0].grad, leaves[1].grad, None if b_leaf is None else b_leaf.grad]
    for got, want, name in zip([loss, *grads], expected, ["loss", "input", "linear_weight", "bias"], strict=True):
        assert (got is None) == (want is None), name
        if want is not None:
            assert np.shape(got) == tuple(want.shape), name
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
