"""torch.nn.Module counterparts of the losses, with torch.nn's constructor arguments and buffers."""

from __future__ import annotations

import torch

from kernels import _validate as validate
from kernels.torch import _functional as _kt


class CrossEntropyLoss(torch.nn.Module):
    """torch.nn.CrossEntropyLoss over kernels.torch.cross_entropy; ``weight`` is a registered buffer."""

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
    ):
        super().__init__()
        validate.legacy("CrossEntropyLoss", size_average, reduce)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return _kt.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(torch.nn.Module):
    """torch.nn.NLLLoss over kernels.torch.nll_loss; ``weight`` is a registered buffer."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__()
        validate.legacy("NLLLoss", size_average, reduce)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, input, target):
        return _kt.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class BCEWithLogitsLoss(torch.nn.Module):
    """torch.nn.BCEWithLogitsLoss; ``weight`` and ``pos_weight`` are registered buffers."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__()
        validate.legacy("BCEWithLogitsLoss", size_average, reduce)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input, target):
        return _kt.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class KLDivLoss(torch.nn.Module):
    """torch.nn.KLDivLoss over kernels.torch.kl_div."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__()
        validate.legacy("KLDivLoss", size_average, reduce)
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input, target):
        return _kt.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"
