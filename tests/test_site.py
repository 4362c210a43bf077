"""The built site: a strict build within its time budget, every claim on its page, no broken internal link or
anchor, and a real browser (Debian chromium driven by playwright) over the built pages, offline.

The site is built once (a session fixture) and only here. Full-page screenshots land in
tests/.artifacts/screenshots/; look at them after a change to the site. The link parser, the quiet file
server and the in-page math check are in tests/_site.py; the hooks' pieces on planted input (claim blocks,
the notebook math finder, the offline guard) are tested in tests/test_site_hooks.py, without a build.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from _site import _PAGE_CHECK, _Links

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / ".artifacts"
BUILD_BUDGET_S = 90
MATH_CONTAINERS = ".arithmatex, .jp-RenderedMarkdown, .jp-RenderedLatex"


def test_strict_build_within_budget(site):
    print(f"\nmkdocs build --strict: {site.seconds:.1f} s (budget {BUILD_BUDGET_S} s)")
    assert site.seconds <= BUILD_BUDGET_S, f"the build took {site.seconds:.1f} s, over the {BUILD_BUDGET_S} s budget"
    assert not re.search(r"^WARNING\s+-", site.proc.stderr, re.M), "strict mode let a warning through"


def test_every_claim_is_on_its_page_and_in_the_table(site):
    from derivations import all_claims

    table = (site.path / "verification" / "index.html").read_text()
    for claim in all_claims():
        page = (site.path / claim.page.removesuffix(".md") / "index.html").read_text()
        block = re.search(rf'<div class="admonition claim (\w+)" data-claim="{re.escape(claim.id)}" id="([^"]+)"', page)
        assert block, f"{claim.id} is not shown on {claim.page}"
        assert block.group(1) == "success", f"{claim.id} is shown as {block.group(1)}"
        assert f"#{block.group(2)}" in table, f"the claims table does not link to {claim.id}"
    assert "claim-status" not in table, "a status placeholder was left unfilled"


# --- internal links and anchors over the built HTML ---------------------------------------------------------


def test_no_broken_internal_links_or_anchors(site):
    parsed = {}
    for page in site.pages():
        parser = _Links()
        parser.feed(page.read_text())
        parsed[page] = parser
    broken = []
    for page, parser in parsed.items():
        for ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//"):
                continue
            if not ref:
                broken.append(f"{page.relative_to(site.path)}: empty reference")
                continue
            if not parts.path:
                target = page
            elif parts.path.startswith("/"):  # root-relative (the 404 page): the site is served at its root
                target = (site.path / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site.path)}: {ref} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _Links().ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site.path)}: {ref} (no such anchor)")
    for css in site.path.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?(?!data:)([^'\")]+)", css.read_text()):
            if not (css.parent / url.split("?")[0].split("#")[0]).is_file():
                broken.append(f"{css.relative_to(site.path)}: url({url})")
    assert not broken, "\n".join(broken)


@pytest.mark.browser
def test_every_page_offline_with_math_rendered(site, browser):
    shots = ARTIFACTS / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    browser.problems.clear()
    report = {}
    for file in site.pages():
        rel = file.relative_to(site.path).as_posix()
        browser.visit(rel)
        info = report[rel] = browser.page.evaluate(_PAGE_CHECK, MATH_CONTAINERS)
        name = rel.removesuffix("index.html").removesuffix(".html").strip("/").replace("/", "_") or "home"
        browser.page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        if info["errors"] or info["unrendered"] or info["raw"]:
            browser.problems.append(f"{rel}: math not rendered: {info}")
        if info["katex"] and ("KaTeX_Main" not in info["font"] or not info["fontsLoaded"]):
            browser.problems.append(f"{rel}: KaTeX's stylesheet or fonts did not load: {info['font']!r}")
    (ARTIFACTS / "browser-report.json").write_text(json.dumps(report, indent=1))
    assert len(report) >= 10, f"only {len(report)} pages were visited"
    notebooks = [r for r in report if r.startswith("notebooks/")]
    assert notebooks and all(report[r]["mathContainers"] for r in notebooks), "a notebook shows no rendered math"
    assert not browser.problems, "\n".join(browser.problems)


@pytest.mark.browser
def test_search_finds_a_derivation_page_by_a_word_from_it(browser):
    browser.problems.clear()
    browser.visit("index.html")
    field = browser.page.locator("input.md-search__input")
    field.click()
    field.press_sequentially("Gibbs", delay=60)
    browser.page.wait_for_selector(".md-search-result__item a", timeout=15000)
    hrefs = browser.page.eval_on_selector_all(".md-search-result__item a", "els => els.map((e) => e.href)")
    browser.page.screenshot(path=str(ARTIFACTS / "screenshots" / "search.png"))
    assert any("/cross-entropy-kl/" in h for h in hrefs), f"search for 'Gibbs' missed the KL page: {hrefs}"
    assert not browser.problems, "\n".join(browser.problems)


@pytest.mark.browser
def test_palette_toggle_switches_to_the_dark_scheme(browser):
    browser.problems.clear()
    browser.visit("softmax-cross-entropy/index.html")
    browser.page.locator("label[title='Switch to dark mode']").click()
    scheme = browser.page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    browser.page.screenshot(path=str(ARTIFACTS / "screenshots" / "softmax-cross-entropy_dark.png"), full_page=True)
    assert scheme == "slate"
    assert not browser.problems, "\n".join(browser.problems)
