"""Where a claim lives: each claims module keeps a ``Claims`` list, declared next to the derivations.

    CLAIMS = Claims(__name__, page="softmax-cross-entropy.md")

    @CLAIMS.claim("ce.lse_form", "Cross-entropy from logits: ...", assumptions=(...), sympy_assumptions=(...))
    def lse_form(size) -> Derivation: ...

    claims = CLAIMS.list            # the module's claims(), in declaration order

The engine knows no topic: ``collect(modules)`` takes the modules to read from its caller (the catalogue,
``derivations/catalogue.py``), gives every claim its source file and refuses duplicate ids.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from derivations.engine.core import Claim, Derivation

#: The repository root: every path the project writes or names is relative to it.
ROOT = Path(__file__).resolve().parents[2]


def source_of(module: str) -> str:
    """The file that holds a module, relative to the repository: 'derivations.topics.softmax' ->
    'derivations/topics/softmax.py' (a package's is its __init__.py)."""
    file = getattr(sys.modules.get(module), "__file__", None)
    if file is None:
        return module.replace(".", "/") + ".py"
    return Path(file).resolve().relative_to(ROOT).as_posix()


class Claims:
    """The claims of one module, in the order they are declared.

    ``page`` and any other keyword are defaults of every claim declared here (a claim's own keywords win).
    """

    def __init__(self, module: str, **defaults):
        self.source = source_of(module)
        self._defaults = defaults
        self._claims: list[Claim] = []

    def claim(self, id: str, title: str, **fields) -> Callable[[Callable[..., Derivation]], Callable[..., Derivation]]:
        """Declare the decorated derivation builder ``build(n)`` as the claim ``id``; returns the builder unchanged."""

        def declare(build: Callable[..., Derivation]) -> Callable[..., Derivation]:
            self.add(Claim(id=id, title=title, build=build, **{**self._defaults, **fields}))
            return build

        return declare

    def add(self, claim: Claim) -> Claim:
        """Declare a claim built elsewhere (by a factory); it is attributed to this module."""
        self._claims.append(replace(claim, source=self.source))
        return claim

    def list(self) -> list[Claim]:
        """Every claim declared here, in declaration order."""
        return list(self._claims)


def collect(modules: Iterable[ModuleType]) -> list[Claim]:
    """Every claim of ``modules`` (each exposes ``claims()``), in order; a claim without a source gets its
    module's file. Raises ValueError on a duplicate id."""
    claims: list[Claim] = []
    for module in modules:
        for claim in module.claims():
            claims.append(claim if claim.source else replace(claim, source=source_of(module.__name__)))
    ids = [c.id for c in claims]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate claim ids: {duplicates}")
    return claims
