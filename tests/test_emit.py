"""Code generation: kernels/_generated/ is exactly what `python -m derivations emit` writes, and safely.

Drift: a fresh emission into a temporary folder is compared with the checked-in files, every byte
(`pytest --update-generated` accepts the change). Determinism under PYTHONHASHSEED, the banner, the
docstrings, ruff, atomic writes that stay inside _generated/, the refusal to emit a kernel that can overflow,
and `import kernels` with SymPy blocked are tested here too. The emitted kernels' math (the overflow check,
the kernel claims, the printers, emitted functions against their expressions) is in tests/test_emit_kernels.py.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from derivations import emission
from derivations.emission import emit, formatter, render
from derivations.emission.kernel import ZT, Kernel, Z
from derivations.emission.overflow import OverflowRisk

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fresh() -> dict[str, str]:
    return render.render()


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "_generated"
    root.mkdir()
    return root


def test_checked_in_files_match_a_fresh_emission(fresh, tmp_path, request):
    root = _folder(tmp_path)
    emit.write(fresh, root)
    assert sorted(p.name for p in root.iterdir()) == sorted(fresh), "emission wrote other files than it rendered"
    diff = emit.compare({p.name: p.read_text(encoding="utf-8") for p in root.iterdir()}, emit.GENERATED)
    if diff and request.config.getoption("--update-generated"):
        emit.write(fresh, emit.GENERATED)
        diff = emit.compare(fresh, emit.GENERATED)
    assert not diff, (
        "kernels/_generated/ drifted (run `python -m derivations emit` or pytest --update-generated):\n" + diff
    )
    for name in fresh:  # every byte, not only the text
        assert (root / name).read_bytes() == (emit.GENERATED / name).read_bytes(), name


def test_check_mode_reports_drift_with_a_diff_and_writes_nothing(fresh, tmp_path, capsys):
    root = _folder(tmp_path)
    emit.write(fresh, root)
    assert emit.main(check_only=True, root=root) == 0
    target = root / "torch_ce.py"
    target.write_text(target.read_text(encoding="utf-8").replace("torch.log(d)", "torch.log(d + 1)"), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    capsys.readouterr()
    assert emit.main(check_only=True, root=root) == 1
    out = capsys.readouterr().out
    assert "--- kernels/_generated/torch_ce.py" in out and "-    return wt * (torch.log(d + 1)" in out
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before


def test_check_mode_reports_drift_in_the_sites_scripts(fresh, tmp_path, capsys):
    """The emitted JavaScript (docs/javascripts/_generated/) is held byte for byte too; a stale or edited script
    without the banner is never removed."""
    (tmp_path / "js").mkdir()
    root, js_root = _folder(tmp_path), _folder(tmp_path / "js")
    emit.write(fresh, root)
    emit.write(render.render_javascript(), js_root)
    assert emit.main(check_only=True, root=root, js_root=js_root) == 0
    target = js_root / "vce_ce.js"
    target.write_text(target.read_text(encoding="utf-8").replace("m + Math.log(d)", "m + Math.log(d + 1)"))
    capsys.readouterr()
    assert emit.main(check_only=True, root=root, js_root=js_root) == 1
    out = capsys.readouterr().out
    assert "--- docs/javascripts/_generated/vce_ce.js" in out and "-    return m + Math.log(d + 1);" in out
    (js_root / "mine.js").write_text("// hand-written\n")
    assert emit.main(root=root, js_root=js_root) == 0
    assert (js_root / "mine.js").exists() and "Math.log(d + 1)" not in target.read_text()


def _digest_in_subprocess(seed: str) -> str:
    code = "import hashlib; from derivations.emission import render; f = render.render(); "
    code += "print(hashlib.sha256(repr(sorted(f.items())).encode()).hexdigest())"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_emission_is_identical_under_any_hash_seed(fresh):
    here = hashlib.sha256(repr(sorted(fresh.items())).encode()).hexdigest()
    assert {_digest_in_subprocess(seed) for seed in ("0", "4242")} == {here}


def test_every_file_carries_the_banner_and_every_function_its_expression_claim_and_arguments(fresh):
    claims = {c.id: c.source for c in emission.claims()}
    sources = {k.name: k.source for k in emission.kernels()}
    for name, text in fresh.items():
        first = text.splitlines()[0]
        assert first.startswith("# generated from derivations/") and first.endswith(
            f"by `python -m derivations emit` with SymPy {sp.__version__}; do not edit"
        ), name
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                doc = ast.get_docstring(node)
                assert f"generated from {sources[node.name.removesuffix('_into')]} " in first  # <kernel>_into too
                assert "SymPy: " in doc, node.name
                claim, source = doc.split("Claim: ")[1].split(",")[0].split(" (")
                assert claim in claims and "kernels.md" in doc, (node.name, claim)
                assert source == f"{claims[claim]})", (node.name, source)  # the file that proves it
                args = doc.split("Args:\n")[1].splitlines()
                named = [line.split(":")[0].strip() for line in args if line.startswith("    ") and ":" in line]
                assert named == [a.arg for a in node.args.args], (node.name, named)  # every argument, in order


def test_generated_code_is_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run([ruff, *args, str(emit.GENERATED)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", ["../evil.py", "sub/x.py", "/tmp/x.py", "Bad.py", "x.txt"])
def test_writes_refuse_paths_outside_the_generated_folder(tmp_path, name):
    root = _folder(tmp_path)
    with pytest.raises(ValueError, match="refusing"):
        emit.write({name: "x = 1\n"}, root)
    assert not any(tmp_path.rglob("evil.py")) and list(root.iterdir()) == []


def test_writes_refuse_other_folders_and_symlinks(fresh, tmp_path):
    other = tmp_path / "kernels"
    other.mkdir()
    with pytest.raises(ValueError, match="only into an existing _generated"):
        emit.write(fresh, other)
    root = _folder(tmp_path)
    outside = tmp_path / "outside.py"
    outside.write_text("kept = True\n")
    (root / "numpy_ce.py").symlink_to(outside)
    with pytest.raises(ValueError, match="resolves outside"):
        emit.write(fresh, root)
    assert outside.read_text() == "kept = True\n"


def test_writes_are_atomic_and_remove_only_emitted_stale_files(fresh, tmp_path, monkeypatch):
    root = _folder(tmp_path)
    (root / "notes.py").write_text("# hand-written, no banner\n")
    (root / "torch_old.py").write_text(render.banner("derivations/emission/ce/forms.py") + "\n")
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(
        os, "replace", lambda src, dst: (replaced.append((Path(src), Path(dst))), real_replace(src, dst))
    )
    written, removed = emit.write(fresh, root)
    assert sorted(written) == sorted(fresh) and removed == ["torch_old.py"]
    assert (root / "notes.py").exists(), "a file without the banner was removed"
    assert all(src.parent == root and src.name.startswith(".") and dst.parent == root for src, dst in replaced)
    assert sorted(p.name for p in root.iterdir()) == sorted([*fresh, "notes.py"]), "temporary files left behind"

    def fail(src, dst):
        raise OSError("disk full")

    (root / "torch_ce.py").write_text("old\n")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        emit.write(fresh, root)
    assert (root / "torch_ce.py").read_text() == "old\n", "a failed write must leave the old file whole"
    assert not [p for p in root.iterdir() if p.name.startswith(".")], "temporary file left after a failed write"


def test_emission_refuses_a_planted_unstable_kernel_and_writes_nothing(monkeypatch, tmp_path, capsys):
    table = emission.kernels()
    bad = Kernel(
        "naive_probs", sp.exp(Z) / sp.exp(ZT), (Z, ZT), "kernel.probs", "textbook softmax", family="ce",
        source=table[0].source,
    )  # fmt: skip
    monkeypatch.setattr(render, "kernels", lambda: [*table, bad])
    with pytest.raises(OverflowRisk, match="naive_probs"):
        render.render()
    root = _folder(tmp_path)
    assert emit.main(root=root) == 2 and list(root.iterdir()) == []
    assert "naive_probs" in capsys.readouterr().err


def test_kernels_import_without_sympy():
    """kernels never imports SymPy (nor derivations); torch itself may, for its compiler: a custom operator's
    first call imports torch._dynamo, which imports SymPy, torch's own dependency. Only imports made from
    torch's package (and SymPy's own, once torch has begun) are let through."""
    code = """
