"""The built site: a strict build within its time budget, every claim on its page, no broken internal link or
anchor, and a real browser (Debian chromium driven by playwright) over the built pages, offline.

The site is built once (a session fixture) and only here. Full-page screenshots land in
tests/.artifacts/screenshots/; look at them after a change to the site. The link parser, the quiet file
server and the in-page math check are in tests/_site.py; the hooks' pieces on planted input (claim blocks,
the notebook math finder, the offline guard) are tested in tests/test_site_hooks.py, without a build.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from _site import _PAGE_CHECK, _Links, _Quiet

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / ".artifacts"
BUILD_BUDGET_S = 90
MATH_CONTAINERS = ".arithmatex, .jp-RenderedMarkdown, .jp-RenderedLatex"


@dataclass
class Site:
    path: Path
    seconds: float
    proc: subprocess.CompletedProcess

    def pages(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*.html") if "assets" not in p.relative_to(self.path).parts)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    built = Site(out, time.perf_counter() - start, proc)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "build.log").write_text(f"{built.seconds:.1f} s, exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return built


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


# --- a real browser over the served site ---------------------------------------------------------------


@dataclass
class Browser:
    page: object
    base: str
    problems: list[str]

    def visit(self, rel: str) -> None:
        self.page.goto(f"{self.base}/{rel}", wait_until="networkidle")
        self.page.evaluate("document.fonts.ready.then(() => true)")


@pytest.fixture(scope="module")
def browser(site):
    """Chromium over the built site served on 127.0.0.1; every request that would leave the machine is
    aborted and recorded, as are failed requests, HTTP errors, page errors and console errors."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: scripts/setup.sh installs it (apt-get install chromium)")
        pytest.skip("Debian chromium is not installed: apt-get install chromium (scripts/setup.sh does)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    args = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
    args += ["--disable-component-update", "--disable-sync", "--no-first-run"]
    problems: list[str] = []

    def route(r):
        if r.request.url.startswith((base + "/", "data:", "blob:")):
            r.continue_()
        else:
            problems.append(f"request leaving the machine: {r.request.url}")
            r.abort()

    try:
        with sync_api.sync_playwright() as p:
            chrome = p.chromium.launch(executable_path=chromium, args=args)
            page = chrome.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} ({r.failure})"))
            page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
            page.on("pageerror", lambda e: problems.append(f"page error on {page.url}: {e}"))
            page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
            yield Browser(page, base, problems)
            chrome.close()
    finally:
        server.shutdown()


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
