"""The site build's cache (hooks/build_cache.py): keyed on what each step reads, so it cannot serve a stale result.

Unit tests: a changed source changes the key; a result is computed once while two processes ask for it;
a half-written entry is never read. And end to end, on a copy of the project: a change in kernels/ shows
on the notebook page that prints it, and a change in a claim's text shows on its page, with the cache
of the first build in place.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hooks"))

import build_cache  # noqa: E402


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(build_cache, "CACHE", tmp_path / "cache")
    return tmp_path / "cache"


def test_tree_hash_follows_every_byte_and_name(tmp_path, monkeypatch):
    monkeypatch.setattr(build_cache, "ROOT", tmp_path)
    src = tmp_path / "pkg"
    (src / "__pycache__").mkdir(parents=True)
    (src / "a.py").write_text("x = 1\n")
    first = build_cache.tree_hash(src)
    (src / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert build_cache.tree_hash(src) == first, "bytecode is not a source"
    (src / "a.py").write_text("x = 2\n")
    second = build_cache.tree_hash(src)
    assert second != first
    (src / "a.py").rename(src / "b.py")
    assert build_cache.tree_hash(src) != second, "a renamed file is a different tree"


def test_a_result_is_stored_whole_and_read_back(cache_dir):
    k = build_cache.key("kind", "input")
    assert build_cache.get("kind", k) is None
    calls = []
    value = build_cache.get_or_compute("kind", k, lambda: calls.append(1) or {"n": 1})
    assert value == {"n": 1} and build_cache.get_or_compute("kind", k, lambda: {"n": 2}) == {"n": 1}
    assert calls == [1]
    assert not list((cache_dir / "kind").glob(".tmp-*")), "a temporary file was left behind"
    (cache_dir / "kind" / f"{k}.json").write_text('{"n": ')  # a torn write is no result
    assert build_cache.get("kind", k) is None


def test_no_cache_env_recomputes(cache_dir, monkeypatch):
    k = build_cache.key("kind", "x")
    build_cache.put("kind", k, 1)
    monkeypatch.setenv("VCE_NO_CACHE", "1")
    assert build_cache.get_or_compute("kind", k, lambda: 2) == 2


def _slow_compute(cache: str, k: str, log: str) -> None:
    build_cache.CACHE = Path(cache)

    def compute():
        with open(log, "a") as f:
            f.write("computed\n")
        time.sleep(1.0)
        return {"pid": os.getpid()}

    build_cache.get_or_compute("shared", k, compute)


def test_two_processes_compute_once_and_share_the_result(cache_dir, tmp_path):
    k, log = build_cache.key("shared"), tmp_path / "log"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_slow_compute, args=(str(cache_dir), k, str(log))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert log.read_text() == "computed\n", "the second process computed again instead of waiting"


def test_old_entries_are_pruned(cache_dir, monkeypatch):
    monkeypatch.setattr(build_cache, "KEEP", 3)
    for i in range(5):
        build_cache.put("kind", build_cache.key(str(i)), i)
        time.sleep(0.01)
    assert len(list((cache_dir / "kind").glob("*.json"))) == 3
    assert build_cache.get("kind", build_cache.key("4")) == 4


# --- end to end, on a copy of the project ---------------------------------------------------------------------

_COPIED = [
    "derivations",
    "kernels",
    "hooks",
    "docs",
    "translations",
    "overrides",
    "mkdocs.yml",
    "mkdocs.ko.yml",
    "pyproject.toml",
]


def _build(project: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", VCE_EDITIONS="en", PYTHONPATH=str(project))
    cmd = [sys.executable, "-m", "mkdocs", "build", "-q", "--site-dir", str(project / "site")]
    return subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_a_changed_source_shows_on_the_pages_after_a_cached_build(tmp_path):
    """The kernels' misuse message (kernels/explain) on the troubleshooting notebook, a claim's title on its page."""
    if not (ROOT / "node_modules" / "katex").is_dir():
        pytest.skip("KaTeX is not installed (npm ci)")
    project = tmp_path / "project"
    for name in _COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, project / name, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
        elif src.exists():
            shutil.copy2(src, project / name)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    if (ROOT / ".cache" / "vce").is_dir():  # start from this checkout's cache: the first build is then quick
        shutil.copytree(ROOT / ".cache" / "vce", project / ".cache" / "vce")
    first = _build(project)
    assert first.returncode == 0, first.stderr[-3000:]
    page = project / "site" / "notebooks" / "troubleshooting" / "index.html"
    claims_page = project / "site" / "entropy" / "index.html"
    assert "PLANTED" not in page.read_text()

    rules = project / "kernels" / "explain" / "_rules.py"
    assert "takes (N,) class indices" in rules.read_text() and "takes (N,) class indices" in page.read_text()
    rules.write_text(rules.read_text().replace("takes (N,) class indices", "takes (N,) PLANTED class indices"))
    topic = project / "derivations" / "topics" / "entropy.py"
    title = 'is the expected surprisal",'
    assert title in topic.read_text()
    topic.write_text(topic.read_text().replace(title, 'is the PLANTED expected surprisal",'))

    second = _build(project)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "PLANTED class indices" in page.read_text(), "the notebook page kept its stale outputs"
    assert "PLANTED expected surprisal" in claims_page.read_text(), "the claim's page kept its stale text"