import importlib.abc, os, sys
import torch
TORCH = os.path.dirname(torch.__file__)
def from_torch():
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith("<frozen"):
        frame = frame.f_back
    name = "" if frame is None else frame.f_code.co_filename
    return name.startswith(TORCH) or f"{os.sep}sympy{os.sep}" in name  # torch, or SymPy importing its own parts
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if (name == "sympy" or name.startswith("sympy.")) and not from_torch():
            raise ImportError("sympy is blocked in this test")
sys.meta_path.insert(0, Block())
import kernels, kernels.torch, kernels.numpy
import torch
x = torch.randn(3, 4, requires_grad=True)
kernels.torch.cross_entropy(x, torch.tensor([0, 1, 3])).backward()
kernels.numpy.cross_entropy(x.detach().numpy(), [0, 1, 3])
assert not [m for m in sys.modules if m == "derivations" or m.startswith("derivations.")]
print("imported without sympy")
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "imported without sympy" in done.stdout, done.stderr


def test_emission_uses_the_pinned_ruff():
    """The emitted bytes depend on the formatter: the installed ruff is the one pyproject.toml pins."""
    assert formatter.installed_ruff() == formatter.pinned_ruff()


@pytest.mark.parametrize("installed", ["0.0.1", None], ids=["other-version", "missing"])
def test_emission_refuses_another_ruff_and_names_the_fix(installed, monkeypatch, tmp_path, capsys):
    root = _folder(tmp_path)
    monkeypatch.setattr(formatter, "installed_ruff", lambda: installed)
    assert emit.main(check_only=False, root=root) == 2
    err = capsys.readouterr().err
    assert f"pip install ruff=={formatter.pinned_ruff()}" in err
    assert ("not installed" if installed is None else "ruff 0.0.1 is installed") in err
    assert list(root.iterdir()) == []  # nothing written
