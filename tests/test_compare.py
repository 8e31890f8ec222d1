"""`causalmix compare`: a CSV of the user's own, not in the shared datasets -> per-dataset table and report."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from causalmix.compare import answers, comparison_table, default_sizes, seed_interval


def _csv(path: Path, n: int = 160) -> Path:
    rng = np.random.default_rng(0)
    x1, x3 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-(1.5 * x1 - x3))), "yes", "no")
    pd.DataFrame({"x1": x1, "x2": x1 + rng.normal(size=n), "x3": x3, "colour": colour, "y": y}).to_csv(path, index=False)
    return path


def _records(values: dict[str, list[float]], pre: list[float]) -> pd.DataFrame:
    rows = []
    for method, scores in values.items():
        for seed, (s, p) in enumerate(zip(scores, pre)):
            rows.append({"dataset": "d", "n_train": 64, "seed": seed, "method": method, "status": "ok", "domain": None,
                         "test_roc_auc": s, "test_roc_auc_step0": p, "test_accuracy": s, "test_log_loss": 1 - s})
    return pd.DataFrame(rows)


def test_answers_use_the_book_vocabulary():
    pre = [0.80, 0.70, 0.75, 0.72]
    records = _records({"pretrained": pre, "finetune": [0.80, 0.70, 0.75, 0.72],
                        "causalmix": [0.82, 0.72, 0.77, 0.74], "smote": [0.70, 0.61, 0.66, 0.62]}, pre)
    by = {a["method"]: a for a in answers(records)}
    assert by["causalmix"]["verdict_pretrained"] == "supported" and by["causalmix"]["verdict_finetune"] == "supported"
    assert by["smote"]["verdict_pretrained"] == "contradicted"
    assert by["finetune"]["verdict_finetune"] is None and "pretrained" not in by
    table = comparison_table(records)
    assert list(table["seeds"]) == [4] * 4 and table["improvement_low"].iloc[2] > 0


def test_seed_interval_and_sizes():
    assert np.isnan(seed_interval([1.0]).low) and seed_interval([]).n_clusters == 0
    assert default_sizes(160) == [64] and default_sizes(10_000) == [64, 128, 256]


def test_compare_end_to_end(tmp_path, monkeypatch, capsys, one_torch_thread):
    """add -> compare -> report in a folder of the user's, with relative paths from the working folder."""
    from causalmix.cli import main

    shared = os.environ.get("CAUSALMIX_DATA_DIR")
    before = sorted(os.listdir(shared)) if shared else None
    monkeypatch.chdir(tmp_path)
    _csv(tmp_path / "vehicles.csv")
    args = ["compare", "vehicles.csv", "--target", "y", "--out", "mine", "--n-train", "32", "--seeds", "2",
            "--methods", "pretrained", "finetune", "causalmix", "--test-cap", "60", "--quiet",
            "--set", "max_steps=2", "--set", "eval_every=1", "--set", "n_estimators=1",
            "--set", "n_estimators_eval=1", "--gen", "n_bootstrap=2", "--gen", "n_dags=1"]
    assert main([*args, "--plan"]) == 0
    plan = capsys.readouterr().out
    assert "6 runs" in plan and "estimate" in plan and not (tmp_path / "mine" / "records").exists()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "CausalMixFT on vehicles:" in out and "vs default fine-tuning" in out
    assert any(v in out for v in ("supported", "inconclusive", "contradicted"))
    assert "vs pre-trained (% roc_auc)" in out
    report = (tmp_path / "mine" / "report.html").read_text()
    assert "data:image/svg+xml;base64," in report and "http" not in report.split("<body>")[1].split("Settings")[0]
    config = tmp_path / "mine" / "vehicles-compare.yaml"
    assert (tmp_path / "mine" / "data" / "vehicles.csv.gz").is_file() and config.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "vehicles.csv"]  # nothing else written
    if shared:
        assert sorted(os.listdir(shared)) == before and os.environ["CAUSALMIX_DATA_DIR"] == shared
    # a second call reuses every run and --json gives the answers
    assert main([*args, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert {a["method"] for a in got} == {"finetune", "causalmix"}


def test_the_own_dataset_page_shows_the_configuration_compare_writes():
    """book/own_dataset.md's YAML is what `causalmix compare passengers.csv --target survived` writes."""
    import re

    import yaml

    from causalmix.compare import compare_config
    from causalmix.report import REPO_ROOT

    page = (REPO_ROOT / "book" / "own_dataset.md").read_text()
    shown = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", page, flags=re.S)[0])
    written = compare_config("passengers", out_dir="/home/me/compare-passengers", n_train=default_sizes(900))
    assert shown == written
    assert "causalmix compare passengers.csv --target survived" in page
