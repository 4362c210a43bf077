"""The folded exponent: c z + s in one fused multiply-add, where the unfolded kernels subtract m, then scale.

torch.add(s, z, alpha=c) computes c z + s with one rounding on CPUs with FMA (``fused`` checks it once
per device type): one pass over a block instead of two, and the product c z is never rounded.

Forward (claims kernel.ce_folded_sum and kernel.ce_folded_smooth), per block of rows:

    s = -c m, rounded down to a float32            s <= -c m, so c z + s <= 0 and 2^(c z + s) <= 1
    u' = c z + s,   d' = sum_j 2^u'_j              (folded_shift_into, then the unfolded exp2 and sum)
    d = d' / 2^(c m + s),   swu = swu' - (c m + s) sum_j w_j      (``unfold``, after the pass)

c is float32's 1/ln 2 (C32; the unfolded kernels multiply by the same value), so c m of a float32 m has
48 significant bits and c m + s is exact in float64: the correction restores d exactly as the identities
say, whatever s is. Rows with |m| >= 2^23 (where s's float32 spacing exceeds 1) or a non-finite m are
passed again unfolded (``FORWARD_LIMIT``).

Backward (claim kernel.ce_folded_grad): a exp(z - m) = 2^(c z + s) with s = log2 a - c m, one float32
per position, rounded down (the fused add rounds it once, then one step down). Its rounding is not
undone: the gradient is low by a factor 2^(rounding), at most 1.5 ulp(s) ln 2 relative. Folding is used
only where every |s| < 32 (``GRAD_LIMIT``): ulp(s) <= 2^-19, so at most 2.0e-6 relative, against
float32's test tolerance of 1e-5; an a of 0 (an ignored position) gives s = -inf and 2^-inf = 0
exactly, as unfolded.
"""

from __future__ import annotations

import functools

import torch

from kernels._generated import torch_ce as _ce

#: 1 / ln 2 as float32 holds it: the c of the folded kernels, a float32 number passed as a Python float.
C32 = float(torch.tensor(1.4426950408889634, dtype=torch.float32))

#: Forward: rows with |m| below this fold (s's float32 spacing is then at most 2, d' >= 2^-3).
FORWARD_LIMIT = 2.0**23

#: Backward: the gradient folds only where every |s| is below this (its rounding <= 2.0e-6 relative).
GRAD_LIMIT = 32.0


@functools.cache
def fused(device_type: str) -> bool:
    """Whether torch.add(s, z, alpha=C32) rounds c z + s once for float32 on this device type.

    With |z| and |s| in [1, 32), c z + s has at most 53 significant bits, so the float64 value is exact
    and its rounding to float32 is the fused result; a product rounded first differs on most entries.
    """
    g = torch.Generator().manual_seed(0)
    sign = torch.randint(0, 2, (7, 1031), generator=g) * 2 - 1
    z = (sign * (1 + 31 * torch.rand((7, 1031), generator=g))).float()  # odd width: vector body and tail
    s = (1 + 31 * torch.rand((7, 1), generator=g)).float()  # one per row, broadcast as the shift is
    got = torch.add(s.to(device_type), z.to(device_type), alpha=C32).cpu()
    return bool(torch.equal(got, (z.double() * C32 + s.double()).float()))


def folding(logits: torch.Tensor, acc: torch.dtype) -> bool:
    """Fold where the working dtype is float32 (c m + s is exact in float64) and add fuses."""
    return acc == torch.float32 and fused(logits.device.type)


class Shift:
    """s = -c m rounded down to a float32, written into a block of the row shifts (two row-sized operations)."""

    def __init__(self, device: torch.device):
        self.neg_c = torch.tensor(-C32, device=device)  # a tensor operand: cheaper to dispatch than a Python float
        self.down = torch.tensor(-torch.inf, device=device)

    def into(self, out: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        torch.mul(m, self.neg_c, out=out)  # -c m rounded to nearest: two float32 factors, exact in float64
        return torch.nextafter(out, self.down, out=out)  # the next float32 down: <= -c m whichever way it rounded


def unfold(m, s, d, swu, sw) -> None:
    """d = d' / 2^(c m + s) and swu = swu' - sw (c m + s) in place, with c m + s exact in float64."""
    m64, s64 = m.double(), s.double()
    d.copy_(_ce.folded_sum(d.double(), C32, m64, s64))
    if swu is not None:
        swu.copy_(_ce.folded_swu(swu.double(), sw, C32, m64, s64))


def unfoldable_rows(m: torch.Tensor) -> torch.Tensor | None:
    """The rows (first index of m, (N, 1, S)) with a position that could not fold, None when every m is finite
    with |m| < FORWARD_LIMIT (the common case costs one reduction and one sync)."""
    if m.numel() == 0:
        return None
    low, high = torch.aminmax(m)  # nan in m makes both nan, and the test fails
    if bool((-FORWARD_LIMIT < low) & (high < FORWARD_LIMIT)):
        return None
    return (~(m.abs() < FORWARD_LIMIT)).flatten(1).any(1).nonzero()[:, 0]


def grad_shift(m: torch.Tensor, la: torch.Tensor) -> torch.Tensor | None:
    """s = log2 a - c m rounded down to float32 at every position, or None unless every |s| < GRAD_LIMIT
    where a > 0 (a = 0, log2 a = -inf, gives s = -inf and 2^(c z - inf) = 0 exactly).

    The same fused add rounds log2 a - c m once (m is finite wherever log2 a <= 0 held), and one step down
    makes s <= log2 a - c m; no float64 copy of the rows is made."""
    s = _ce.folded_grad_shift_into(torch.empty_like(m), m, C32, la)  # log2 a - c m, rounded to nearest once
    torch.nextafter(s, torch.full((), -torch.inf, device=m.device), out=s)  # <= log2 a - c m <= -c m
    if s.numel() == 0:
        return s
    low, high = torch.aminmax(torch.where(la == -torch.inf, 0.0, s))  # a = 0 is exact; any other -inf is not
    return s if bool((-GRAD_LIMIT < low) & (high < GRAD_LIMIT)) else None
