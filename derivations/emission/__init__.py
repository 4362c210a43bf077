"""Emission: the kernel forms and their claims, the strict printers, and ``emit``, which writes the code.

    kernel.py       the argument symbols (with their meanings), Exp2, XLogY and ``Kernel``
    overflow.py     the overflow-freedom check every emitted exponential passes
    ce/             softmax cross-entropy and nll_loss: forms.py declares the kernels, *_claims.py prove them
    binary.py       BCE with logits: the kernels and their claims
    kl.py           kl_div and the information quantities: the kernels and their claims
    printers.py     strict NumPy and PyTorch printers (refuse what they cannot print)
    inplace.py      the ``<name>_into(out, ...)`` twins, written through in-place operations
    emit.py         ``python -m derivations emit [--check]``: kernels/_generated/, deterministic, with a banner

Emission imports the engine and the topics; nothing in ``kernels/`` imports it. ``FAMILIES`` names the
emitted files: family ``ce`` becomes kernels/_generated/numpy_ce.py and torch_ce.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import ModuleType

from derivations.emission import binary, ce, kl
from derivations.emission.kernel import Kernel
from derivations.engine.core import Claim
from derivations.engine.registry import source_of


@dataclass(frozen=True)
class Family:
    """A family of kernels: ``module`` exposes ``kernels()`` and ``claims()``; ``name`` names its emitted files."""

    name: str
    module: ModuleType
    description: str


#: The kernel families, in emission order.
FAMILIES = (
    Family("ce", ce, "softmax cross-entropy and nll_loss"),
    Family("binary", binary, "binary cross-entropy with logits"),
    Family("kl", kl, "kl_div and the information quantities (0 log 0 = 0)"),
)


def kernels() -> list[Kernel]:
    """The table the emitter consumes: every kernel expression, in emission order, with its family and source."""
    table = [
        replace(k, family=f.name, source=k.source or source_of(f.module.kernels.__module__))
        for f in FAMILIES
        for k in f.module.kernels()
    ]
    names = [k.name for k in table]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate kernel names: {duplicates}")
    return table


def claims() -> list[Claim]:
    """Every ``kernel.*`` claim, each with the source of the module that declares it (or defines its builder)."""
    return [replace(c, source=c.source or source_of(c.build.__module__)) for f in FAMILIES for c in f.module.claims()]
