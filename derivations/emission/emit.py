"""Emit ``kernels/_generated/`` from the kernel expressions: ``python -m derivations emit [--check]``.

Each family of kernel expressions (derivations/kernel_ce.py, kernel_binary.py, kernel_kl.py) becomes one
NumPy and one PyTorch module of small elementwise functions, printed by the strict printers in
derivations/printers.py after the overflow-freedom check; a kernel with a block argument also gets an
``<name>_into(out, ...)`` twin that writes the same expression into ``out`` (derivations/inplace.py).
Every file starts with one banner naming its source module and the SymPy version; every function's
docstring carries the SymPy expression it came from and its claim id. The text is formatted by ``ruff
format`` (the version pinned in pyproject.toml, checked first: the bytes depend on it; isolated from any
configuration: line length 120, Python 3.10), deterministic (no hash-ordered iteration), written
atomically (a temporary file in the same folder, then os.replace), and only inside the ``_generated``
folder; stale files are removed only when they carry the banner. ``--check`` writes
nothing and exits 1 with a unified diff when the folder differs from a fresh emission.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import sympy as sp

from derivations.inplace import IntoPrinter
from derivations.kernel_forms import Kernel, kernels, require_overflow_free
from derivations.printers import HELPERS, PRINTERS, DocPrinter

GENERATED = Path(__file__).resolve().parent.parent / "kernels" / "_generated"
BANNER_PREFIX = "# generated from derivations/"
PAGE = "kernels.md"
WIDTH = 120
_FILE_NAME = re.compile(r"[a-z_][a-z0-9_]*\.py")
_BACKENDS = {"numpy": "NumPy", "torch": "PyTorch"}
_FAMILIES = {
    "ce": "softmax cross-entropy and nll_loss",
    "binary": "binary cross-entropy with logits",
    "kl": "kl_div and the information quantities (0 log 0 = 0)",
}


def banner(source: str) -> str:
    """The first line of every emitted file."""
    return f"# generated from {source} by `python -m derivations emit` with SymPy {sp.__version__}; do not edit"


def render_function(kernel: Kernel, printer) -> str:
    """One emitted function: signature, docstring (SymPy expression, claim), one return line."""
    names = [a.name for a in kernel.args]
    unknown = sorted(s.name for s in kernel.expr.free_symbols - set(kernel.args))
    if unknown or len(set(names)) != len(names) or not all(n.isidentifier() for n in names):
        raise ValueError(f"kernel {kernel.name!r}: arguments {names} do not cover the free symbols {unknown}")
    code = printer.doprint(kernel.expr)
    if "\n" in code:
        raise ValueError(f"kernel {kernel.name!r} printed more than one line: {code!r}")
    return "\n".join([f"def {kernel.name}({', '.join(names)}):", *_docstring(kernel), f"    return {code}"])


def _docstring(kernel: Kernel, summary: str = "", evaluated_by: str = "") -> list[str]:
    """The emitted docstring: summary, the SymPy expression it came from, and the claim that checks it."""
    wrap = textwrap.TextWrapper(
        width=WIDTH, initial_indent="    ", subsequent_indent="        ", break_long_words=False
    )
    return [
        f'    """{summary or kernel.summary}',
        "",
        *wrap.wrap(f"SymPy: {DocPrinter().doprint(kernel.expr)}{evaluated_by}"),
        f"    Claim: {kernel.claim}, checked on {PAGE}",
        '    """',
    ]


def render_into(kernel: Kernel, backend: str, printer) -> str:
    """The in-place twin: ``<name>_into(out, *args)`` writes the expression into ``out`` and returns it."""
    body = IntoPrinter(backend, printer).render(kernel)
    names = ["out", *(a.name for a in kernel.args)]
    summary = f"{kernel.summary} Written into ``out`` (which may be ``{kernel.into.name}``)."
    doc = _docstring(kernel, summary, f", as {kernel.name}() evaluates it")
    return "\n".join([f"def {kernel.name}_into({', '.join(names)}):", *doc, *(f"    {line}" for line in body)])


def render_module(backend: str, family: str, table: list[Kernel]) -> str:
    """A whole emitted module; its import block is built from what the printer used."""
    printer = PRINTERS[backend]()
    functions = []
    for k in table:
        functions.append(render_function(k, printer))
        if k.into is not None:
            functions.append(render_into(k, backend, printer))
    sources = sorted({k.source for k in table})
    if len(sources) != 1:
        raise ValueError(f"family {family!r} mixes sources {sources}")
    imports = [f"import {module}" for module in sorted(printer.module_imports)]
    functions = [HELPERS[name] for name in sorted(printer.helpers)] + functions
    head = [
        banner(sources[0]),
        f'"""{_BACKENDS[backend]} kernels: {_FAMILIES.get(family, family)}.',
        "",
        "Elementwise stable forms, each proved equal to its textbook form by the claim named in its docstring",
        f"({PAGE}). Row sums, masking, reductions and autograd live in kernels/{backend}.py and its helpers.",
        '"""',
        "",
        *imports,
    ]
    return ruff_format("\n".join(head) + "\n\n\n" + "\n\n\n".join(functions) + "\n")


#: pyproject.toml pins the formatter exactly ("ruff==X" in the test extra): the emitted bytes depend on its version.
_RUFF_PIN = re.compile(r'"ruff==([^"\s;]+)"')


