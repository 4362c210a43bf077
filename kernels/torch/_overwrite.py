"""The opt-in cross-entropy that writes its gradient over the logits (torch backend): the public function.

The kernel is kernels/torch/_ce_indices.py (CrossEntropyOverwrite); this file validates, refuses what it can
see would be corrupted, and documents the contract loudly.
"""

from __future__ import annotations

import torch

from kernels import _validate as validate
from kernels.torch._ce_indices import CrossEntropyOverwrite
from kernels.torch._functional import cross_entropy
from kernels.torch._ops import transformed
from kernels.torch._refusals import refuse_what_would_break
from kernels.torch._targets import classes, dtype_name, index_rows, shape_output
from kernels.torch._triton_switch import triton_backend


def cross_entropy_overwrite_logits(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
) -> torch.Tensor:
    """cross_entropy with class indices that OVERWRITES ``input`` WITH ITS GRADIENT (opt-in, as Liger-Kernel does).

    Same arguments and result as ``cross_entropy`` with class-index targets, and the same gradient, but
    the forward pass computes d loss / d input in the same sweep over the logits (one exponential per
    element) and writes it *into the storage of* ``input``; backward multiplies it in place by
    grad_output and hands it on. No N x C memory is allocated at all (peak extra about 0 L, against
    1 L for ``cross_entropy`` and 3 L for ``torch.nn.functional.cross_entropy``), and it is the fastest
    path here. Use it for the language-model pattern ``loss = f(model(x).view(-1, V), y); loss.backward()``
    where nothing else reads the logits.

    Warning:
        THE LOGITS ARE DESTROYED. After the call ``input``, and every tensor sharing its storage (the
        base tensor it is a view of, e.g. the (B, T, V) output behind ``logits.view(-1, V)``), holds the
        gradient, not the logits. Do not read them afterwards: compute accuracy, argmax, a second loss or
        anything else from the logits *before* this call. A leaf ``input`` (requires_grad=True, made by
        you) ends with ``input.grad`` and ``input`` sharing one storage.

    Refused with a RuntimeError, before anything is written: an ``nn.Parameter`` (the weights would be
    lost); an input whose producing op saved it for its own backward (softmax, tanh, sigmoid, exp as the
    last op: its gradient would be corrupted); probability targets (use ``cross_entropy``). Caught by
    autograd at backward: any *other* op that saved the logits for its backward (say ``logits.pow(2)`` in a
    regulariser) fails with torch's "modified by an inplace operation" error, because this call bumps the
    logits' version counter. Not detectable: plain reads of the overwritten values without autograd.

    Backward may run once per call (a second backward through the same graph would scale the gradient
    twice, so it raises); double backward is not supported (the logits it would need are gone: use
    ``cross_entropy``). When no gradient is needed (``torch.no_grad()``, or ``input.requires_grad``
    False), inside torch.compile or torch.export (a traced graph cannot hand its input's storage to the
    gradient) and under torch.func transforms or forward-mode tangents, nothing is overwritten: the call is
    ``cross_entropy``, with its gradient and its 1 L.
    """
    backend = triton_backend(input, target, weight)
    if backend is not None:  # opt-in: VCE_TRITON=1 or use_triton(), CUDA only
        return backend.cross_entropy_overwrite_logits(input, target, weight, ignore_index, reduction, label_smoothing)
    wanted = torch.is_grad_enabled() and isinstance(input, torch.Tensor) and input.requires_grad
    if not wanted or torch.compiler.is_compiling() or transformed(input):
        return cross_entropy(input, target, weight, None, ignore_index, None, reduction, label_smoothing)
    dtypes = dtype_name(input.dtype), dtype_name(target.dtype)
    call = validate.cross_entropy_call(input.shape, target.shape, *dtypes, ignore_index, reduction, label_smoothing)
    if call.kind == "prob":
        raise RuntimeError(
            "cross_entropy_overwrite_logits takes class-index targets only; for probability targets use "
            "kernels.torch.cross_entropy"
        )
    refuse_what_would_break(input)
    safe_target, valid = index_rows(input, target, weight, call.ignore_index, call.eps, call.reduction)
    out = CrossEntropyOverwrite.apply(classes(input), safe_target, valid, weight, call.eps, call.reduction)
    return shape_output(out, input, call.reduction)
