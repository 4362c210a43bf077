"""A child process that builds another edition of the site on request, kept alive across ``mkdocs serve`` rebuilds.

A fresh ``mkdocs build`` pays seconds of imports and plugin loading before it reads a page; a worker that
stays up pays them once, so each rebuild of the second edition costs only its pages. The parent
(hooks/edition_hook.py) talks to it over pipes, one JSON object per line:

    request   {"id": 3, "site_dir": "/tmp/vce-ko-xxxx"}
    answer    {"id": 3, "ok": true, "warnings": ["..."], "error": null}

Before each build the worker forgets the modules it imported from this repository (the hooks' helpers,
derivations/, kernels/), so an edit to any of them is seen, as in a fresh process; the expensive results
come from the build cache (hooks/build_cache.py) either way. The answer goes out on a private copy of the
original stdout; anything a plugin prints goes to stderr, which the parent discards.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import subprocess
import sys
import threading
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_WORKERS: dict[str, Worker] = {}  # config file -> its worker; this module stays loaded across rebuilds


class _Collect(logging.Handler):
    """Keeps the text of every WARNING and ERROR a build logs (the parent reports them, and fails in strict mode)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


def _forget_project_modules() -> None:
    root = str(ROOT)
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if name != "__main__" and path.startswith(root) and not path.startswith(str(ROOT / ".venv")):
            del sys.modules[name]


def _build(config_file: str, site_dir: str) -> tuple[bool, list[str], str | None]:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    _forget_project_modules()
    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        config = load_config(config_file=config_file, site_dir=site_dir)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
        return True, collect.messages, None
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent, which raises it there
        if isinstance(exc, KeyboardInterrupt):
            raise
        logged = [m for m in collect.messages if m.startswith("ERROR")]  # a config error is logged, then Abort
        return False, collect.messages, "\n".join([*logged, "".join(traceback.format_exception(exc))[-3000:]])
    finally:
        logger.removeHandler(collect)


def serve(config_file: str) -> None:
    """The worker's loop: one build per request line on stdin, one answer line on the original stdout."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # what plugins print must not reach the answers
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    for line in sys.stdin:
        request = json.loads(line)
        ok, warnings, error = _build(config_file, request["site_dir"])
        answers.write(json.dumps({"id": request["id"], "ok": ok, "warnings": warnings, "error": error}) + "\n")


class Worker:
    """The parent's handle on one worker process for one config file."""

    def __init__(self, config_file: Path):
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(config_file)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.next_id = 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, site_dir: Path) -> int:
        self.next_id += 1
        self.proc.stdin.write(json.dumps({"id": self.next_id, "site_dir": str(site_dir)}) + "\n")
        self.proc.stdin.flush()
        return self.next_id

    def answer(self, request_id: int, timeout: float) -> dict:
        """The answer to ``request_id`` (earlier answers, of builds nobody waited for, are skipped); a
        TimeoutError, with the worker stopped, if it takes longer than ``timeout`` seconds."""
        got: dict = {}

        def read() -> None:
            try:
                while True:
                    line = self.proc.stdout.readline()
                    if not line:
                        got["error"] = f"the edition worker exited (status {self.proc.wait()}) before answering"
                        return
                    answer = json.loads(line)
                    if answer["id"] == request_id:
                        got["answer"] = answer
                        return
            except (OSError, ValueError) as exc:  # the pipe closed by stop(), or a garbled line
                got["error"] = f"the edition worker's answer could not be read: {exc}"

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.stop()
            raise TimeoutError(f"the edition worker took longer than {timeout:.0f} s and was stopped")
        if "error" in got:
            self.stop()
            raise RuntimeError(got["error"])
        return got["answer"]

    def stop(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()


def worker(config_file: Path) -> Worker:
    """The running worker for ``config_file``, started if there is none (or it died)."""
    key = str(config_file)
    if key not in _WORKERS or not _WORKERS[key].alive():
        _WORKERS[key] = Worker(config_file)
    return _WORKERS[key]


def stop_all() -> None:
    while _WORKERS:
        _WORKERS.popitem()[1].stop()


atexit.register(stop_all)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "hooks"))
    serve(sys.argv[1])
