"""The site: a strict build within its time budget, every claim on its page, no broken internal link or anchor,
and a real browser (Debian chromium driven by playwright) over the built pages, offline.

Full-page screenshots land in tests/.artifacts/screenshots/; look at them after a change to the site.
"""

from __future__ import annotations

import functools
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / ".artifacts"
BUILD_BUDGET_S = 90
MATH_CONTAINERS = ".arithmatex, .jp-RenderedMarkdown, .jp-RenderedLatex"

sys.path.insert(0, str(ROOT / "hooks"))
import claims_html  # noqa: E402
from notebook_math import find_math, math_regions  # noqa: E402


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


# --- claim blocks and the math finder, on planted input ---------------------------------------------------


def _planted(rhs_sign: int):
    import sympy as sp

    from derivations import Claim, chain, check

    a, b = sp.symbols("a b", positive=True)
    claim = Claim(
        id="planted.log_product",
        title="log of a product",
        assumptions=("$a, b > 0$",),
        sympy_assumptions=("a, b positive",),
        page="x.md",
        build=lambda n: chain(
            sp.log(a * b),
            (sp.log(a) + rhs_sign * sp.log(b), "log ab = log a + log b"),
            rule=lambda x, y: sp.expand_log(x - y),
        ),
    )
    return claim, check(claim).as_dict()


@pytest.mark.parametrize(("sign", "kind", "badge"), [(1, "success", "verified"), (-1, "failure", "FAILED")])
def test_claim_block_shows_the_checkers_verdict(sign, kind, badge):
    from claims_export import export

    claim, result = _planted(sign)
    block = claims_html.claim_block(export(claim), home=True)
    filled = claims_html.fill_status(block, {"sympy": "1", "seconds": 0.1, "claims": [result]})
    assert f'class="admonition claim {kind}"' in filled
    assert f">{badge}</span>" in filled
    assert r"\log{\left(a b \right)}" in filled and "claim-status" not in filled
    if sign < 0:  # the failing step and what remained are named
        assert f"failed</strong> for {result['failure']['scope']} at step 1" in filled
        assert "<code>2*log(b)</code>" in filled


def test_notebook_math_finder():
    page = (
        '<div class="jp-RenderedMarkdown"><p>$a&lt;b$ costs $5 and $6, <code>$x$</code> \\$y\\$ '
        "$$\\frac{1}{2}$$ \\(c\\)</p><div>\\begin{aligned}d\\end{aligned}</div></div><p>$outside$</p>"
    )
    found = [(tex, display) for s, e in math_regions(page) for _, _, tex, display in find_math(page, s, e)]
    assert found == [("a<b", False), ("\\frac{1}{2}", True), ("c", False), ("\\begin{aligned}d\\end{aligned}", True)]


def test_offline_guard_flags_what_would_be_fetched_from_another_host():
    from katex_hook import _remote_loads

    page = (
        '<link rel="canonical" href="https://example.org/a/"><link rel="stylesheet" href="//cdn.example/k.css">'
        '<script src="https://cdn.example/m.js"></script><img src="http://127.0.0.1:8000/p.png"><script src="x.js">'
    )
    assert _remote_loads(page) == ["//cdn.example/k.css", "https://cdn.example/m.js"]


# --- internal links and anchors over the built HTML ---------------------------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.refs = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) is not None and tag in ("a", "link", "script", "img", "source", "iframe"):
                self.refs.append(a[key])


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


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


_PAGE_CHECK = """(selector) => {
  const containers = [...document.querySelectorAll(selector)];
  const raw = [];
  for (const c of containers) {
    const clone = c.cloneNode(true);
    clone.querySelectorAll('.katex, code, pre, script, style').forEach((e) => e.remove());
    for (const tex of ['$', '\\\\frac', '\\\\sum', '\\\\log', '\\\\(', '\\\\[', '\\\\begin'])
      if (clone.textContent.includes(tex)) raw.push(tex + ' in: ' + clone.textContent.trim().slice(0, 80));
  }
  const unrendered = [...document.querySelectorAll('.arithmatex')].filter((e) => !e.querySelector('.katex'));
  const katex = document.querySelector('.katex');
  return {
    katex: document.querySelectorAll('.katex').length,
    errors: document.querySelectorAll('.katex-error').length,
    unrendered: unrendered.length, raw,
    mathContainers: containers.filter((c) => c.querySelector('.katex')).length,
    font: katex ? getComputedStyle(katex).fontFamily : '',
    fontsLoaded: document.fonts.check('1em KaTeX_Main'),
  };
}"""


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
