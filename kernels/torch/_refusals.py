"""What the overwrite variants refuse before writing a gradient over the logits (torch and Triton backends).

An nn.Parameter (the model's weights would be lost), and an input whose producing op saved it for its own
backward (softmax, tanh, sigmoid, exp as the last op: its gradient would be corrupted).
"""

from __future__ import annotations

import torch


def _saved_by_producer(input: torch.Tensor) -> str | None:
    """The name of the op that made ``input`` (or the tensor it is a view of) and saved it for its backward."""
    for tensor in (input, input._base):
        fn = None if tensor is None else tensor.grad_fn
        if fn is not None and hasattr(fn, "_saved_result"):
            return fn.name()
    return None


def refuse_what_would_break(input: torch.Tensor) -> None:
    """A RuntimeError before anything is written, where overwriting ``input`` would lose weights or corrupt a
    gradient: an nn.Parameter, or the output of an op that saved it for its own backward."""
    if isinstance(input, torch.nn.Parameter):
        raise RuntimeError(
            "cross_entropy_overwrite_logits would overwrite an nn.Parameter with its gradient (the model's weights "
            "would be lost): pass logits computed from the parameters, or use kernels.torch.cross_entropy"
        )
    producer = _saved_by_producer(input)
    if producer is not None:
        raise RuntimeError(
            f"cross_entropy_overwrite_logits: the input is the output of {producer}, which saved it for its own "
            "backward; overwriting it would corrupt that gradient. Pass input.clone() (which costs the memory this "
            "function saves) or use kernels.torch.cross_entropy"
        )
