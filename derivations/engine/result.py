"""What a check returns: a ``Result`` per claim (holds or not, the scopes it held in, the first ``Failure``).

A failure names the scope, the 1-based link that failed, its justification and what remained to be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

#: The scope of a general claim in which no number of classes appears (a statement about scalars).
SCALAR = "scalar (no n)"


@dataclass(frozen=True)
class Failure:
    scope: str
    step: int  # 1-based index of the failing link
    why: str
    remained: str


@dataclass
class Result:
    id: str
    title: str
    holds: bool
    scopes: list[str] = field(default_factory=list)
    failure: Failure | None = None
    method: str = ""
    seconds: float = 0.0

    @property
    def scope(self) -> str:
        return describe_scopes(self.scopes)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "holds": self.holds,
            "scope": self.scope,
            "method": self.method,
            "seconds": round(self.seconds, 3),
            "failure": None
            if self.failure is None
            else {
                "scope": self.failure.scope,
                "step": self.failure.step,
                "why": self.failure.why,
                "remained": self.failure.remained,
            },
        }


def describe_scopes(scopes: Sequence[str]) -> str:
    """'general n; n = 2..8' from ['general n', 'n = 2', ..., 'n = 8']."""
    general = [s for s in scopes if s in ("general n", SCALAR)]
    ns = sorted(int(s.split("=")[1]) for s in scopes if s.startswith("n ="))
    parts = list(general)
    if ns:
        contiguous = ns == list(range(ns[0], ns[-1] + 1))
        parts.append(f"n = {ns[0]}..{ns[-1]}" if contiguous and len(ns) > 1 else "n = " + ", ".join(map(str, ns)))
    return "; ".join(parts) if parts else "none"
