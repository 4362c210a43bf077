"""The formatter of emitted code: ``ruff format``, at the version pyproject.toml pins exactly.

The emitted bytes depend on the formatter's version, so emission first checks that the installed ruff is
the pinned one and names the fix otherwise. Formatting is isolated from any configuration file: line
length 120, Python 3.10.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

from derivations.engine.registry import ROOT

WIDTH = 120
#: pyproject.toml pins the formatter exactly ("ruff==X" in the test extra): the emitted bytes depend on its version.
_RUFF_PIN = re.compile(r'"ruff==([^"\s;]+)"')


def pinned_ruff(pyproject: Path = ROOT / "pyproject.toml") -> str:
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
