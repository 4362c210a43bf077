"""The torch backend's passes as PyTorch operators (torch.library), and what makes them composable.

Each pass over the logits (the row statistics, the gradient) is a custom operator ``verified_ce::<name>``.
torch.compile and torch.export see one opaque node whose fake (meta) implementation gives its output shapes,
so a graph never breaks on the data-dependent steps inside it (the target range check, the fold check, the
choice of gradient path); vmap folds the batch into the rows, since every operator here is row-wise.

Autograd is not registered on the operators: in torch 2.13 ``register_autograd`` does not reach torch.func
(pytorch#168393, "must override the setup_context staticmethod"). The autograd.Functions that call them
(kernels/torch/_ce_autograd.py) use setup_context, ``generate_vmap_rule`` and ``jvp``, which torch.func,
torch.compile and torch.export all understand; ``traced`` picks the class without ``jvp`` while dynamo
traces (dynamo refuses a custom jvp, and a compiled graph has no forward mode to serve).
"""

import torch
import torch.autograd.forward_ad as forward_ad

#: The operator namespace: torch.ops.verified_ce.<name>.
NAMESPACE = "verified_ce"


#: Each operator's Python implementation, which ``call`` runs directly where nothing traces or transforms.
_IMPLEMENTATIONS: dict = {}


def operator(name: str):
    """``torch.library.custom_op`` in our namespace, for a function that returns new tensors only."""

    def define(fn):
        op = torch.library.custom_op(f"{NAMESPACE}::{name}", mutates_args=())(fn)
        _IMPLEMENTATIONS[op] = fn
        return op

    return define


def call(op, *args):
    """op(*args): through the dispatcher while torch.compile or torch.export traces and under torch.func (whose
    vmap needs the operator's rule), and otherwise its implementation directly (the same function, without the
    dispatcher's cost of about 40 us a call)."""
    if torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active():
        return op(*args)
    return _IMPLEMENTATIONS[op](*args)


def _fold(arg, dim, batch):
    """(B, N, ...) -> (B N, ...): the vmapped dimension ``dim`` moved first (an unbatched argument expanded)."""
    arg = arg.movedim(dim, 0) if dim is not None else arg.expand(batch, *arg.shape)
    return arg.reshape(batch * arg.shape[1], *arg.shape[2:])


def _unfold(out, batch):
    """(B N, ...) -> (B, N, ...), for a tensor or each tensor of a tuple or list."""
    if isinstance(out, torch.Tensor):
        return out.reshape(batch, out.shape[0] // batch, *out.shape[1:])
    return type(out)(_unfold(o, batch) for o in out)


def _dims(out, dim):
    return dim if isinstance(out, torch.Tensor) else type(out)(dim for _ in out)


def row_wise(op, rows: tuple[int, ...], folds=lambda *args: True):
    """Register the vmap rule of a row-wise operator: the batch folds into the first dimension of the arguments
    at positions ``rows`` (each (N, ...)), one call in all. Where another tensor argument is batched (a
    per-sample class weight), or ``folds(*args)`` is False (an output that sums over rows), the operator runs
    once per batch entry and the results are stacked."""

    def rule(info, in_dims, *args):
        batch = info.batch_size
        others = any(d is not None for i, d in enumerate(in_dims) if i not in rows)
        if others or not folds(*args):
            calls = []
            for b in range(batch):
                one = [a.select(d, b) if d is not None else a for a, d in zip(args, in_dims, strict=True)]
                calls.append(op(*one))
            if isinstance(calls[0], torch.Tensor):
                return torch.stack(calls), 0
            return type(calls[0])(torch.stack(parts) for parts in zip(*calls, strict=True)), _dims(calls[0], 0)
        folded = [_fold(a, d, batch) if i in rows else a for i, (a, d) in enumerate(zip(args, in_dims, strict=True))]
        out = _unfold(op(*folded), batch)
        return out, _dims(out, 0)

    op.register_vmap(rule)
    return op


def traced(full, first_order):
    """The autograd.Function to apply: ``full`` (with jvp) in eager mode and under torch.func, ``first_order``
    (the same class without jvp) while torch.compile or torch.export traces."""
    return first_order if torch.compiler.is_compiling() else full


def transformed(*tensors) -> bool:
    """Whether torch.func transforms are active, or a tensor carries a forward-mode tangent: the chunked losses
    then take their composed form (kernels/torch/_chunked_op.py). False while torch.compile traces."""
    if torch.compiler.is_compiling():
        return False
    if torch._C._are_functorch_transforms_active():
        return True
    if forward_ad._current_level < 0:
        return False
    return any(t is not None and forward_ad.unpack_dual(t).tangent is not None for t in tensors)
