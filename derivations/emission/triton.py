"""The emitted Triton module: the softmax cross-entropy kernels as ``@triton.jit`` helpers (triton_ce.py).

Every kernel of the family (forms.py, extras.py, second_order.py) becomes ``@triton.jit def <name>(...)``,
printed by the strict Triton printer (printers.py) from the same checked table as the NumPy and PyTorch
modules, after the same overflow-freedom check, with the same docstring (the SymPy expression, the claim,
the arguments). There are no ``_into`` twins: a helper returns a value in registers, and the row loops that
load, mask and store (kernels/triton/) are hand-written around it. Helpers the printer calls (``_tanh``,
tanh through exp) come first. Deterministic, formatted by the pinned ruff, with the one banner.
"""

from __future__ import annotations

from derivations.emission.docstrings import PAGE, banner, render_function
from derivations.emission.formatter import ruff_format
from derivations.emission.kernel import Kernel
from derivations.emission.printers import TRITON_HELPERS, TritonKernelPrinter

#: The families emitted for Triton, by name: kernels/_generated/triton_<family>.py.
FAMILIES = {"ce": "softmax cross-entropy and nll_loss"}


def render_module(family: str, table: list[Kernel], claim_sources: dict[str, str]) -> str:
    """triton_<family>.py: the banner, ``import triton`` (and ``triton.language as tl`` where used), the helpers."""
    printer = TritonKernelPrinter()
    functions = [f"@triton.jit\n{render_function(k, printer, claim_sources[k.claim])}" for k in table]
    sources = sorted({k.source for k in table})
    if len(sources) != 1:
        raise ValueError(f"family {family!r} mixes sources {sources}")
    functions = [TRITON_HELPERS[name] for name in sorted(printer.helpers)] + functions
    imports = ["import triton", *(["import triton.language as tl"] if printer.used else [])]
    head = [
        banner(sources[0]),
        f'"""Triton kernels: {FAMILIES[family]}, as @triton.jit helpers.',
        "",
        "Elementwise stable forms, each proved equal to its textbook form by the claim named in its docstring",
        f"({PAGE}), the same expressions as torch_{family}.py. The row loops (online max and sum over vocabulary",
        "tiles, the gradient pass), masking and reductions live in kernels/triton/, around these functions.",
        '"""',
        "",
        *imports,
    ]
    return ruff_format("\n".join(head) + "\n\n\n" + "\n\n\n".join(functions) + "\n")


def render(table: list[Kernel], claim_sources: dict[str, str]) -> dict[str, str]:
    """File name -> text of every emitted Triton module (the table already passed the overflow-freedom check)."""
    return {
        f"triton_{family}.py": render_module(family, [k for k in table if k.family == family], claim_sources)
        for family in FAMILIES
    }
