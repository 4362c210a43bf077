"""``python -m derivations emit [--check]``: write ``kernels/_generated/`` and ``docs/javascripts/_generated/``
from the kernel expressions, safely.

The text comes from render.py (Python) and javascript.py (the site's scripts). Files are written atomically (a
temporary file in the same folder, then os.replace), only inside the ``_generated`` folder, and only when
their bytes change; stale files are removed only when they carry the banner. ``--check`` writes nothing and
exits 1 with a unified diff when the folder differs from a fresh emission.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tempfile
from pathlib import Path

from derivations.emission.render import render, render_javascript
from derivations.engine.registry import ROOT

GENERATED = ROOT / "kernels" / "_generated"
JS_GENERATED = ROOT / "docs" / "javascripts" / "_generated"
BANNER_PREFIX = "# generated from derivations/"
BANNERS = {".py": BANNER_PREFIX, ".js": "// generated from derivations/"}
_FILE_NAME = re.compile(r"[a-z_][a-z0-9_]*\.(py|js)")


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
    for path in sorted(p for p in root.iterdir() if p.suffix in BANNERS):
        with path.open(encoding="utf-8") as fh:
            if fh.readline().startswith(BANNERS[path.suffix]):
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


def compare(files: dict[str, str], root: Path = GENERATED, label: str = "kernels/_generated") -> str:
    """Unified diff from what is in root to a fresh emission ('' when every byte matches)."""
    root = Path(root).resolve()
    names = sorted(set(files) | {p.name for p in _emitted(root)} if root.is_dir() else set(files))
    chunks = []
    for name in names:
        path = root / name
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = files.get(name, "")
        if old != new:
            rel = f"{label}/{name}"
            chunks.extend(difflib.unified_diff(old.splitlines(True), new.splitlines(True), rel, rel + " (fresh)"))
    return "".join(chunks)


def main(check_only: bool = False, root: Path = GENERATED, js_root: Path = JS_GENERATED) -> int:
    try:
        emitted = {
            (root, "kernels/_generated"): render(),
            (js_root, "docs/javascripts/_generated"): render_javascript(),
        }
    except (ValueError, RuntimeError) as exc:  # OverflowRisk, UnprintableKernel, a malformed kernel, no ruff
        print(f"emit refused: {exc}", file=sys.stderr)
        return 2
    if check_only:
        status = 0
        for (folder, label), files in emitted.items():
            diff = compare(files, folder, label)
            if diff:
                sys.stdout.write(diff)
                print(f"{label}/ differs from a fresh emission: run `python -m derivations emit`", file=sys.stderr)
                status = 1
            else:
                print(f"{label}/ matches a fresh emission ({len(files)} files)")
        return status
    for (folder, label), files in emitted.items():
        written, removed = write(files, folder)
        print(f"emitted {len(files)} files into {label}/: {len(written)} written, {len(removed)} removed")
        for name in written:
            print(f"  wrote   {name}")
        for name in removed:
            print(f"  removed {name}")
    return 0
