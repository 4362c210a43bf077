"""MkDocs hook: the site in two editions, English at the root and Korean under ``ko/``, from one command.

``mkdocs build`` and ``mkdocs serve`` with ``mkdocs.yml`` build the English edition and, side by side in a
child process, the Korean one (``mkdocs.ko.yml``, which inherits everything from ``mkdocs.yml``), then put
the Korean site into ``<site_dir>/ko/``. The child (hooks/edition_worker.py) stays up between the rebuilds
of ``mkdocs serve``, so only the first build pays for its imports. Both editions share the build cache (hooks/build_cache.py), so
the claims are checked and each notebook executed once for the two. ``VCE_EDITIONS=en`` builds English only.

In the Korean edition a page's Markdown is ``translations/ko/<page>.md`` when it exists (the English page
otherwise, under a notice); a translation of an older English text is shown under a notice too (and
tests/test_translations.py fails on it). Every page's language switch links to the same page in the other
edition.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import shutil
import tempfile
from pathlib import Path

import edition_worker
import translations
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.editions")
ROOT = Path(__file__).resolve().parent.parent
KOREAN_CONFIG = ROOT / "mkdocs.ko.yml"
EDITIONS = {"en": ("English", ""), "ko": ("한국어", "ko/")}  # name, folder under the English site
_TIMEOUT_S = 600
_SWITCH = re.compile(r'<a href="[^"]*" hreflang="(en|ko)" class="md-select__link">')
_HEAD_ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[a-z]+">')
NOTICES = {
    "missing": ("번역 대기", "이 페이지는 아직 한국어로 옮기지 않아 영어 원문을 보여 줍니다."),
    "stale": ("이전 판의 번역", "이 번역은 영어 원문의 이전 판을 옮긴 것입니다. 최신 내용은 영어판을 보십시오."),
}
_state: dict = {}


@event_priority(100)  # before the search plugin's on_config, which copies its language into the index
def on_config(config):
    lang = config.theme["language"]
    if lang not in EDITIONS:
        raise PluginError(f"theme.language {lang!r} has no edition here; the editions are {sorted(EDITIONS)}")
    _state.update(lang=lang, notices={})
    if lang == "ko":
        search = config.plugins.get("material/search") or config.plugins.get("search")
        search.config["lang"] = ["ko", "en"]  # Material's Korean strings do not set the search language
    config.extra["alternate"] = [{"name": name, "link": "./", "lang": code} for code, (name, _) in EDITIONS.items()]
    return config


def _wanted(config) -> bool:
    return _state["lang"] == "en" and os.environ.get("VCE_EDITIONS", "en,ko") != "en"


def on_pre_build(config) -> None:
    _discard()
    if not _wanted(config):
        return
    out = Path(tempfile.mkdtemp(prefix="vce-ko-"))
    worker = edition_worker.worker(KOREAN_CONFIG)
    _state["korean"] = (worker, worker.request(out), out)


def on_page_read_source(page, config):
    """The Korean edition reads a page's translation (without its header line) when there is one."""
    if _state["lang"] == "en" or not page.file.src_uri.endswith(".md"):
        return None
    src = Path(page.file.abs_src_path)
    path = translations.translation_path(src, _state["lang"])
    if not path.exists():
        _state["notices"][page.file.src_uri] = "missing"
        return None
    _, recorded, body = translations.read(path)
    if recorded != translations.source_hash(src):
        _state["notices"][page.file.src_uri] = "stale"
    return body


def _notice(kind: str) -> str:
    title, text = NOTICES[kind]
    return f'<div class="admonition warning edition-notice"><p class="admonition-title">{title}</p><p>{text}</p></div>'


def on_page_content(html: str, page, config, files) -> str:
    kind = _state["notices"].get(page.file.src_uri) or getattr(page, "translation", None)
    return _notice(kind) + html if _state["lang"] != "en" and kind else html


def edition_url(page_url: str, from_lang: str, to_lang: str) -> str:
    """The relative link from a page of one edition to the same page of another (directory URLs)."""
    depth = page_url.count("/") + (1 if from_lang != "en" else 0)
    root = "../" * depth  # up to the English site's root
    target = posixpath.join(EDITIONS[to_lang][1], page_url)
    return (root + target) or "./"


def on_post_page(output: str, page, config) -> str:
    """The switch links to this page in the other edition; the head loses its alternate links, which would
    make Material's script fetch a sitemap.xml per link (and the site must not ask for what it lacks)."""
    lang = _state["lang"]

    def link(m: re.Match) -> str:
        return f'<a href="{edition_url(page.url, lang, m.group(1))}" hreflang="{m.group(1)}" class="md-select__link">'

    return _HEAD_ALTERNATE.sub("", _SWITCH.sub(link, output))


def on_post_build(config) -> None:
    if "korean" not in _state:
        return
    worker, request, out = _state.pop("korean")
    try:
        answer = worker.answer(request, _TIMEOUT_S)
    except (TimeoutError, RuntimeError) as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise PluginError(f"the Korean edition (mkdocs.ko.yml) was not built: {exc}") from None
    for message in answer["warnings"]:
        log.warning("Korean edition: %s", message.split(": ", 1)[-1])
    if not answer["ok"]:
        shutil.rmtree(out, ignore_errors=True)
        raise PluginError(f"the Korean edition (mkdocs.ko.yml) failed to build:\n{answer['error']}")
    target = Path(config.site_dir) / EDITIONS["ko"][1]
    shutil.rmtree(target, ignore_errors=True)
    shutil.move(str(out), target)


def _discard() -> None:
    """Forget a Korean build nobody will wait for (an English build that failed): its answer is skipped."""
    if "korean" in _state:
        shutil.rmtree(_state.pop("korean")[2], ignore_errors=True)


def on_shutdown() -> None:
    _discard()
    edition_worker.stop_all()
