"""MkDocs hook: each notebook is executed once per change of what it runs, and shown in the edition's language.

mkdocs-jupyter renders the notebooks (with ``execute: false``); this hook hands it, in place of the
``docs/notebooks/<nb>.py`` it would read, the notebook with its outputs:

- the outputs come from the build cache (hooks/build_cache.py), keyed on the notebook's code cells, the
  sources of ``derivations/`` and ``kernels/`` and the versions of what runs them; on a miss the notebook
  is executed here (nbclient, from the repository root), and an error in any cell fails the build;
- in the Korean edition the markdown cells are those of ``translations/ko/notebooks/<nb>.py``, whose code
  cells must be the English ones byte for byte (hooks/translations.py checks the structure; the build uses
  the English code cells, so both editions show the same run). Korean headings carry their English anchor
  as ``{#id}``, which is applied here to the heading and the table of contents.

Both editions share one execution: the second build to ask for a notebook waits for the first's result.
The notebooks a build lacks start executing as soon as it knows its files, two at a time in kernels of
their own (``on_files``), beside the claim check and the pages that need no notebook; a notebook's page
waits only for its own run.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import types
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import build_cache
import translations
from mkdocs.exceptions import PluginError
from mkdocs.structure.toc import get_toc

log = logging.getLogger("mkdocs.hooks.notebooks")
ROOT = Path(__file__).resolve().parent.parent
_TIMEOUT_S = 600
_RUNS_WITH = ("torch", "numpy", "sympy", "matplotlib", "ipykernel", "nbclient", "jupytext")
_HEADING = re.compile(r'<h([1-6]) id="[^"]*">(.*?)\s*\{#([\w.-]+)\}(<a class="anchor-link" href=")#[^"]*(">)', re.S)
#: What turns an executed notebook into a page: a change in any of them renders the pages afresh.
_RENDERS_WITH = build_cache.versions("mkdocs-jupyter", "nbconvert", "jupytext", "pygments", "mistune")
_SELF = build_cache.tree_hash(Path(__file__))
_TITLE_ANCHOR = re.compile(r"^(.*?)\s*\{#([\w.-]+)\}$", re.S)
#: Notebooks executed at once by one build (each in its own kernel process).
PARALLEL = 2
_state: dict = {}


def _read(path: Path):
    import jupytext

    return jupytext.read(path)


def _execute(nb, name: str) -> dict:
    """Run a notebook's code cells in a fresh kernel; their outputs and execution counts, in cell order."""
    import nbclient
    from nbclient.exceptions import CellExecutionError

    nb = copy.deepcopy(nb)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    client = nbclient.NotebookClient(
        nb, timeout=_TIMEOUT_S, kernel_name="python3", allow_errors=False, resources={"metadata": {"path": str(ROOT)}}
    )
    log.info("executing %s", name)
    try:
        client.execute()
    except CellExecutionError as exc:
        raise PluginError(f"{name}: a cell failed when the notebook was executed:\n{str(exc)[-3000:]}") from None
    code = [c for c in nb.cells if c.cell_type == "code"]
    return {"outputs": [c.outputs for c in code], "counts": [c.execution_count for c in code]}


def run_key(nb) -> str:
    """What a notebook's outputs depend on: its code, the project's sources and the versions that run them."""
    code = "\0".join(c.source for c in nb.cells if c.cell_type == "code")
    return build_cache.key(
        "notebook",
        code,
        build_cache.tree_hash(ROOT / "derivations"),
        build_cache.tree_hash(ROOT / "kernels"),
        build_cache.versions(*_RUNS_WITH),
    )


def _localized(nb, src: Path, lang: str):
    """The English notebook with the markdown cells of its translation, when there is a usable one."""
    if lang == "en":
        return nb, None
    path = translations.translation_path(src, lang)
    if not path.exists():
        return nb, "missing"
    _, recorded, body = translations.read(path)
    import jupytext

    local = jupytext.reads(body, fmt="py:percent")
    if [c.cell_type for c in local.cells] != [c.cell_type for c in nb.cells]:
        log.warning("%s: its cells are not those of %s; the English notebook is shown", path, src)
        return nb, "missing"
    merged = copy.deepcopy(nb)
    for cell, mine in zip(merged.cells, local.cells, strict=True):
        if cell.cell_type == "markdown":
            cell.source = mine.source
    return merged, None if recorded == translations.source_hash(src) else "stale"