def pinned_ruff(pyproject: Path = GENERATED.parent.parent / "pyproject.toml") -> str:
    """The ruff version that formats the emitted code, as pinned in pyproject.toml."""
    try:
        found = _RUFF_PIN.findall(pyproject.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuntimeError(f"cannot read the ruff pin from {pyproject}: {exc}") from exc
    if len(found) != 1:
        raise RuntimeError(
            f'{pyproject} must pin ruff exactly once ("ruff==X"): the emitted bytes depend on its version'
        )
    return found[0]


@functools.cache
def installed_ruff() -> str | None:
    """The version of the ruff that ``python -m ruff`` runs for this interpreter, or None when there is none."""
    try:
        done = subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    words = done.stdout.split()  # "ruff 0.17.6"
    return words[1] if done.returncode == 0 and len(words) == 2 and words[0] == "ruff" else None


def require_pinned_ruff() -> None:
    """Raise RuntimeError, naming the fix, unless the installed ruff is the pinned one."""
    pinned, installed = pinned_ruff(), installed_ruff()
    fix = f"`pip install ruff=={pinned}` (or `pip install -e .[test]`)"
    if installed is None:
        raise RuntimeError(
            f"ruff is not installed for {sys.executable}; the emitted code is formatted by ruff {pinned}: {fix}"
        )
    if installed != pinned:
        raise RuntimeError(
            f"ruff {installed} is installed, but pyproject.toml pins ruff=={pinned} and the emitted bytes depend on "
            f"the formatter's version: {fix}; or move the pin to {installed} and re-emit (`python -m derivations emit`)"
        )


def ruff_format(text: str) -> str:
    """The text as the pinned ``ruff format`` writes it, independent of any configuration file."""
    require_pinned_ruff()
    command = [sys.executable, "-m", "ruff", "format", "--isolated", f"--line-length={WIDTH}"]
    command += ["--target-version=py310", "--stdin-filename=kernel.py", "-"]
    try:
        done = subprocess.run(command, input=text, capture_output=True, text=True, check=False)
    except OSError as exc:  # pragma: no cover - no interpreter to run
        raise RuntimeError(f"cannot run ruff to format emitted code: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"ruff format failed: {done.stderr.strip()}")
    return done.stdout


def render() -> dict[str, str]:
    """File name -> text of every emitted file; raises OverflowRisk before printing an unsafe exp."""
    table = kernels()
    for k in table:
        require_overflow_free(k.name, k.expr)
    families = list(dict.fromkeys(k.family for k in table))
    files = {}
    for backend in _BACKENDS:
        for family in families:
            files[f"{backend}_{family}.py"] = render_module(backend, family, [k for k in table if k.family == family])
    modules = ", ".join(name.removesuffix(".py") for name in files)
    files["__init__.py"] = f'{banner("derivations/kernel_forms.py")}\n"""Emitted kernel modules: {modules}."""\n'
    return files


def _target(root: Path, name: str) -> Path:
    """root/name, refusing anything that is not a plain module file directly inside root."""
    if not _FILE_NAME.fullmatch(name):
        raise ValueError(f"refusing to write {name!r}: emitted files are plain module names inside {root}")
    target = root / name
    if target.is_symlink() or target.resolve().parent != root:
        raise ValueError(f"refusing to write {target}: it resolves outside {root}")
    return target


def _checked_root(root: Path) -> Path:
    root = Path(root).resolve()
    if root.name != "_generated" or not root.is_dir():
        raise ValueError(f"refusing to emit into {root}: emission writes only into an existing _generated/ folder")
    return root


def _emitted(root: Path) -> list[Path]:
    """Files in root that carry the banner (the only ones emit may replace or remove)."""
    out = []
    for path in sorted(root.glob("*.py")):
        with path.open(encoding="utf-8") as fh:
            if fh.readline().startswith(BANNER_PREFIX):
                out.append(path)
    return out


def write(files: dict[str, str], root: Path = GENERATED) -> tuple[list[str], list[str]]:
    """Write changed files atomically, remove stale emitted ones; returns (written, removed) names."""
    root = _checked_root(root)
    targets = {name: _target(root, name) for name in files}
    written = []
    for name in sorted(files):
        target = targets[name]
        if target.exists() and target.read_text(encoding="utf-8") == files[name]:
            continue
        fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(files[name])
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)  # atomic: readers see the old file or the new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(name)
    removed = [p.name for p in _emitted(root) if p.name not in files]
    for name in removed:
        (root / name).unlink()
    return written, removed


def compare(files: dict[str, str], root: Path = GENERATED) -> str:
    """Unified diff from what is in root to a fresh emission ('' when every byte matches)."""
    root = Path(root).resolve()
    names = sorted(set(files) | {p.name for p in _emitted(root)} if root.is_dir() else set(files))
    chunks = []
    for name in names:
        path = root / name
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = files.get(name, "")
        if old != new:
            rel = f"kernels/_generated/{name}"
            chunks.extend(difflib.unified_diff(old.splitlines(True), new.splitlines(True), rel, rel + " (fresh)"))
    return "".join(chunks)


def main(check_only: bool = False, root: Path = GENERATED) -> int:
    try:
        files = render()
    except (ValueError, RuntimeError) as exc:  # OverflowRisk, UnprintableKernel, a malformed kernel, no ruff
        print(f"emit refused: {exc}", file=sys.stderr)
        return 2
    if check_only:
        diff = compare(files, root)
        if diff:
            sys.stdout.write(diff)
            print(
                "kernels/_generated/ differs from a fresh emission: run `python -m derivations emit`", file=sys.stderr
            )
            return 1
        print(f"kernels/_generated/ matches a fresh emission ({len(files)} files)")
        return 0
    written, removed = write(files, root)
    print(f"emitted {len(files)} files into kernels/_generated/: {len(written)} written, {len(removed)} removed")
    for name in written:
        print(f"  wrote   {name}")
    for name in removed:
        print(f"  removed {name}")
    return 0
