"""The language-model extras of cross_entropy and linear_cross_entropy, shared by both backends.

    lse_square_scale = s >= 0    PaLM's z-loss, s LSE(z)^2 per counted position (0: off)
    softcap = c > 0              Gemma 2's soft-capping, z -> c tanh(z / c) before the loss (None: off)

``extras(lse_square_scale, softcap)`` validates them (a ValueError or TypeError naming the fix) into ``Extras``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extras:
    """The z-loss weight s (0: off) and the soft cap c (None: off)."""

    z_loss: float = 0.0
    cap: float | None = None

    @property
    def on(self) -> bool:
        return self.z_loss > 0 or self.cap is not None


#: Neither extra.
OFF = Extras()


def extras(lse_square_scale, softcap) -> Extras:
    """The validated extras: s a finite number >= 0, c None or a finite number > 0 (text is refused)."""
    if isinstance(lse_square_scale, (str, bytes)) or isinstance(softcap, (str, bytes)):
        raise TypeError("lse_square_scale and softcap must be numbers (softcap may be None), not text")
    try:
        scale = float(lse_square_scale)
        cap = None if softcap is None else float(softcap)
    except (TypeError, ValueError):
        raise TypeError("lse_square_scale and softcap must be numbers (softcap may be None)") from None
    if not 0.0 <= scale < float("inf"):
        raise ValueError(f"lse_square_scale must be a finite number >= 0, got {lse_square_scale}: 1e-4 is PaLM's")
    if cap is not None and not 0.0 < cap < float("inf"):
        raise ValueError(f"softcap must be a finite number > 0 or None, got {softcap}: 30.0 is Gemma 2's final cap")
    return Extras(scale, cap)
