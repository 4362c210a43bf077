"""Random correct cross_entropy calls: what explain must not warn about (tests/test_explain_reports.py).

`random_valid_call(seed)` returns (args, kwargs, description) for one call torch accepts and a user would mean:
raw logits (randn at scales 0.01 to 100, plain, requiring grad, or a Linear layer's output), of shape (C),
(N, C), (N, C, d1) or (N, C, d1, d2); class indices (int64, or uint8 with ignore_index=255) or class
probabilities (softmax rows, one-hot rows, mixtures); with or without class weights, ignore_index (always
leaving a position counted), label smoothing, and each reduction; float32 or float64.
"""

from __future__ import annotations

import numpy as np
import torch

SCALES = (0.01, 0.1, 1.0, 10.0, 100.0)


def _logits(rng, g, shape, dtype, scale):
    source = rng.choice(["randn", "requires_grad", "linear"])
    if source == "linear":  # a Linear layer over features, class dimension moved to 1: AddmmBackward0 behind it
        features = 1 + int(rng.integers(8))
        with torch.random.fork_rng():
            torch.manual_seed(int(rng.integers(2**31)))
            layer = torch.nn.Linear(features, shape[1] if len(shape) > 1 else shape[0]).to(dtype)
        batch = (shape[0], *shape[2:]) if len(shape) > 1 else ()
        z = layer(torch.randn(*batch, features, generator=g, dtype=dtype)) * scale
        return (z.movedim(-1, 1) if len(shape) > 2 else z), source
    z = torch.randn(*shape, generator=g, dtype=dtype) * scale
    return (z.requires_grad_(True) if source == "requires_grad" else z), source


def _probabilities(rng, g, shape, dtype, class_dim):
    kind = rng.choice(["softmax", "one-hot", "mixture"])
    num_classes = shape[class_dim]
    if kind == "softmax":
        return (torch.randn(*shape, generator=g, dtype=dtype) * 2).softmax(class_dim), kind
    index = torch.randint(num_classes, shape[:class_dim] + shape[class_dim + 1 :], generator=g)
    one_hot = torch.nn.functional.one_hot(index, num_classes).movedim(-1, class_dim).to(dtype)
    if kind == "one-hot":
        return one_hot, kind
    lam = float(rng.uniform(0.1, 0.9))  # mixup: lam e_a + (1 - lam) e_b, a distribution
    return lam * one_hot + (1 - lam) * one_hot.roll(1, dims=0), kind


def random_valid_call(seed: int, dtype: torch.dtype | None = None):
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    dtype = dtype or (torch.float32, torch.float64)[int(rng.integers(2))]
    dims = int(rng.choice([1, 2, 2, 3, 4]))
    num_classes = int(rng.integers(2, 13))
    batch = int(rng.integers(1, 17))
    spatial = tuple(int(rng.integers(1, 5)) for _ in range(dims - 2))
    shape = (num_classes,) if dims == 1 else (batch, num_classes, *spatial)
    class_dim = 0 if dims == 1 else 1
    scale = float(rng.choice(SCALES))
    input, source = _logits(rng, g, shape, dtype, scale)
    kwargs = {"reduction": str(rng.choice(["mean", "sum", "none"]))}
    if rng.random() < 0.5:
        kwargs["label_smoothing"] = float(rng.choice([0.05, 0.1, 0.5, 1.0]))
    if rng.random() < 0.5:
        kwargs["weight"] = torch.rand(num_classes, generator=g, dtype=dtype) + 0.1
    if rng.random() < 0.35:
        target, kind = _probabilities(rng, g, shape, dtype, class_dim)
    else:
        kind = "indices"
        target = torch.randint(num_classes, shape[:class_dim] + shape[class_dim + 1 :], generator=g)
        if dims <= 2 and rng.random() < 0.2:
            target, kwargs["ignore_index"] = target.to(torch.uint8), 255
            if kwargs.get("weight") is not None and kwargs.get("label_smoothing"):
                kwargs["reduction"] = "sum"  # torch rejects uint8 with weight, smoothing and mean
        elif rng.random() < 0.4:
            kwargs["ignore_index"] = int(rng.choice([-1, -100, int(rng.integers(num_classes))]))
        ignore = kwargs.get("ignore_index", -100)
        flat = target.view(-1)
        skipped = torch.rand(flat.shape, generator=g) < 0.3
        flat[skipped] = ignore
        if bool((flat == ignore).all()):  # leave one position counted
            flat[0] = (ignore + 1) % num_classes if 0 <= ignore < num_classes else 0
    options = ", ".join(f"{k}=" + ("w" if k == "weight" else str(v)) for k, v in kwargs.items())
    description = (
        f"seed {seed}: {source} logits {tuple(shape)} {dtype} x {scale}, {kind} target {tuple(target.shape)} "
        f"{target.dtype}, {options}"
    )
    return (input, target), kwargs, description
