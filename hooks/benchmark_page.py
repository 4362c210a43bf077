"""What the benchmark hooks share: an edition's words, the "measured on" line, a table's wrapper, a cached plot,
and the replacement of a page's marker by a block rendered from one JSON file under docs/data/.

Nothing here measures. A missing or malformed file is a build warning naming the file and the page (so a
strict build fails), and the page keeps its marker; a hook whose figures may not exist yet (the GPU's) passes
``missing_ok`` and renders its own words for ``None``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import build_cache

ROOT = Path(__file__).resolve().parent.parent
#: What reading or rendering a malformed file raises: unreadable, not JSON, a missing key, a wrong type, a zero.
BAD_DATA = (OSError, ValueError, KeyError, TypeError, ZeroDivisionError)
#: The wrapper the site's CSS gives benchmark tables (a scrolling box on narrow screens).
TABLE_OPEN, TABLE_CLOSE = '<div class="benchmarks-table" markdown>', "</div>"


def words_of(words: dict, lang: str) -> dict:
    """The words of edition ``lang``; English for an edition that has none."""
    return words.get(lang, words["en"])


def measured_on(template: str, meta: dict, **more) -> str:
    """``template`` filled with the run's machine, date, torch version and rounds ("?" where the file has
    none), and ``more``."""
    facts = {key: meta.get(key, "?") for key in ("machine", "date", "torch", "rounds")}
    return template.format(**{**facts, **more})


def table(lines: list[str]) -> list[str]:
    """A Markdown table's lines inside the benchmark tables' wrapper."""
    return [TABLE_OPEN, "", *lines, "", TABLE_CLOSE]


def cached_plot(hook_file: str, rows: list, draw: Callable[[list], str]) -> str:
    """``draw(rows)``, drawn once per change of the rows, of the hook in ``hook_file`` or of matplotlib
    (hooks/build_cache.py)."""
    k = build_cache.key(
        "plot",
        build_cache.tree_hash(Path(hook_file)),
        json.dumps(rows, sort_keys=True),
        build_cache.versions("matplotlib"),
    )
    return build_cache.get_or_compute("plots", k, lambda: draw(rows))


def substitute(
    markdown: str,
    page,
    config,
    *,
    marker: str,
    data: Path,
    render: Callable[..., str],
    what: str,
    missing_ok: bool = False,
) -> str:
    """``markdown`` with ``marker`` replaced by ``render(json of data, lang=the edition's language)``; unchanged,
    with a warning, where the file cannot be read or rendered. ``missing_ok``: a missing file renders ``None``."""
    if marker not in markdown:
        return markdown
    try:
        loaded = None if missing_ok and not data.exists() else json.loads(data.read_text(encoding="utf-8"))
        block = render(loaded, lang=config.theme["language"])
    except BAD_DATA as exc:
        shown = data.relative_to(ROOT) if data.is_relative_to(ROOT) else data
        logging.getLogger("mkdocs.hooks.benchmarks").warning(
            "%s: cannot show %s on %s: %s", what, shown, page.file.src_path, exc
        )
        return markdown
    return markdown.replace(marker, block)
