"""The site's hooks on planted input, without a build: a claim block shows the checker's verdict, the notebook
math finder finds what KaTeX should render, and the offline guard flags what would be fetched from another host.
The built site itself is tested in tests/test_site.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


sys.path.insert(0, str(ROOT / "hooks"))
import claims_html  # noqa: E402
from notebook_math import find_math, math_regions  # noqa: E402


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
