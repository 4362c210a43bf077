"""The text of every emitted file: one NumPy and one PyTorch module per kernel family.

Each family (``derivations.emission.FAMILIES``) becomes ``numpy_<family>.py`` and ``torch_<family>.py`` of
small elementwise functions, printed by the strict printers (printers.py) after the overflow-freedom
check (overflow.py); a kernel with a block argument also gets an ``<name>_into(out, ...)`` twin that
writes the same expression into ``out`` (inplace.py). Every file starts with one banner naming the module
that declares its kernels and the SymPy version; every function's docstring carries the SymPy expression
it came from, the claim that proves it with that claim's source file, and what each argument stands for.
The text is formatted by the pinned ruff (formatter.py) and deterministic: no hash-ordered iteration.
"""

from __future__ import annotations

import textwrap

import sympy as sp

from derivations.emission import FAMILIES, claims, javascript, kernels
from derivations.emission.formatter import WIDTH, ruff_format
from derivations.emission.inplace import IntoPrinter
from derivations.emission.kernel import MEANINGS, Kernel
from derivations.emission.overflow import require_overflow_free
from derivations.emission.printers import HELPERS, PRINTERS, DocPrinter

PAGE = "kernels.md"
BACKENDS = {"numpy": "NumPy", "torch": "PyTorch"}


def banner(source: str) -> str:
    """The first line of every emitted file."""
    return f"# generated from {source} by `python -m derivations emit` with SymPy {sp.__version__}; do not edit"


def render_function(kernel: Kernel, printer, claim_source: str) -> str:
    """One emitted function: signature, docstring (SymPy expression, claim, arguments), one return line."""
    names = [a.name for a in kernel.args]
    unknown = sorted(s.name for s in kernel.expr.free_symbols - set(kernel.args))
    if unknown or len(set(names)) != len(names) or not all(n.isidentifier() for n in names):
        raise ValueError(f"kernel {kernel.name!r}: arguments {names} do not cover the free symbols {unknown}")
    code = printer.doprint(kernel.expr)
    if "\n" in code:
        raise ValueError(f"kernel {kernel.name!r} printed more than one line: {code!r}")
    doc = _docstring(kernel, claim_source)
    return "\n".join([f"def {kernel.name}({', '.join(names)}):", *doc, f"    return {code}"])


def _docstring(
    kernel: Kernel, claim_source: str, summary: str = "", evaluated_by: str = "", out: str = ""
) -> list[str]:
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


def render_into(kernel: Kernel, backend: str, printer, claim_source: str) -> str:
    """The in-place twin: ``<name>_into(out, *args)`` writes the expression into ``out`` and returns it."""
    body = IntoPrinter(backend, printer).render(kernel)
    names = ["out", *(a.name for a in kernel.args)]
    summary = f"{kernel.summary} Written into ``out`` (which may be ``{kernel.into.name}``)."
    out = f"the preallocated result, of {kernel.into.name}'s shape (it may be {kernel.into.name} itself)"
    doc = _docstring(kernel, claim_source, summary, f", as {kernel.name}() evaluates it", out)
    return "\n".join([f"def {kernel.name}_into({', '.join(names)}):", *doc, *(f"    {line}" for line in body)])


def render_module(backend: str, family: str, table: list[Kernel], claim_sources: dict[str, str]) -> str:
    """A whole emitted module; its import block is built from what the printer used."""
    printer = PRINTERS[backend]()
    functions = []
    for k in table:
        functions.append(render_function(k, printer, claim_sources[k.claim]))
        if k.into is not None:
            functions.append(render_into(k, backend, printer, claim_sources[k.claim]))
    sources = sorted({k.source for k in table})
    if len(sources) != 1:
        raise ValueError(f"family {family!r} mixes sources {sources}")
    imports = [f"import {module}" for module in sorted(printer.module_imports)]
    functions = [HELPERS[name] for name in sorted(printer.helpers)] + functions
    description = {f.name: f.description for f in FAMILIES}.get(family, family)
    head = [
        banner(sources[0]),
        f'"""{BACKENDS[backend]} kernels: {description}.',
        "",
        "Elementwise stable forms, each proved equal to its textbook form by the claim named in its docstring",
        f"({PAGE}). Row sums, masking, reductions and autograd live in kernels/{backend}/, around these functions.",
        '"""',
        "",
        *imports,
    ]
    return ruff_format("\n".join(head) + "\n\n\n" + "\n\n\n".join(functions) + "\n")


def checked_table() -> tuple[list[Kernel], dict[str, str]]:
    """(every kernel, claim id -> source file), after the overflow-freedom check; raises OverflowRisk first."""
    table = kernels()
    for k in table:
        require_overflow_free(k.name, k.expr)
    claim_sources = {c.id: c.source for c in claims()}
    unknown = sorted({k.claim for k in table} - set(claim_sources))
    if unknown:
        raise ValueError(f"kernels name claims that do not exist: {unknown}")
    return table, claim_sources


def render() -> dict[str, str]:
    """File name -> text of every emitted Python file; raises OverflowRisk before printing an unsafe exp."""
    table, claim_sources = checked_table()
    files = {}
    for backend in BACKENDS:
        for family in FAMILIES:
            members = [k for k in table if k.family == family.name]
            files[f"{backend}_{family.name}.py"] = render_module(backend, family.name, members, claim_sources)
    modules = ", ".join(name.removesuffix(".py") for name in files)
    files["__init__.py"] = f'{banner("derivations/emission/__init__.py")}\n"""Emitted kernel modules: {modules}."""\n'
    return files


def render_javascript() -> dict[str, str]:
    """File name -> text of every emitted script (docs/javascripts/_generated/), from the same checked table."""
    return javascript.render(*checked_table())
