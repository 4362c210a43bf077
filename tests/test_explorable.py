"""The explorable's JavaScript, in three layers: the printer, Node against torch, and the widget in a browser.

- The strict JavaScript printer refuses what SymPy's would print wrongly (a Sum, a boolean, a one-hot);
  the emitted scripts' bytes are held by the drift test (tests/test_emit.py, ``emit --check``).
- Node runs the scripts the site loads (docs/javascripts/_generated/vce_*.js and docs/javascripts/vce_rows.js)
  on a few hundred random rows, logits up to +-1000 included, and matches torch.nn.functional in float64:
  the loss, the softmax and the gradient for raw logits, softmax first and sigmoid first, probability
  targets, class weights and label smoothing, and the binary losses; a planted wrong emitted expression
  fails the same check. No Node: a clean skip.
- In Chromium, on the built site: drag and type logits, pick the target, toggle the bug, read the displayed
  numbers and compare them with torch's; no console error and no request leaving the machine.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from _compare import seeded

from derivations.emission.printers import JavascriptKernelPrinter, UnprintableKernel

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "docs" / "javascripts" / "_generated"
ROWS = ROOT / "docs" / "javascripts" / "vce_rows.js"
ARTIFACTS = ROOT / "tests" / ".artifacts" / "explorable"
RTOL, ATOL = 1e-12, 1e-14  # float64 on both sides; the forms differ (stable vs torch's), not the precision
_NODE = """
const vm = require("vm"), fs = require("fs");
const [files, cases] = JSON.parse(fs.readFileSync(0, "utf8"));
const ctx = {}; vm.createContext(ctx);
for (const f of files) vm.runInContext(fs.readFileSync(f, "utf8"), ctx, { filename: f });
const { rows, kernels } = ctx.VCE;
const out = cases.map((c) => {
  if (c.kind === "index") {
    const r = rows.explore(c.z, c.t, c.mode, { weight: c.weight, eps: c.eps });
    return { loss: r.loss, probs: r.probs, grad: r.gradLogits };
  }
  if (c.kind === "prob") {
    const r = rows.crossEntropyProb(c.z, c.y, { weight: c.weight, eps: c.eps });
    return { loss: r.loss, probs: r.probs, grad: r.grad };
  }
  const loss = c.z.map((z, k) => kernels.bce_loss(z, c.y[k], 1));
  return { loss, grad: c.z.map((z, k) => kernels.bce_grad(z, c.y[k], 1, 1)) };
});
process.stdout.write(JSON.stringify(out));
"""


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed (Node.js >= 18 runs the explorable's scripts)")
    return path


def _cases(count=300):
    g = seeded("explorable")
    cases = []
    for i in range(count):
        c = int(torch.randint(2, 11, (1,), generator=g))
        scale = [1.0, 5.0, 1000.0][i % 3]  # logits of +-1000 must stay finite (the stable forms)
        z = (torch.randn(c, generator=g, dtype=torch.float64) * scale).tolist()
        weight = (torch.rand(c, generator=g, dtype=torch.float64) + 0.5).tolist() if i % 2 else None
        eps = [0.0, 0.1, 0.35][i % 4 % 3]
        kind = ["index", "index", "prob", "binary"][i % 4]
        y = torch.softmax(torch.randn(c, generator=g, dtype=torch.float64), 0).tolist()
        if kind == "binary":
            y = torch.rand(c, generator=g, dtype=torch.float64).tolist()
        mode = ["raw", "softmax", "sigmoid"][i % 3]
        cases.append(
            dict(kind=kind, z=z, t=int(torch.randint(0, c, (1,), generator=g)), y=y, weight=weight, eps=eps, mode=mode)
        )
    return cases


def _torch(case) -> dict:
    """torch.nn.functional's values for one case, float64, the gradient by autograd."""
    z = torch.tensor(case["z"], dtype=torch.float64, requires_grad=True)
    weight = None if case["weight"] is None else torch.tensor(case["weight"], dtype=torch.float64)
    if case["kind"] == "binary":
        y = torch.tensor(case["y"], dtype=torch.float64)
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        (grad,) = torch.autograd.grad(loss.sum(), z)
        return {"loss": loss.tolist(), "grad": grad.tolist()}
    if case["kind"] == "prob":
        x, target = z, torch.tensor(case["y"], dtype=torch.float64)
    else:
        x = {"raw": lambda v: v, "softmax": lambda v: torch.softmax(v, 0), "sigmoid": torch.sigmoid}[case["mode"]](z)
        target = torch.tensor(case["t"])
    loss = F.cross_entropy(x[None], target[None], weight, reduction="none", label_smoothing=case["eps"])[0]
    (grad,) = torch.autograd.grad(loss, z)
    return {"loss": loss.item(), "probs": torch.softmax(x.detach(), 0).tolist(), "grad": grad.tolist()}