def _prefetch(src: Path) -> None:
    """Execute ``src`` into the cache unless it is there or another build (or thread) is executing it."""
    english = _read(src)
    key = run_key(english)
    if build_cache.get("notebooks", key) is not None:
        return
    lock = build_cache.Lock("notebooks", key)
    if not lock.acquire(block=False):
        return  # someone else runs it; the page waits for their result
    try:
        if build_cache.get("notebooks", key) is None:
            build_cache.put("notebooks", key, _execute(english, src.name))
    finally:
        lock.release()


def notebook(src: Path, lang: str):
    """The notebook a page shows: prose in ``lang``, outputs from the cache (executed on a miss)."""
    started: Future | None = _state.get("prefetch", {}).get(src)
    if started is not None:
        started.result()  # its own run first: a cell's error is raised here, once
    english = _read(src)
    ran = build_cache.get_or_compute("notebooks", run_key(english), lambda: _execute(english, src.name))
    nb, state = _localized(english, src, lang)
    import nbformat

    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell, outputs, count in zip(code, ran["outputs"], ran["counts"], strict=True):
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        cell.execution_count = count
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # jupytext draws random ids: fixed ones make the page, and its cache key, repeatable
    return nb, state


def _toc_tokens(items) -> list[dict]:
    return [{"level": i.level, "id": i.id, "name": i.title, "children": _toc_tokens(i.children)} for i in items]


class _Reading:
    """mkdocs-jupyter's converter reads ``path`` through jupytext; while rendering, it gets ``nb`` instead."""

    def __init__(self, path: str, nb):
        import mkdocs_jupyter.nbconvert2 as converter

        self.converter, self.path, self.nb = converter, path, nb

    def __enter__(self):
        real = self.converter.jupytext
        path, nb = self.path, self.nb
        self.real = real
        self.converter.jupytext = types.SimpleNamespace(
            read=lambda p, *a, **k: copy.deepcopy(nb) if str(p) == path else real.read(p, *a, **k),
            writes=real.writes,
            reads=real.reads,
        )

    def __exit__(self, *exc):
        self.converter.jupytext = self.real


def _english_anchors(page) -> None:
    """Apply ``{#id}`` of translated headings to the rendered headings and to the page's table of contents."""
    page.content = _HEADING.sub(lambda m: f'<h{m[1]} id="{m[3]}">{m[2]}{m[4]}#{m[3]}{m[5]}', page.content)

    def walk(items):
        for item in items:
            m = _TITLE_ANCHOR.match(item.title)
            if m:
                item.title, item.id = m.group(1), m.group(2)
            walk(item.children)

    walk(page.toc)


def on_config(config):
    _state["lang"] = config.theme["language"]
    jupyter = config.plugins.get("mkdocs-jupyter")
    _state["options"] = json.dumps(dict(jupyter.config), sort_keys=True, default=str)
    if jupyter is not None and jupyter.config["execute"]:
        raise PluginError("mkdocs-jupyter must have execute: false: hooks/notebook_hook.py executes and caches")
    return config


def on_files(files, config):
    """Start executing every notebook the cache lacks, ``PARALLEL`` at a time, while the build goes on."""
    on_shutdown()
    sources = [Path(f.abs_src_path) for f in files if f.src_uri.startswith("notebooks/") and f.src_uri.endswith(".py")]
    pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="notebook")
    _state["pool"], _state["prefetch"] = pool, {src: pool.submit(_prefetch, src) for src in sources}
    return files


def on_post_build(config) -> None:
    on_shutdown()


def on_build_error(error) -> None:
    on_shutdown()


def on_shutdown() -> None:
    """Wait for the runs started (a kernel is never left running), then forget them."""
    pool = _state.pop("pool", None)
    _state.pop("prefetch", None)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def on_pre_page(page, config, files):
    src = Path(page.file.abs_src_path or "")
    if src.suffix != ".py" or not getattr(page, "nb_url", None):  # mkdocs-jupyter marks its pages with nb_url
        return page
    rendered = page.render
    lang = _state["lang"]

    def render(self, config, files):
        nb, state = notebook(src, lang)
        self.translation = state
        k = build_cache.key(
            "notebook-page", json.dumps(nb, sort_keys=True), lang, _RENDERS_WITH, _state["options"], _SELF
        )

        def convert() -> dict:
            with _Reading(str(src), nb):
                rendered(config, files)
            if lang != "en":
                _english_anchors(self)
            return {"content": self.content, "toc": _toc_tokens(self.toc)}

        page_html = build_cache.get_or_compute("notebook-pages", k, convert)
        self.content, self.toc = page_html["content"], get_toc(page_html["toc"])

    page.render = types.MethodType(render, page)
    return page
