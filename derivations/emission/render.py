"""The text of every emitted file: one NumPy and one PyTorch module per kernel family, and Triton's helpers.

Each family (``derivations.emission.FAMILIES``) becomes ``numpy_<family>.py`` and ``torch_<family>.py`` of
small elementwise functions, printed by the strict printers (printers.py) after the overflow-freedom
check (overflow.py); a kernel with a block argument also gets an ``<name>_into(out, ...)`` twin that
writes the same expression into ``out`` (inplace.py). Every file starts with one banner naming the module
that declares its kernels and the SymPy version; every function's docstring carries the SymPy expression
it came from, the claim that proves it with that claim's source file, and what each argument stands for.
The softmax cross-entropy family is also emitted as ``triton_ce.py``, ``@triton.jit`` helpers (triton.py).
The text is formatted by the pinned ruff (formatter.py) and deterministic: no hash-ordered iteration.
"""

from __future__ import annotations

from derivations.emission import FAMILIES, claims, javascript, kernels, triton
from derivations.emission.docstrings import PAGE, banner, render_function
from derivations.emission.docstrings import docstring as _docstring
from derivations.emission.formatter import ruff_format
from derivations.emission.inplace import IntoPrinter
from derivations.emission.kernel import Kernel
from derivations.emission.overflow import require_overflow_free
from derivations.emission.printers import HELPERS, PRINTERS

BACKENDS = {"numpy": "NumPy", "torch": "PyTorch"}


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
    files.update(triton.render(table, claim_sources))  # triton_ce.py: the @triton.jit helpers
    modules = ", ".join(name.removesuffix(".py") for name in files)
    files["__init__.py"] = f'{banner("derivations/emission/__init__.py")}\n"""Emitted kernel modules: {modules}."""\n'
    return files


def render_javascript() -> dict[str, str]:
    """File name -> text of every emitted script (docs/javascripts/_generated/), from the same checked table."""
    return javascript.render(*checked_table())
