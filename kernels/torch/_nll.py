"""nll_loss on (N, C, S) log-probabilities (torch backend): -w_t x_t, gathered (kernel.nll_loss).

Written in differentiable torch operations (a gather, a select, a reduction), so autograd, torch.func,
torch.compile and torch.export handle it as they handle torch's own: its gradient is -g w_t at the target
index only, a scatter into zeros (never a one-hot), and every higher derivative is 0. The one step that
reads the data, the target range check, is the operator ``verified_ce::index_targets``.
"""

import torch

from kernels._generated import torch_ce as _ce
from kernels.torch._autograd import reduce, target_weight, working_dtype, zero
from kernels.torch._ops import call, operator, row_wise
from kernels.torch._targets import safe_targets


@operator("index_targets")
def index_targets(target: torch.Tensor, num_classes: int, ignore_index: int) -> torch.Tensor:
    """int64 targets with the ignored ones set to 0; IndexError for a kept target outside [0, C)."""
    return safe_targets(target, num_classes, ignore_index)[0]


@index_targets.register_fake
def _(target, num_classes, ignore_index):
    return torch.empty_like(target)


row_wise(index_targets, rows=(0,))


def nll(logp, target, weight, ignore_index, reduction):
    """nll_loss of (N, C, S) log-probabilities and (N, 1, S) int64 targets, reduced."""
    acc = working_dtype(logp.dtype)
    safe_target = call(index_targets, target, logp.shape[1], ignore_index)
    valid = target != ignore_index
    wt = target_weight(safe_target, valid, weight, acc)
    xt = logp.gather(1, safe_target).to(acc)  # x_t, gathered
    losses = torch.where(valid, _ce.nll_loss_term(xt, wt), zero(wt))  # -w_t x_t, exactly 0 where ignored
    return reduce(losses, reduction, wt.sum(), logp.dtype)
