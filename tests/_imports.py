"""The project's import graph, read with ``ast`` (nothing is imported), and the rules the layout keeps.

A module's name comes from its path (derivations/engine/core.py is ``derivations.engine.core``; hooks and
tests import their neighbours by bare name, ``import claims_html``). Every import counts, at module level or
inside a function: ``from a.b import c`` is an edge to the module ``a.b.c`` when that is a file, else to
``a.b``. Imports of the project's own packages are edges; others are kept as third-party names.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

#: What each part may import from the project (globs over module names; the first matching rule applies).
LAYERS = (
    ("derivations.engine*", ("derivations.engine*",)),
    ("derivations.topics*", ("derivations.engine*", "derivations.topics*")),
    ("derivations.emission*", ("derivations.engine*", "derivations.topics*", "derivations.emission*")),
    ("derivations*", ("derivations*",)),
    ("kernels._generated*", ()),
    ("kernels.explain*", ("kernels", "kernels._validate", "kernels.explain*")),
    (
        "kernels.torch*",  # kernels.triton (the package) only through the opt-in switch
        (
            "kernels",
            "kernels._[a-z]*",
            "kernels._generated.torch_*",
            "kernels.explain",
            "kernels.torch*",
            "kernels.triton",
        ),
    ),
    (
        "kernels.triton*",  # the torch backend's validation, reductions and chunk loop; the emitted Triton helpers
        ("kernels", "kernels._[a-z]*", "kernels._generated.triton_*", "kernels.torch._*", "kernels.triton*"),
    ),
    (
        "kernels.numpy*",
        ("kernels", "kernels._[a-z]*", "kernels._generated.numpy_*", "kernels.explain", "kernels.numpy*"),
    ),
    ("kernels*", ("kernels._[a-z]*",)),
)
#: Third-party packages a part must never import.
FORBIDDEN = (
    ("kernels*", ("sympy",)),
    ("kernels.numpy*", ("torch", "triton")),
    ("kernels.torch*", ("triton",)),  # triton is optional: only kernels.triton imports it
    ("derivations*", ("torch",)),
)
#: The most lines a hand-written module may have.
MAX_LINES = 250
PACKAGES = ("derivations", "kernels", "benchmarks")
FLAT = ("hooks", "tests")  # folders whose modules import each other by bare name


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)  # name -> file
    edges: dict[str, set[str]] = field(default_factory=dict)  # name -> project modules it imports
    external: dict[str, set[str]] = field(default_factory=dict)  # name -> top-level third-party packages


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read(root: Path) -> Graph:
    """The graph of every .py file under the project's packages and flat folders (generated files included)."""
    graph = Graph()
    for top in (*PACKAGES, *FLAT):
        for path in sorted((root / top).rglob("*.py")) if (root / top).is_dir() else ():
            graph.modules[module_name(root, path)] = path
    for name, path in graph.modules.items():
        graph.edges[name], graph.external[name] = set(), set()
        folder = name.rsplit(".", 1)[0] if name.startswith(FLAT) else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in graph.modules else node.module
                           for a in node.names]  # fmt: skip
            else:
                continue
            for target in targets:
                local = f"{folder}.{target}" if folder else None
                if local in graph.modules:
                    graph.edges[name].add(local)
                elif target.split(".")[0] in PACKAGES:
                    graph.edges[name].add(_nearest(graph, target))
                else:
                    graph.external[name].add(target.split(".")[0])
    return graph


def _nearest(graph: Graph, target: str) -> str:
    """The module an import names: itself, or the nearest package above it that is a file here."""
    while target not in graph.modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def cycles(graph: Graph) -> list[list[str]]:
    """Every strongly connected set of two or more modules (or a module importing itself), by Tarjan's algorithm."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph.modules):
        if v not in index:
            visit(v)
    return found


def layer_violations(graph: Graph) -> list[str]:
    """'a imports b' for every import a layer rule forbids, and every forbidden third-party import."""
    out = []
    for name in sorted(graph.modules):
        rule = next((allowed for pattern, allowed in LAYERS if fnmatch.fnmatch(name, pattern)), None)
        for target in sorted(graph.edges[name]) if rule is not None else ():
            if not any(fnmatch.fnmatch(target, a) for a in rule):
                out.append(f"{name} imports {target}")
        for pattern, banned in FORBIDDEN:
            if fnmatch.fnmatch(name, pattern):
                out += [f"{name} imports {b}" for b in banned if b in graph.external[name]]
    return out


def oversized(graph: Graph, limit: int = MAX_LINES) -> list[str]:
    """Hand-written modules (not kernels/_generated) longer than ``limit`` lines."""
    out = []
    for name, path in sorted(graph.modules.items()):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit and not name.startswith("kernels._generated"):
            out.append(f"{path.as_posix()}: {lines} lines")
    return out
