"""What every emitted Python function and file says about itself: the banner, the docstring, the function.

    banner       "# generated from <module> by `python -m derivations emit` with SymPy <version>; do not edit"
    docstring    summary, the SymPy expression, the claim that proves it (and its source file), the arguments
    render_function   def <name>(<args>): the docstring, then ``return <the printed expression>``

Shared by the NumPy and PyTorch modules (render.py) and the Triton module (triton.py).
"""

from __future__ import annotations

import textwrap

import sympy as sp

from derivations.emission.formatter import WIDTH
from derivations.emission.kernel import MEANINGS, Kernel
from derivations.emission.printers import DocPrinter

PAGE = "kernels.md"


def banner(source: str) -> str:
    """The first line of every emitted file."""
    return f"# generated from {source} by `python -m derivations emit` with SymPy {sp.__version__}; do not edit"


def docstring(kernel: Kernel, claim_source: str, summary: str = "", evaluated_by: str = "", out: str = "") -> list[str]:
    """The emitted docstring: summary, the SymPy expression, the claim and its source, and the arguments."""
    wrap = textwrap.TextWrapper(
        width=WIDTH, initial_indent="    ", subsequent_indent="        ", break_long_words=False
    )
    args = [("out", out)] if out else []
    missing = [a.name for a in kernel.args if a not in MEANINGS]
    if missing:
        raise ValueError(f"kernel {kernel.name!r}: arguments {missing} have no meaning (declare them with argument())")
    args += [(a.name, MEANINGS[a]) for a in kernel.args]
    arg_wrap = textwrap.TextWrapper(
        width=WIDTH, initial_indent="        ", subsequent_indent="            ", break_long_words=False
    )
    return [
        f'    """{summary or kernel.summary}',
        "",
        *wrap.wrap(f"SymPy: {DocPrinter().doprint(kernel.expr)}{evaluated_by}"),
        *wrap.wrap(f"Claim: {kernel.claim} ({claim_source}), checked on {PAGE}"),
        "",
        "    Args:",
        *(line for name, meaning in args for line in arg_wrap.wrap(f"{name}: {meaning}")),
        '    """',
    ]


def render_function(kernel: Kernel, printer, claim_source: str) -> str:
    """One emitted function: signature, docstring (SymPy expression, claim, arguments), one return line."""
    names = [a.name for a in kernel.args]
    unknown = sorted(s.name for s in kernel.expr.free_symbols - set(kernel.args))
    if unknown or len(set(names)) != len(names) or not all(n.isidentifier() for n in names):
        raise ValueError(f"kernel {kernel.name!r}: arguments {names} do not cover the free symbols {unknown}")
    code = printer.doprint(kernel.expr)
    if "\n" in code:
        raise ValueError(f"kernel {kernel.name!r} printed more than one line: {code!r}")
    doc = docstring(kernel, claim_source)
    return "\n".join([f"def {kernel.name}({', '.join(names)}):", *doc, f"    return {code}"])
