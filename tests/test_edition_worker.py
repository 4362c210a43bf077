"""The edition worker (hooks/edition_worker.py): one process, many builds, each seeing the files as they are now.

Driven on a one-page MkDocs project in a temporary folder (no theme plugins, no hooks), so each build takes
well under a second; the real site's use of it is covered by the site tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hooks"))

import edition_worker  # noqa: E402

pytest.importorskip("mkdocs")


def _project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "index.md").write_text(body)
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: worker test\ntheme: mkdocs\nplugins: []\n")
    return config


def test_one_worker_builds_again_and_sees_the_edit(tmp_path):
    config = _project(tmp_path, "# First\n\n[a broken link](nowhere.md)\n")
    worker = edition_worker.Worker(config)
    try:
        first = worker.answer(worker.request(tmp_path / "site1"), timeout=120)
        assert first["ok"], first["error"]
        assert "First" in (tmp_path / "site1" / "index.html").read_text()
        assert any("nowhere.md" in w for w in first["warnings"]), first["warnings"]  # forwarded, for --strict
        pid = worker.proc.pid
        (tmp_path / "docs" / "index.md").write_text("# Second\n")
        second = worker.answer(worker.request(tmp_path / "site2"), timeout=120)
        assert second["ok"] and second["warnings"] == [], second
        assert "Second" in (tmp_path / "site2" / "index.html").read_text()
        assert worker.alive() and worker.proc.pid == pid, "the second build started a new process"
    finally:
        worker.stop()


def test_a_failed_build_is_an_answer_and_the_worker_survives_it(tmp_path):
    config = _project(tmp_path, "# Page\n")
    config.write_text("site_name: worker test\ntheme: no-such-theme\n")
    worker = edition_worker.Worker(config)
    try:
        bad = worker.answer(worker.request(tmp_path / "site"), timeout=120)
        assert not bad["ok"] and "no-such-theme" in bad["error"]
        assert worker.alive()
    finally:
        worker.stop()


def test_an_answer_skips_the_builds_nobody_waited_for(tmp_path):
    config = _project(tmp_path, "# Page\n")
    worker = edition_worker.Worker(config)
    try:
        worker.request(tmp_path / "abandoned")  # an English build failed before it read this answer
        last = worker.request(tmp_path / "site")
        answer = worker.answer(last, timeout=120)
        assert answer["id"] == last and answer["ok"]
    finally:
        worker.stop()


def test_a_worker_that_dies_or_hangs_is_an_error_not_a_hang(tmp_path):
    config = _project(tmp_path, "# Page\n")
    worker = edition_worker.Worker(config)
    request = worker.request(tmp_path / "site")
    worker.proc.kill()
    with pytest.raises(RuntimeError, match="exited"):
        worker.answer(request, timeout=60)
    worker = edition_worker.Worker(config)
    try:
        with pytest.raises(TimeoutError, match="longer than"):
            worker.answer(worker.request(tmp_path / "site"), timeout=0.01)  # no build finishes in 10 ms
        assert not worker.alive(), "a worker that timed out was left running"
    finally:
        worker.stop()
