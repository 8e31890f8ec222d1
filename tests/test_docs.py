"""The README's and the book's Python code blocks run as written, so they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "book").glob("*.md"))]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_the_docs_have_python_blocks():
    assert python_blocks(ROOT / "README.md") and python_blocks(ROOT / "book" / "own_dataset.md")


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in DOCS if python_blocks(p)], ids=lambda p: p.name)
def test_python_blocks_run(path, tmp_path, monkeypatch, data_dir, untrained_checkpoint):
    monkeypatch.chdir(tmp_path)
    if path.name == "own_dataset.md":
        # The page's YAML sweep, run small on a shared dataset standing in for "my-data".
        config = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", path.read_text(), flags=re.S)[0])
        config.update(model=str(untrained_checkpoint), datasets=["diabetes"], n_train=[48], seeds=[0],
                      methods=["pretrained", "finetune", "mixup"], test_cap=100, device="cpu",
                      finetune={"max_steps": 2, "eval_every": 1, "learning_rate": 1e-3, "n_estimators": 1},
                      out_dir=str(tmp_path / "results" / "my-data"))
        (tmp_path / "my-data.yaml").write_text(yaml.safe_dump(config))
        from causalmix.experiment import run_sweep

        assert run_sweep(tmp_path / "my-data.yaml", progress=False).n_failed == 0
    namespace: dict = {}
    for block in python_blocks(path):
        exec(compile(block, f"{path.name} code block", "exec"), namespace)  # noqa: S102 - the docs are ours
