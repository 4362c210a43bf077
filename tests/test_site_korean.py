"""The Korean edition, built with the English one by one `mkdocs build` (hooks/edition_hook.py) under ko/.

Both editions have the same pages and the same anchors; every Korean page is in Korean (its <html lang>,
its claims from derivations/i18n/ko.toml, no "translation pending" notice); the language switch lands on
the same page in the other edition; Korean search finds Korean words; and the text is drawn in a real
Korean font (a page of empty boxes passes every DOM check, so the test asks the browser which platform
font it used). tests/test_site.py already visits every page of both editions offline.
"""

from __future__ import annotations

import re

import pytest
from _site import _Links

KO = "ko"


def _pages(site, prefix: str = "") -> dict[str, object]:
    root = site.path / prefix if prefix else site.path
    pages = {}
    for p in root.rglob("*.html"):
        rel = p.relative_to(root).as_posix()
        if rel.startswith(("assets/", f"{KO}/")) and not prefix:
            continue
        pages[rel] = p
    return pages


def test_both_editions_have_the_same_pages_and_anchors(site):
    en, ko = _pages(site), _pages(site, KO)
    assert sorted(en) == sorted(r for r in ko if not r.startswith("assets/"))
    missing = {}
    for rel in en:
        if rel == "404.html":
            continue
        ids = []
        for page in (en[rel], ko[rel]):
            parser = _Links()
            parser.feed(page.read_text())
            ids.append({i for i in parser.ids if not i.startswith(("__", "cell-id", "vce"))})
        if ids[0] - ids[1]:
            missing[rel] = sorted(ids[0] - ids[1])[:8]
    assert not missing, f"anchors of the English pages missing from the Korean ones: {missing}"


def test_every_korean_page_is_korean_with_its_claims_translated(site):
    from derivations import all_claims

    hangul = re.compile(r"[\uac00-\ud7af]")
    for rel, page in _pages(site, KO).items():
        if rel.startswith("assets/"):
            continue
        text = page.read_text()
        assert '<html lang="ko"' in text, f"ko/{rel} is not marked Korean"
        assert "edition-notice" not in text, f"ko/{rel} shows a translation notice (missing or stale)"
        body = re.sub(r"<[^>]+>", " ", text.split('<article class="md-content__inner', 1)[-1])
        least = 20 if rel == "404.html" else 200  # the 404 page is two lines long
        assert len(hangul.findall(body)) > least, f"ko/{rel} has little Korean text"
    for claim in all_claims():
        text = (site.path / KO / claim.page.removesuffix(".md") / "index.html").read_text()
        block = re.search(rf'<div class="admonition claim (\w+)" data-claim="{re.escape(claim.id)}"', text)
        assert block and block.group(1) == "success", f"{claim.id} is not shown verified on ko/{claim.page}"
        assert "claim-translation" not in text, f"ko/{claim.page} shows a claim in English or out of date"


@pytest.mark.browser
@pytest.mark.parametrize(
    "start, lang, lands",
    [
        ("entropy/index.html", "ko", "/ko/entropy/"),
        ("ko/entropy/index.html", "en", "/entropy/"),
        ("notebooks/gradient_check/index.html", "ko", "/ko/notebooks/gradient_check/"),
        ("ko/index.html", "en", "/"),
        ("index.html", "ko", "/ko/"),
    ],
)
def test_language_switch_lands_on_the_same_page(browser, start, lang, lands):
    browser.problems.clear()
    browser.visit(start)
    browser.page.locator(".md-header__option .md-select").first.hover()
    browser.page.locator(f'a.md-select__link[hreflang="{lang}"]').click()
    browser.page.wait_for_load_state("networkidle")
    assert browser.page.url == browser.base + lands
    assert browser.page.evaluate("document.documentElement.lang") == lang
    assert not browser.problems, "\n".join(browser.problems)


@pytest.mark.browser
@pytest.mark.parametrize(
    "query, page",
    [("엔트로피", "/ko/entropy/"), ("소프트맥스", "/ko/softmax/"), ("기울기", "/ko/softmax-cross-entropy/")],
)
def test_korean_search_finds_korean_words(browser, query, page):
    browser.problems.clear()
    browser.visit("ko/index.html")
    field = browser.page.locator("input.md-search__input")
    field.click()
    field.press_sequentially(query, delay=60)
    # Playwright inserts Hangul as text, with no key events; Material searches on keyup, which a Korean
    # keyboard (its IME) sends as it types: one harmless key stands in for it
    field.press("End")
    browser.page.wait_for_selector(".md-search-result__item a", timeout=15000)
    hrefs = browser.page.eval_on_selector_all(".md-search-result__item a", "els => els.map((e) => e.href)")
    assert any(h.startswith(browser.base + page) for h in hrefs), f"search for {query!r} missed {page}: {hrefs}"
    assert not browser.problems, "\n".join(browser.problems)


@pytest.mark.browser
def test_korean_text_is_drawn_in_a_korean_font(browser):
    browser.visit("ko/entropy/index.html")
    cdp = browser.page.context.new_cdp_session(browser.page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "article.md-content__inner > p"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    korean = [f for f in fonts if re.search(r"Nanum|CJK|Noto Sans KR|Un(Dotum|Batang)|Baekmuk", f["familyName"])]
    assert korean, f"no Korean font drew the paragraph: {fonts} (scripts/setup.sh installs fonts-nanum)"
    drawn = sum(f["glyphCount"] for f in fonts)
    assert sum(f["glyphCount"] for f in korean) > 0.3 * drawn, f"most glyphs are not from a Korean font: {fonts}"
