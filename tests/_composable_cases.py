"""The cases of tests/test_composable.py: every loss and option of kernels.torch beside torch's, float64.

``CASES``: name -> (make, args); make(lib) is the loss taken from kernels.torch or torch.nn.functional (for
the extras, which torch lacks, torch's side is composed by hand), args its inputs: the first is
differentiated, the others too where they are floating point.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from _compare import seeded

import kernels.torch as kt


def cases():
    """name -> (loss(lib), args): lib is kernels.torch or torch.nn.functional; the first argument is
    differentiated, and the second too where it is floating point. Class dimension 1 (or 0 for one sample)."""
    g = seeded("composable")
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    z, t = r(4, 5), torch.tensor([1, 0, 4, 2])
    t_ignored = torch.tensor([1, -100, 4, 2])
    w = torch.rand(5, generator=g, dtype=torch.float64) + 0.5
    p = torch.softmax(r(4, 5), 1)
    y = torch.rand(4, 5, generator=g, dtype=torch.float64)
    logp = torch.log_softmax(r(4, 5), 1)
    cases = {}
    for red in ("mean", "sum", "none"):
        cases[f"ce-{red}"] = (lambda lib, red=red: lambda x, t: lib.cross_entropy(x, t, reduction=red), (z, t))
        cases[f"ce-weight-ignore-smooth-{red}"] = (
            lambda lib, red=red: (
                lambda x, t: lib.cross_entropy(x, t, w, ignore_index=-100, reduction=red, label_smoothing=0.2)
            ),
            (z, t_ignored),
        )
        cases[f"ce-prob-weight-smooth-{red}"] = (
            lambda lib, red=red: lambda x, q: lib.cross_entropy(x, q, w, reduction=red, label_smoothing=0.1),
            (z, p),
        )
        cases[f"nll-weight-ignore-{red}"] = (
            lambda lib, red=red: lambda x, t: lib.nll_loss(x, t, w, ignore_index=-100, reduction=red),
            (logp, t_ignored),
        )
        cases[f"bce-weight-pos-{red}"] = (
            lambda lib, red=red: (
                lambda x, y: lib.binary_cross_entropy_with_logits(x, y, w, reduction=red, pos_weight=w.flip(0))
            ),
            (z, y),
        )
    # the chunked losses: linear_cross_entropy, and cross_entropy with the language-model extras
    x, lw, lb = r(4, 3), r(5, 3) * 0.5, r(5) * 0.1
    for red in ("mean", "sum", "none"):
        cases[f"linear-bias-weight-ignore-smooth-{red}"] = (
            lambda lib, red=red: (
                lambda x, lw, lb: lib.linear_cross_entropy(
                    x, lw, t_ignored, linear_bias=lb, weight=w, ignore_index=-100, label_smoothing=0.1, reduction=red
                )
            ),
            (x, lw, lb),
        )
        cases[f"ce-z-loss-softcap-{red}"] = (lambda lib, red=red: _with_extras(lib, t_ignored, red), (z * 3,))
    cases["linear-prob-mean"] = (lambda lib: lambda x, lw, q: lib.linear_cross_entropy(x, lw, q), (x, lw, p))
    cases["overwrite-weight-smooth-mean"] = (
        lambda lib: lambda x: _overwrite(lib)(x * 1.0, t, w, label_smoothing=0.1),
        (z,),
    )
    cases["ce-spatial"] = (
        lambda lib: lambda x, t: lib.cross_entropy(x, t),
        (r(2, 5, 3), torch.tensor([[0, 4, 1]] * 2)),
    )
    cases["kl-batchmean"] = (lambda lib: lambda x, q: lib.kl_div(x, q, reduction="batchmean"), (logp, p))
    cases["kl-log-target-sum"] = (
        lambda lib: lambda x, q: lib.kl_div(x, q, reduction="sum", log_target=True),
        (logp, p.log()),
    )
    return cases


def _with_extras(lib, target, reduction):
    """cross_entropy with z-loss 1e-2 and softcap 5; torch's side composed by hand: 5 tanh(z / 5), then
    F.cross_entropy plus 1e-2 lse^2 of the kept rows, reduced as the cross-entropy is ('mean': by their count)."""
    if lib is kt:
        return lambda z: kt.cross_entropy(
            z, target, ignore_index=-100, reduction=reduction, lse_square_scale=1e-2, softcap=5.0
        )

    def composed(z):
        capped = 5.0 * torch.tanh(z / 5.0)
        kept = target != -100
        z_loss = torch.where(kept, 1e-2 * torch.logsumexp(capped, 1) ** 2, 0.0)
        z_loss = {"mean": z_loss.sum() / kept.sum(), "sum": z_loss.sum(), "none": z_loss}[reduction]
        return F.cross_entropy(capped, target, ignore_index=-100, reduction=reduction) + z_loss

    return composed


def _overwrite(lib):
    return kt.cross_entropy_overwrite_logits if lib is kt else F.cross_entropy


CASES = cases()
