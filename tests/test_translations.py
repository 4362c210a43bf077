"""The Korean edition's translations: every page, notebook and claim translated, current and faithful.

A translation records the hash of the English it translates; a test fails when the English has changed
since (stale), when a translation is missing, or when it changes what must not be translated: the math,
the code, the markers, the link targets, the heading anchors, a notebook's code cells. Each check is also
run on a planted wrong translation, which it must reject.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hooks"))

import translations  # noqa: E402

SOURCES = translations.sources()


@pytest.mark.parametrize("src", SOURCES, ids=[s.relative_to(ROOT).as_posix() for s in SOURCES])
def test_page_translation_is_current_and_faithful(src):
    assert translations.problems(src, "ko") == []


def _nav_paths(nav) -> list[str]:
    out = []
    for item in nav:
        for value in item.values():
            out += _nav_paths(value) if isinstance(value, list) else [value]
    return out


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_korean_nav_has_the_english_pages_in_the_same_order():
    en = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)
    ko = yaml.load((ROOT / "mkdocs.ko.yml").read_text(), Loader=_Loader)
    assert _nav_paths(ko["nav"]) == _nav_paths(en["nav"])
    assert ko["INHERIT"] == "mkdocs.yml" and ko["theme"]["language"] == "ko"


# --- claims: derivations/i18n/ko.toml ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def claim_texts():
    from derivations.i18n.__main__ import exported_texts

    return exported_texts()


def test_every_claim_has_a_current_faithful_korean_entry(claim_texts):
    from derivations.i18n import load, problems

    catalogue = load("ko")
    bad = {cid: problems(texts, catalogue.get(cid)) for cid, _, texts in claim_texts}
    assert {cid: p for cid, p in bad.items() if p} == {}
    assert set(catalogue) <= {cid for cid, _, _ in claim_texts}, "the catalogue has entries for no claim"


def test_claim_catalogue_check_rejects_planted_wrong_entries(claim_texts):
    from derivations.i18n import problems, source_hash, spans

    _cid, _, texts = next(c for c in claim_texts if any(spans(a) for a in c[2]["assumptions"]))
    good = {"source": source_hash(texts), **texts}
    assert problems(texts, good) == []  # the English itself, as a "translation", is faithful
    assert problems(texts, None) == ["missing"]
    assert any(p.startswith("stale") for p in problems(texts, {**good, "source": "000000000000"}))
    edited = {**texts, "title": texts["title"] + " (changed)"}
    assert any(p.startswith("stale") for p in problems(edited, good)), "an English edit must make the entry stale"
    wrong_math = [a.replace("$", "$x + ", 1) if spans(a) else a for a in texts["assumptions"]]
    assert any("math or code differs" in p for p in problems(texts, {**good, "assumptions": wrong_math}))
    assert any("item(s)" in p for p in problems(texts, {**good, "assumptions": texts["assumptions"] + ["더"]}))


# --- pages and notebooks: planted wrong translations --------------------------------------------------------


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """A docs/ and translations/ of one page and one notebook, under tmp_path."""
    docs, tr = tmp_path / "docs", tmp_path / "translations"
    (docs / "notebooks").mkdir(parents=True)
    (tr / "ko" / "notebooks").mkdir(parents=True)
    monkeypatch.setattr(translations, "ROOT", tmp_path)
    monkeypatch.setattr(translations, "DOCS", docs)
    monkeypatch.setattr(translations, "TRANSLATIONS", tr)
    page = docs / "page.md"
    page.write_text(
        "# Entropy\n\nThe entropy $H(p)$ of `p`, see [softmax](softmax.md#lse).\n\n<!-- claims: entropy.* -->\n\n"
        "## The definition\n\n$$H(p) = -\\sum_j p_j \\log p_j$$\n\n```python\nprint(1)\n```\n"
    )
    nb = docs / "notebooks" / "nb.py"
    nb.write_text("# %% [markdown]\n# # Numbers\n#\n# The value $x$.\n\n# %%\nx = 1  # one\nprint(x)\n")
    ko_page = (
        "# 엔트로피 {#entropy}\n\n`p`의 엔트로피 $H(p)$, [소프트맥스](softmax.md#lse) 참고.\n\n"
        "<!-- claims: entropy.* -->\n\n"
        "## 정의 {#the-definition}\n\n$$H(p) = -\\sum_j p_j \\log p_j$$\n\n```python\nprint(1)\n```\n"
    )
    ko_nb = "# %% [markdown]\n# # 숫자 {#numbers}\n#\n# 값 $x$.\n\n# %%\nx = 1  # one\nprint(x)\n"

    def write(page_text=ko_page, nb_text=ko_nb, page_header=None, nb_header=None):
        (tr / "ko" / "page.md").write_text((page_header or translations.header(page)) + page_text)
        (tr / "ko" / "notebooks" / "nb.py").write_text((nb_header or translations.header(nb)) + nb_text)
        return translations.problems(page, "ko"), translations.problems(nb, "ko")

    return page, nb, ko_page, ko_nb, write


def test_a_faithful_translation_passes(planted):
    *_, write = planted
    assert write() == ([], [])


def test_a_stale_or_missing_translation_fails(planted):
    page, nb, _ko_page, _ko_nb, write = planted
    write()
    page.write_text(page.read_text() + "\nOne more sentence.\n")
    assert translations.problems(page, "ko")[0].startswith("stale")
    (translations.translation_path(nb, "ko")).unlink()
    assert translations.problems(nb, "ko")[0].startswith("missing")


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("$H(p)$", "$H(q)$"), "inline math differ"),
        (("-\\sum_j", "\\sum_j"), "display math differ"),
        (("print(1)", "print(2)"), "code blocks differ"),
        (("<!-- claims: entropy.* -->", ""), "HTML comments differ"),
        (("softmax.md#lse", "softmax.md"), "link targets differ"),
        (("`p`", "`q`"), "inline code differ"),
        ((" {#the-definition}", ""), "heading anchors differ"),
        (("$H(p)$", "$H(\\text{확률})$"), "inline math differ"),
    ],
)
def test_an_unfaithful_page_translation_fails(planted, edit, expected):
    *_, ko_page, _, write = planted
    found, _ = write(page_text=ko_page.replace(*edit))
    assert any(expected in p for p in found), found


def test_hangul_in_math_outside_text_fails(planted):
    page, _, ko_page, _, write = planted
    page.write_text(page.read_text().replace("$H(p)$", "$H(\\text{p})$"))
    assert write(page_text=ko_page.replace("$H(p)$", "$H(\\text{p})$"))[0] == []
    found, _ = write(page_text=ko_page.replace("$H(p)$", "$H(\\text{p}) 확률$"))
    assert any("Hangul in math" in p for p in found), found


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("x = 1  # one", "x = 1  # 하나"), "cell 1 (code) is not byte-identical"),
        (("# %%\nx", "# %% [markdown]\n# x"), "cell structure differs"),
        ((" {#numbers}", ""), "heading anchors differ"),
        (("$x$", "$y$"), "inline math differ"),
    ],
)
def test_an_unfaithful_notebook_translation_fails(planted, edit, expected):
    *_, ko_nb, write = planted
    _, found = write(nb_text=ko_nb.replace(*edit))
    assert any(expected in p for p in found), found


def test_a_header_naming_another_source_fails(planted):
    page, *_, write = planted
    wrong = translations.header(page).replace("docs/page.md", "docs/other.md")
    found, _ = write(page_header=wrong)
    assert any("names docs/other.md" in p for p in found), found


def test_notebook_headings_take_their_english_anchor():
    """nbconvert slugs a Korean heading from its ASCII words only; the hook applies the {#id} it carries."""
    import types

    import notebook_hook
    from mkdocs.structure.toc import get_toc

    heading = "BCEWithLogitsLoss와 CrossEntropyLoss {#bcewithlogitsloss-versus-crossentropyloss}"
    wrong = "bcewithlogitsloss-crossentropyloss-bcewithlogitsloss-versus-crossentropyloss"
    page = types.SimpleNamespace(
        content=f'<h2 id="{wrong}">{heading}<a class="anchor-link" href="#{wrong}">¶</a></h2><p>본문</p>',
        toc=get_toc([{"level": 2, "id": wrong, "name": heading, "children": []}]),
    )
    notebook_hook._english_anchors(page)
    right = "bcewithlogitsloss-versus-crossentropyloss"
    assert page.content == (
        f'<h2 id="{right}">BCEWithLogitsLoss와 CrossEntropyLoss<a class="anchor-link" href="#{right}">¶</a></h2>'
        "<p>본문</p>"
    )
    (item,) = list(page.toc)
    assert (item.title, item.id) == ("BCEWithLogitsLoss와 CrossEntropyLoss", right)
