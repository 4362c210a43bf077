"""The folded exponent: c z - kappa in one fused multiply-add, where the unfolded kernels subtract m, then scale.

torch.add(r, z, alpha=c) computes c z + r with one rounding on CPUs with FMA (``fused`` checks it once
per device type): one pass over a block instead of two, and the product c z is never rounded.

Forward (claims kernel.ce_folded_sum and kernel.ce_folded_smooth), per block of rows:

    kappa = c m, rounded up to a float32            kappa >= c m, so c z - kappa <= 0 and 2^(c z - kappa) <= 1
    u' = c z - kappa,   d' = sum_j 2^u'_j            (folded_shift_into, then the unfolded exp2 and sum)
    d = d' / 2^(c m - kappa),   swu = swu' + (kappa - c m) sum_j w_j      (``unfold``, after the pass)

c is float32's 1/ln 2 (C32; the unfolded kernels multiply by the same value), so c m of a float32 m has
48 significant bits and c m - kappa is exact in float64: the correction restores d exactly as the
identities say, whatever kappa is. Rows with |m| >= 2^23 (kappa's spacing above 1) or a non-finite m
are left to the unfolded pass (``FORWARD_LIMIT``).

Backward (claim kernel.ce_folded_grad): a exp(z - m) = 2^(c z - kappa) with kappa = c m - log2 a, one
float32 per position, rounded up. Its rounding is not undone: the gradient is low by a factor
2^-(kappa's rounding), at most 1.5 ulp(kappa) ln 2 relative. Folding is used only where every |kappa| < 32
(``GRAD_LIMIT``): ulp(kappa) <= 2^-19, so at most 2.0e-6 relative, against float32's test tolerance of
1e-5; an a of 0 (an ignored position) gives kappa = inf and 2^-inf = 0 exactly, as unfolded.
"""

from __future__ import annotations

import functools

import torch

from kernels._generated import torch_ce as _ce

#: 1 / ln 2 as float32 holds it: the c of the folded kernels, a float32 number passed as a Python float.
C32 = float(torch.tensor(1.4426950408889634, dtype=torch.float32))

#: Forward: rows with |m| below this fold (kappa's float32 spacing is then at most 2, d' >= 2^-3).
FORWARD_LIMIT = 2.0**23

#: Backward: the gradient folds only where every |kappa| is below this (its rounding <= 2.0e-6 relative).
GRAD_LIMIT = 32.0


@functools.cache
def fused(device_type: str) -> bool:
    """Whether torch.add(r, z, alpha=C32) rounds c z + r once for float32 on this device type.

    With |z| and |r| in [1, 32), c z + r has at most 53 significant bits, so the float64 value is exact
    and its rounding to float32 is the fused result; a product rounded first differs on most entries.
    """
    g = torch.Generator().manual_seed(0)
    sign = torch.randint(0, 2, (7, 1031), generator=g) * 2 - 1
    z = (sign * (1 + 31 * torch.rand((7, 1031), generator=g))).float()  # odd width: vector body and tail
    r = (1 + 31 * torch.rand((7, 1), generator=g)).float()  # one per row, broadcast as kappa is
    got = torch.add(r.to(device_type), z.to(device_type), alpha=C32).cpu()
    return bool(torch.equal(got, (z.double() * C32 + r.double()).float()))


def folding(logits: torch.Tensor, acc: torch.dtype) -> bool:
    """Fold where the working dtype is float32 (c m - kappa is exact in float64) and add fuses."""
    return acc == torch.float32 and fused(logits.device.type)


def shift_into(out: torch.Tensor, m: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """kappa = c m rounded up to a float32 (``up`` is +inf): kappa >= c m, within 1.5 ulp of it."""
    torch.mul(m, C32, out=out)  # c m rounded to nearest: the product of two float32 numbers is exact in float64
    return torch.nextafter(out, up, out=out)  # the next float32 up: >= c m whichever way it rounded


def unfold(m, kappa, d, swu, sw) -> None:
    """d = d' / 2^(c m - kappa) and swu = swu' + sw (kappa - c m) in place, with c m - kappa exact in float64."""
    m64, kappa64 = m.double(), kappa.double()
    d.copy_(_ce.folded_sum(d.double(), C32, m64, kappa64))
    if swu is not None:
        swu.copy_(_ce.folded_swu(swu.double(), sw, C32, m64, kappa64))


def foldable(m: torch.Tensor) -> torch.Tensor:
    """The positions whose forward folded: a finite m with |m| < FORWARD_LIMIT."""
    return m.abs() < FORWARD_LIMIT


def grad_shift(m: torch.Tensor, la: torch.Tensor) -> torch.Tensor | None:
    """kappa = c m - log2 a rounded up to float32 at every position, or None unless every |kappa| < GRAD_LIMIT
    where a > 0 (a = 0, log2 a = -inf, gives kappa = inf and 2^(c z - inf) = 0 exactly)."""
    kappa = _ce.folded_grad_shift(C32, m.double(), la.double()).float()  # nearest to c m - log2 a
    kappa = torch.nextafter(kappa, torch.full((), torch.inf, device=m.device))  # >= c m - log2 a >= c m
    return kappa if bool(((kappa.abs() < GRAD_LIMIT) | (la == -torch.inf)).all()) else None
