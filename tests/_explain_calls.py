"""Shared by the explain tests (tests/test_explain*.py): explain on either backend, torch's own outcome of a
call, and the learner's case.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import kernels.numpy as kn
import kernels.torch as kt


def _numpy(v):
    return v.detach().numpy() if isinstance(v, torch.Tensor) else v


def explain(backend: str, args: tuple, kwargs: dict):
    """kernels.<backend>.explain on the call (tensors become arrays for numpy)."""
    if backend == "numpy":
        return kn.explain(*map(_numpy, args), **{k: _numpy(v) for k, v in kwargs.items()})
    return kt.explain(*args, **kwargs)


def _learner():
    """The learner's case: sigmoid outputs of shape (1, 3), all near 0.5, and the class index tensor([1])."""
    raw = torch.tensor([[0.12, -0.05, 0.08]], requires_grad=True)
    return torch.sigmoid(raw), torch.tensor([1])


def outcome_of(args, kwargs):
    try:
        F.cross_entropy(*args, **kwargs)
    except Exception as exc:  # every exception type is data here
        return exc
    return None
