"""The layout keeps its rules: no import circles, imports flow down the layers, modules stay small.

    derivations.engine -> (nothing else)     topics -> engine     emission -> engine, topics
    kernels never imports derivations or SymPy; explain imports no backend; torch and numpy not each other
    every hand-written module (kernels/_generated excepted) has at most 250 lines

The graph is read with ``ast`` (tests/_imports.py). Each rule is also run on a planted project in a temporary
folder whose violations it must find, so a checker that finds nothing cannot pass.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import _imports
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph() -> _imports.Graph:
    return _imports.read(ROOT)


def test_the_graph_sees_the_whole_project(graph):
    for name in ("derivations.engine.core", "derivations.topics.softmax", "derivations.emission.ce.forms",
                 "kernels.torch", "kernels.numpy._ce", "kernels.explain._rules", "hooks.claims_hook"):  # fmt: skip
        assert name in graph.modules, name
    assert "derivations.engine.core" in graph.edges["derivations.topics.softmax"]
    assert "hooks.claims_html" in graph.edges["hooks.claims_hook"]  # a bare-name import between hooks
    assert "kernels.torch._functional" in graph.edges["kernels.torch"]  # from kernels.torch._functional import ...


def test_there_are_no_import_circles(graph):
    assert _imports.cycles(graph) == []


def test_imports_flow_down_the_layers(graph):
    assert _imports.layer_violations(graph) == []


def test_no_hand_written_module_is_over_250_lines(graph):
    assert _imports.oversized(graph) == []


def _plant(root: Path, files: dict[str, str]) -> _imports.Graph:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return _imports.read(root)


PLANTED = {
    "derivations/__init__.py": "",
    "derivations/engine/__init__.py": "",
    "derivations/engine/core.py": "from derivations.topics import softmax\n",  # the engine knows a topic
    "derivations/topics/__init__.py": "",
    "derivations/topics/softmax.py": "import derivations.engine.core\nfrom derivations.emission import emit\n",
    "derivations/emission/__init__.py": "",
    "derivations/emission/emit.py": "import derivations.engine\n",  # allowed: emission imports the engine
    "kernels/__init__.py": "",
    "kernels/torch/__init__.py": "from kernels.torch._modules import CrossEntropyLoss\n",
    "kernels/torch/_modules.py": "from kernels.torch import cross_entropy\n",  # a circle through the package
    "kernels/numpy/__init__.py": "",
    "kernels/numpy/_ce.py": "import sympy\nfrom derivations.engine import core\nimport torch\n",
    "kernels/explain/__init__.py": "",
    "kernels/explain/_frontends.py": "def run():\n    import kernels.torch as kt\n    return kt\n",
    "hooks/a_hook.py": "import b_hook\n",
    "hooks/b_hook.py": "import a_hook\n",
    "benchmarks/__init__.py": "import kernels.torch\nimport derivations\n" + "x = 1\n" * 250,  # may import both
}


def test_the_checker_finds_planted_circles(tmp_path):
    found = _imports.cycles(_plant(tmp_path, PLANTED))
    assert sorted(found) == [
        ["derivations.engine.core", "derivations.topics.softmax"],  # the engine imports a topic that imports it
        ["hooks.a_hook", "hooks.b_hook"],  # bare-name imports between hooks
        ["kernels.torch", "kernels.torch._modules"],  # a package and a module it re-exports from
    ]


def test_the_checker_finds_planted_layer_violations(tmp_path):
    found = _imports.layer_violations(_plant(tmp_path, PLANTED))
    assert found == [
        "derivations.engine.core imports derivations.topics.softmax",
        "derivations.topics.softmax imports derivations.emission.emit",
        "kernels.explain._frontends imports kernels.torch",
        "kernels.numpy._ce imports derivations.engine.core",
        "kernels.numpy._ce imports sympy",
        "kernels.numpy._ce imports torch",
    ]


def test_the_checker_finds_a_planted_long_module(tmp_path):
    assert _imports.oversized(_plant(tmp_path, PLANTED)) == [
        f"{(tmp_path / 'benchmarks/__init__.py').as_posix()}: 252 lines"
    ]


def _unshipped(root: Path, patterns: list[str]) -> list[str]:
    """Folders of modules under derivations/ and kernels/ that lack an __init__.py or match no package pattern."""
    out = []
    for top in ("derivations", "kernels"):
        for folder in sorted({p.parent for p in (root / top).rglob("*.py")}):
            name = ".".join(folder.relative_to(root).parts)
            if not (folder / "__init__.py").is_file() or not any(fnmatch.fnmatch(name, p) for p in patterns):
                out.append(name)
    return out


def test_every_folder_of_modules_is_a_package_the_wheel_ships(tmp_path):
    """pyproject.toml's package patterns cover every folder of modules (an editable install would hide a miss)."""
    table = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.setuptools.packages.find]")[1]
    patterns = re.findall(r'"([^"]+)"', table.split("include = [")[1].split("]")[0])  # (tomllib needs 3.11)
    assert _unshipped(ROOT, patterns) == []
    _plant(tmp_path, {"kernels/__init__.py": "", "kernels/torch/__init__.py": "", "kernels/triton/_kernel.py": ""})
    assert _unshipped(tmp_path, patterns) == ["kernels.triton"]  # a planted folder without __init__.py
    assert _unshipped(tmp_path, ["kernels"]) == ["kernels.torch", "kernels.triton"]  # patterns that miss one
