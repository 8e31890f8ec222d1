"""The notebooks executed once per test session in the smoke configuration, in a scratch copy of the
book (tests/test_notebooks.py and tests/test_book.py share it through the session's temp folder)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from causalmix.provenance import REPO_ROOT
from causalmix.reproduce import notebooks, run_notebooks
from causalmix.study import load_study, run_study

# The smoke configuration (causalmix/configs/smoke.yaml); another YAML path can stand in for it while developing.
CONFIG = os.environ.get("CAUSALMIX_SMOKE_CONFIG", "smoke")
CONFIG_NAME = Path(CONFIG).stem
STEMS = [p.stem for p in notebooks()]


def book_root(tmp_path_factory) -> Path:
    """A scratch book: the repository's _config.yml, _toc.yml and book/*.md, results to come."""
    root = tmp_path_factory.getbasetemp() / "smoke-book"
    if not (root / "_toc.yml").is_file():
        (root / "book" / "results").mkdir(parents=True, exist_ok=True)
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(REPO_ROOT / name, root / name)
        for page in (REPO_ROOT / "book").glob("*.md"):
            shutil.copy(page, root / "book" / page.name)
        shutil.copytree(REPO_ROOT / "book" / "_static", root / "book" / "_static")
        # Stray pages a checkout has beside the book; -W fails if the build picks any of them up.
        for stray in (".pytest_cache/README.md", ".venv-ctgan/lib/LICENSE.md", "results/notes.md", "runs/bench/run.md",
                      "benchmarks/results/x.md"):
            (root / stray).parent.mkdir(parents=True, exist_ok=True)
            (root / stray).write_text("# not part of the book\n")
    return root


def execute(stem: str, tmp_path_factory) -> Path:
    """Execute one notebook (once per session) into the scratch book; return the executed copy.

    The study runs first, as ``make reproduce`` runs it (the notebooks only read its records); the
    notebooks run in order: asking for a later one executes the earlier ones first.
    """
    root = book_root(tmp_path_factory)
    status_file = root / "status.json"
    status = json.loads(status_file.read_text()) if status_file.is_file() else {}
    if "study" not in status:
        try:  # two single-thread runs at a time on 2 cores
            run_study(load_study(CONFIG, out_dir=root / "runs"), jobs=2, progress=False)
            status["study"] = {"ok": True}
        except Exception as err:  # recorded so that later tests report it instead of re-running
            status["study"] = {"ok": False, "error": str(err)}
        status_file.write_text(json.dumps(status, indent=1))
    if not status["study"]["ok"]:
        pytest.fail(f"The {CONFIG} study failed: {status['study']['error']}")
    for earlier in STEMS[: STEMS.index(stem) + 1]:
        if earlier not in status:
            try:
                seconds = run_notebooks(CONFIG, output_dir=root / "book" / "results", out_dir=root / "runs", only=[earlier])
                status[earlier] = {"ok": True, "seconds": seconds[earlier]}
            except Exception as err:  # recorded so that later tests report it instead of re-running
                status[earlier] = {"ok": False, "error": str(err)}
            status_file.write_text(json.dumps(status, indent=1))
        if not status[earlier]["ok"]:
            pytest.fail(f"Notebook {earlier} failed in the {CONFIG} configuration: {status[earlier]['error']}")
    return root / "book" / "results" / f"{stem}.ipynb"


def execute_all(tmp_path_factory) -> Path:
    """Every notebook executed; returns the scratch book's root."""
    for stem in STEMS:
        execute(stem, tmp_path_factory)
    return book_root(tmp_path_factory)
