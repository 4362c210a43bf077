"""The built site and a browser over it, shared by the site tests (tests/test_site.py, tests/test_explorable.py).

``site`` builds the site once per session with ``mkdocs build --strict`` into a temporary folder (both
editions: English at the root, Korean under ko/, hooks/edition_hook.py); ``browser``
serves it on 127.0.0.1 to Debian's chromium driven by playwright, aborting and recording every request that
would leave the machine, failed requests, HTTP errors, page errors and console errors.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from _site import _Quiet

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / ".artifacts"


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


@dataclass
class Browser:
    page: object
    base: str
    problems: list[str]

    def visit(self, rel: str) -> None:
        self.page.goto(f"{self.base}/{rel}", wait_until="networkidle")
        self.page.evaluate("document.fonts.ready.then(() => true)")


def _failed(request, base: str, problems: list[str]) -> None:
    """A failed request is a problem, except a same-site one the next navigation cancelled (net::ERR_ABORTED,
    say the favicon of the page being left); requests leaving the machine are aborted and recorded by the route."""
    if request.url.startswith(base + "/") and "ERR_ABORTED" in str(request.failure):
        return
    problems.append(f"failed request: {request.url} ({request.failure})")


@pytest.fixture(scope="session")
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
            page.on("requestfailed", lambda r: _failed(r, base, problems))
            page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
            page.on("pageerror", lambda e: problems.append(f"page error on {page.url}: {e}"))
            page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
            yield Browser(page, base, problems)
            chrome.close()
    finally:
        server.shutdown()