def run_node(scripts: list[Path], cases: list[dict]) -> list[dict]:
    done = subprocess.run(
        [node(), "-e", _NODE], input=json.dumps([[str(p) for p in scripts], cases]), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def mismatches(got: list[dict], cases: list[dict]) -> list[str]:
    bad = []
    for i, (mine, case) in enumerate(zip(got, cases, strict=True)):
        expected = _torch(case)
        for key, want in expected.items():
            have = mine[key]
            pairs = zip(have, want, strict=True) if isinstance(want, list) else [(have, want)]
            for a, e in pairs:
                if a is None or not math.isfinite(a) or abs(a - e) > ATOL + RTOL * abs(e):
                    bad.append(f"case {i} ({case['kind']}, {case['mode']}, C={len(case['z'])}) {key}: {a} != {e}")
    return bad


SCRIPTS = [GENERATED / "vce_ce.js", GENERATED / "vce_binary.js", ROWS]


def test_the_javascript_printer_refuses_what_it_cannot_print():
    i, k, t = sp.symbols("i k t", integer=True)
    x = sp.IndexedBase("x")
    for expr in (sp.Sum(sp.exp(x[i]), (i, 0, 4)), sp.S.true, sp.KroneckerDelta(k, t)):
        with pytest.raises(UnprintableKernel):
            JavascriptKernelPrinter().doprint(expr)
    assert JavascriptKernelPrinter().doprint(-(sp.Symbol("z") ** 2)) == "-Math.pow(z, 2)"  # -z**2 is a JS SyntaxError


def test_the_emitted_scripts_match_torch_in_node():
    cases = _cases()
    bad = mismatches(run_node(SCRIPTS, cases), cases)
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:20])


def test_a_planted_wrong_emitted_expression_fails_the_node_check(tmp_path):
    text = (GENERATED / "vce_ce.js").read_text()
    right = "kernels.ce_grad_dense_smooth = function (e, w, a, b) {\n    return a*e - b*w;"
    assert right in text
    (tmp_path / "vce_ce.js").write_text(text.replace(right, right.replace("a*e - b*w", "a*e + b*w")))
    cases = [c for c in _cases(60) if c["kind"] == "index" and c["eps"] > 0]
    bad = mismatches(run_node([tmp_path / "vce_ce.js", GENERATED / "vce_binary.js", ROWS], cases), cases)
    assert bad, "a wrong gradient expression passed the Node check"


def _torch_row(z, t, mode="raw", weight=None, eps=0.0):
    """(loss, softmax of the fed input, dL/dz) of one row in float64, by torch."""
    zz = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    x = {"raw": lambda v: v, "softmax": lambda v: torch.softmax(v, 0), "sigmoid": torch.sigmoid}[mode](zz)
    w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    loss = F.cross_entropy(x[None], torch.tensor([t]), w, reduction="none", label_smoothing=eps)[0]
    (grad,) = torch.autograd.grad(loss, zz)
    return loss.item(), torch.softmax(x.detach(), 0).tolist(), grad.tolist()


def _shown(page, key) -> float:
    return float(page.locator(f'.vce-explorable [data-vce="{key}"]').first.get_attribute("data-value"))


def _assert_widget_matches(page, z, t, mode, weight=None, eps=0.0):
    loss, probs, grad = _torch_row(z, t, mode, weight, eps)
    assert math.isclose(_shown(page, "loss"), loss, rel_tol=1e-12, abs_tol=1e-14), (mode, z, t)
    for k in range(len(z)):
        assert math.isclose(_shown(page, f"p-{k}"), probs[k], rel_tol=1e-12, abs_tol=1e-14)
        assert math.isclose(_shown(page, f"g-{k}"), grad[k], rel_tol=1e-11, abs_tol=1e-14)


