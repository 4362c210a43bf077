"""Every benchmark hook shows its file or warns: a missing, unreadable or malformed docs/data file is a build
warning naming the file and the page (so `mkdocs build --strict` fails) and the page keeps its marker, never a
traceback and never a half-filled table; the GPU's hook alone takes a missing file as "no GPU has run it"."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "hooks"))

HOOKS = [
    "benchmarks_hook",
    "linear_benchmarks_hook",
    "compiled_benchmarks_hook",
    "vocab_parallel_hook",
    "linear_tradeoff_hook",
    "gpu_benchmarks_hook",
]
#: What a hook cannot render: not JSON, a list, no rows, a row without its figures.
MALFORMED = {
    "not-json": "{'meta': ",
    "a-list": "[1, 2]",
    "no-rows": json.dumps({"meta": {"machine": "m", "date": "d", "device": "NVIDIA H200"}}),
    "empty-row": json.dumps(
        {"meta": {"machine": "m", "date": "d", "device": "NVIDIA H200"}, "rows": [{}], "cross_entropy": [{}]}
    ),
}


class _Page:
    class file:
        src_path = "kernels.md"


def _show(hook, lang="en"):
    config = type("Config", (), {"theme": {"language": lang}})()
    return hook.on_page_markdown(f"before\n\n{hook.MARKER}\n\nafter", _Page, config, None)


@pytest.mark.parametrize("kind", MALFORMED)
@pytest.mark.parametrize("name", HOOKS)
def test_a_malformed_file_is_a_warning_naming_it_and_the_page_keeps_its_marker(
    name, kind, tmp_path, monkeypatch, caplog
):
    hook = importlib.import_module(name)
    bad = tmp_path / "figures.json"
    bad.write_text(MALFORMED[kind], encoding="utf-8")
    monkeypatch.setattr(hook, "DATA", bad)
    with caplog.at_level(logging.WARNING):
        shown = _show(hook)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(bad) in warnings[0] and "kernels.md" in warnings[0], warnings
    assert shown == f"before\n\n{hook.MARKER}\n\nafter"


@pytest.mark.parametrize("name", HOOKS)
def test_a_missing_file_is_a_warning_except_for_the_gpu_figures(name, tmp_path, monkeypatch, caplog):
    hook = importlib.import_module(name)
    monkeypatch.setattr(hook, "DATA", tmp_path / "absent.json")
    with caplog.at_level(logging.WARNING):
        shown = _show(hook, "ko")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if name == "gpu_benchmarks_hook":  # not measured yet: the page says so, in the edition's words
        assert not warnings and hook.WORDS["ko"]["none"] in shown
    else:
        assert len(warnings) == 1 and "absent.json" in warnings[0], warnings
        assert hook.MARKER in shown


@pytest.mark.parametrize("name", HOOKS)
def test_the_committed_file_fills_the_marker_in_both_editions(name, caplog):
    hook = importlib.import_module(name)
    with caplog.at_level(logging.WARNING):
        shown = {lang: _show(hook, lang) for lang in ("en", "ko")}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    for lang, page in shown.items():
        assert hook.MARKER not in page and page.startswith("before\n\n") and page.endswith("\n\nafter"), lang
    assert shown["en"] != shown["ko"]  # each edition in its own words


def test_a_page_without_the_marker_is_left_alone_and_reads_no_file(monkeypatch):
    hook = importlib.import_module("benchmarks_hook")
    monkeypatch.setattr(hook, "DATA", Path("/nonexistent/figures.json"))
    config = type("Config", (), {"theme": {"language": "en"}})()
    assert hook.on_page_markdown("no figures here", _Page, config, None) == "no figures here"
