"""Helpers of the bad-input tests (tests/test_bad_input_*.py): a sandbox folder and small tables."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalmix.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"

@pytest.fixture
def box(tmp_path, monkeypatch):
    """A sandbox: inputs under ``in/``, the data folder ``out/a/b/data``, the working directory ``cwd/``."""
    (tmp_path / "in").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def written(root: Path, before: set[str]) -> set[str]:
    """Paths that appeared under ``root`` since ``before``."""
    return listing(root) - before


def assert_nothing_written(root: Path, before: set[str]) -> None:
    assert written(root, before) == set()


def assert_written_only_inside(root: Path, before: set[str], folder: str) -> None:
    """New paths lie inside ``folder`` (or are the folders created on the way to it)."""
    inside = Path(folder)
    outside = {p for p in written(root, before) if Path(p) != inside and inside not in Path(p).parents
               and Path(p) not in inside.parents}
    assert outside == set()


def frame(n: int = 40, seed: int = 0, **extra) -> pd.DataFrame:
    """A small two-class table with a numeric and a categorical feature, plus ``extra`` columns."""
    rng = np.random.default_rng(seed)
    base = {"x": rng.normal(size=n).round(3), "colour": rng.choice(["r", "g", "b"], size=n)}
    return pd.DataFrame({**base, **extra, "label": np.array(["a", "b"])[np.arange(n) % 2]})


def write_csv(box: Path, df: pd.DataFrame, name: str = "mine.csv", **kwargs) -> Path:
    path = box / "in" / name
    df.to_csv(path, index=False, **kwargs)
    return path


def cli(*args: str) -> int:
    return main(["add-dataset", *map(str, args)])


DATA = "out/a/b/data"
