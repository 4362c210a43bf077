"""The text of the emitted JavaScript: one classic script per kernel family, for the site's explorable.

Each family (``derivations.emission.FAMILIES``) becomes ``docs/javascripts/_generated/vce_<family>.js``: the
same elementwise kernels as the NumPy and PyTorch modules, printed by the strict JavaScript printer
(printers.py) after the same overflow-freedom check, as functions on numbers set on ``VCE.kernels``. A
classic script (an IIFE, not a module) so that the site also works opened from ``file://``. Every file
starts with one banner naming the module that declares its kernels and the SymPy version; every function
carries the SymPy expression it came from, its claim and what each argument stands for. Deterministic.
"""

from __future__ import annotations

import textwrap

import sympy as sp

from derivations.emission import FAMILIES
from derivations.emission.kernel import MEANINGS, Kernel
from derivations.emission.printers import JS_HELPERS, DocPrinter, JavascriptKernelPrinter

WIDTH = 110


def banner(source: str) -> str:
    """The first line of every emitted script."""
    return f"// generated from {source} by `python -m derivations emit` with SymPy {sp.__version__}; do not edit"


def _comment(text: str, indent: str = "  // ", more: str = "  //   ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=more, break_long_words=False)


def render_function(kernel: Kernel, printer: JavascriptKernelPrinter, claim_source: str) -> str:
    """One emitted function: its comment (summary, SymPy expression, claim, arguments) and one return line."""
    names = [a.name for a in kernel.args]
    unknown = sorted(s.name for s in kernel.expr.free_symbols - set(kernel.args))
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"kernel {kernel.name!r}: arguments {names} do not cover the free symbols {unknown}")
    code = printer.doprint(kernel.expr)
    if "\n" in code or ";" in code:
        raise ValueError(f"kernel {kernel.name!r} printed more than one expression: {code!r}")
    lines = _comment(f"{kernel.name}: {kernel.summary}")
    lines += _comment(f"SymPy: {DocPrinter().doprint(kernel.expr)}")
    lines += _comment(f"Claim: {kernel.claim} ({claim_source}), checked on kernels.md")
    for a in kernel.args:
        lines += _comment(f"{a.name}: {MEANINGS[a]}", "  //   ", "  //       ")
    lines += [f"  kernels.{kernel.name} = function ({', '.join(names)}) {{", f"    return {code};", "  };"]
    return "\n".join(lines)


def render_script(family: str, description: str, table: list[Kernel], claim_sources: dict[str, str]) -> str:
    """A whole emitted script for one family."""
    printer = JavascriptKernelPrinter()
    functions = [render_function(k, printer, claim_sources[k.claim]) for k in table]
    sources = sorted({k.source for k in table})
    if len(sources) != 1:
        raise ValueError(f"family {family!r} mixes sources {sources}")
    helpers = [JS_HELPERS[name] for name in sorted(printer.helpers)]
    head = [
        banner(sources[0]),
        f"/* JavaScript kernels: {description}.",
        " *",
        " * Elementwise stable forms on numbers (doubles), each proved equal to its textbook form by the claim",
        " * named above it (kernels.md). Row sums and the explorable live in docs/javascripts/, around these.",
        " */",
        "(function (root) {",
        '  "use strict";',
        "  const VCE = (root.VCE = root.VCE || {});",
        "  const kernels = (VCE.kernels = VCE.kernels || {});",
    ]
    tail = ['})(typeof window !== "undefined" ? window : globalThis);']
    return "\n".join([*head, *(f"\n{h}" for h in helpers), *(f"\n{f}" for f in functions), *tail]) + "\n"


def render(table: list[Kernel], claim_sources: dict[str, str]) -> dict[str, str]:
    """File name -> text of every emitted script (the table already passed the overflow-freedom check)."""
    files = {}
    for family in FAMILIES:
        members = [k for k in table if k.family == family.name]
        files[f"vce_{family.name}.js"] = render_script(family.name, family.description, members, claim_sources)
    return files