@pytest.mark.browser
def test_the_widget_drags_toggles_and_shows_torchs_numbers(site, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.problems.clear()
    browser.visit("softmax-cross-entropy/index.html")
    page = browser.page
    host = page.locator(".vce-explorable").first
    host.scroll_into_view_if_needed()
    assert host.get_attribute("data-mounted") == "true", "the explorable did not mount"
    assert page.locator(".vce-explorable .vce-static").count() == 0, "the static table stayed after mounting"
    _assert_widget_matches(page, [2.0, 1.0, 0.1], 0, "raw")
    host.screenshot(path=str(ARTIFACTS / "default.png"))

    page.locator('.vce-explorable [data-vce="z-1"]').first.fill("3.5")  # a slider
    _assert_widget_matches(page, [2.0, 3.5, 0.1], 0, "raw")
    page.locator('.vce-explorable [data-vce="z-2"]').first.focus()  # the keyboard: one step right
    page.keyboard.press("ArrowRight")
    _assert_widget_matches(page, [2.0, 3.5, 0.2], 0, "raw")
    page.locator('.vce-explorable [data-vce="target-2"]').first.check()
    _assert_widget_matches(page, [2.0, 3.5, 0.2], 2, "raw")

    page.locator('.vce-explorable [data-vce="mode-sigmoid"]').first.check()  # the bug
    _assert_widget_matches(page, [2.0, 3.5, 0.2], 2, "sigmoid")
    assert math.isclose(_shown(page, "best-prob"), math.e / (math.e + 2), rel_tol=1e-12)
    assert math.isclose(_shown(page, "loss-floor"), math.log(math.e + 2) - 1, rel_tol=1e-12)
    assert _shown(page, "loss") >= _shown(page, "loss-floor")
    host.screenshot(path=str(ARTIFACTS / "sigmoid-first.png"))

    page.locator('.vce-explorable [data-vce="zn-0"]').first.fill("1000")  # any value, typed: still finite
    page.locator('.vce-explorable [data-vce="zn-0"]').first.press("Enter")
    page.locator('.vce-explorable [data-vce="mode-raw"]').first.check()
    _assert_widget_matches(page, [1000.0, 3.5, 0.2], 2, "raw")
    page.locator('.vce-explorable [data-vce="eps"]').first.fill("0.2")
    page.locator('.vce-explorable [data-vce="weight"]').first.fill("2")
    _assert_widget_matches(page, [1000.0, 3.5, 0.2], 2, "raw", weight=[1, 1, 2], eps=0.2)
    classes = page.locator('.vce-explorable [data-vce="classes"]').first
    classes.fill("5")
    classes.press("Enter")
    _assert_widget_matches(page, [1000.0, 3.5, 0.2, 0.0, 0.0], 2, "raw", weight=[1, 1, 2, 1, 1], eps=0.2)
    assert not browser.problems, "\n".join(browser.problems)


@pytest.mark.browser
def test_the_troubleshooting_story_mounts_the_widget_in_the_bug_state(site, browser):
    browser.problems.clear()
    browser.visit("notebooks/troubleshooting/index.html")
    page = browser.page
    host = page.locator(".vce-explorable").first
    host.scroll_into_view_if_needed()
    assert host.get_attribute("data-mounted") == "true"
    _assert_widget_matches(page, [0.12, -0.05, 0.08], 1, "sigmoid")
    host.screenshot(path=str(ARTIFACTS / "troubleshooting.png"))
    assert not browser.problems, "\n".join(browser.problems)


def test_the_static_table_shows_the_same_numbers(site):
    """Without JavaScript the page shows the widget's numbers at its logits, computed by the same scripts."""
    text = (site.path / "softmax-cross-entropy" / "index.html").read_text()
    loss, _, _ = _torch_row([2.0, 1.0, 0.1], 0, "sigmoid")
    assert "vce-static-table" in text and f"sigmoid first (the bug): {loss:.4f}" in text
