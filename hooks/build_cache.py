"""The build's cache: results of expensive, deterministic steps, keyed by a hash of everything they read.

    .cache/vce/<kind>/<key>.json      one result (written whole, then renamed into place)
    .cache/vce/<kind>/<key>.lock      held while one build computes it, so a second build waits and reuses it

A key is the SHA-256 of the inputs a step depends on: source trees (``tree_hash``), package versions
(``versions``) and any text. Nothing is ever looked up by name alone, so a stale entry cannot be read:
after a source changes, its key is new. Old entries beyond the newest ``KEEP`` of a kind are removed.
Set ``VCE_NO_CACHE=1`` to compute everything afresh (nothing is read; results are still written).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "vce"
KEEP = 24
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis"}


def tree_hash(*paths: Path) -> str:
    """SHA-256 over the relative path and bytes of every file under ``paths`` (caches and bytecode skipped)."""
    h = hashlib.sha256()
    for top in paths:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for f in files:
            if _SKIP_DIRS & set(f.parts) or f.suffix == ".pyc":
                continue
            h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def versions(*dists: str) -> str:
    """Python's version and each distribution's, as one string for a key."""
    found = [f"python {sys.version.split()[0]}"]
    for d in dists:
        try:
            found.append(f"{d} {metadata.version(d)}")
        except metadata.PackageNotFoundError:
            found.append(f"{d} absent")
    return ", ".join(found)


def key(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() + b"\0")
    return h.hexdigest()[:32]


def _path(kind: str, k: str, suffix: str = ".json") -> Path:
    return CACHE / kind / f"{k}{suffix}"


def get(kind: str, k: str):
    """The stored result, or None when there is none (or VCE_NO_CACHE is set)."""
    if os.environ.get("VCE_NO_CACHE"):
        return None
    try:
        return json.loads(_path(kind, k).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def put(kind: str, k: str, value) -> None:
    """Store a result atomically (a reader sees the old file or the whole new one), then prune old ones."""
    target = _path(kind, k)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False)
    os.replace(tmp, target)
    entries = sorted(target.parent.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
        _path(kind, old.stem, ".lock").unlink(missing_ok=True)


class Lock:
    """An exclusive lock on one cache entry, shared across processes (fcntl), held until ``release``."""

    def __init__(self, kind: str, k: str):
        path = _path(kind, k, ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "a+")

    def acquire(self, block: bool = True, timeout_s: float = 900.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(self._f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not block or time.monotonic() > deadline:
                    return False
                time.sleep(0.05)

    def release(self) -> None:
        if not self._f.closed:
            fcntl.flock(self._f, fcntl.LOCK_UN)
            self._f.close()


@contextmanager
def locked(kind: str, k: str):
    lock = Lock(kind, k)
    if not lock.acquire():
        raise TimeoutError(f"another build held the cache entry {kind}/{k} for too long")
    try:
        yield
    finally:
        lock.release()


def get_or_compute(kind: str, k: str, compute):
    """The stored result for key ``k``, or ``compute()``, stored; one process computes, the others wait."""
    value = get(kind, k)
    if value is not None:
        return value
    with locked(kind, k):
        value = get(kind, k)
        if value is None:
            value = compute()
            put(kind, k, value)
    return value
