"""The command line: run, sweep, results and the mounted pretrain command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from causalmix.cli import main
from causalmix.experiment import load_records


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_run_prints_the_metrics_of_one_run(untrained_checkpoint, tmp_path, capsys, data_dir):
    code = main(["run", "--dataset", "blood-transfusion", "--method", "mixup", "--n-train", "48", "--seed", "1",
                 "--model", str(untrained_checkpoint), "--device", "cpu", "--max-steps", "2", "--eval-every", "1",
                 "--set", "n_estimators=1", "--gen", "alpha=0.4", "--test-cap", "100", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "blood-transfusion-mixup-n48-s1-" in out and "best step" in out
    for label in ("val", "test", "pre-trained", "roc_auc", "log_loss"):
        assert label in out
    (record,) = load_records(tmp_path).to_dict("records")
    assert record["status"] == "ok" and record["gen_alpha"] == 0.4 and record["ft_max_steps"] == 2


def test_run_json_and_bad_input(untrained_checkpoint, capsys):
    code = main(["run", "--dataset", "blood-transfusion", "--method", "pretrained", "--n-train", "48",
                 "--model", str(untrained_checkpoint), "--device", "cpu", "--test-cap", "100", "--json", "--quiet"])
    record = json.loads(capsys.readouterr().out)
    assert code == 0 and record["method"] == "pretrained" and record["best_step"] == 0
    assert main(["run", "--dataset", "no-such-dataset", "--method", "finetune", "--model", str(untrained_checkpoint),
                 "--quiet"]) == 2
    assert "no-such-dataset" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["run", "--dataset", "adult", "--method", "nonsense"])
    assert exc.value.code == 2


def test_sweep_then_results_prints_a_summary_per_method(untrained_checkpoint, tmp_path, capsys):
    config = {"name": "cli", "model": str(untrained_checkpoint), "device": "cpu", "datasets": ["blood-transfusion", "diabetes"],
              "n_train": [48], "seeds": [0], "methods": ["pretrained", "finetune"], "test_cap": 100,
              "finetune": {"max_steps": 3, "eval_every": 1, "learning_rate": 3e-3, "n_estimators": 1}}
    path = tmp_path / "cli.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["sweep", str(path), "--out", str(tmp_path / "res"), "--plan"]) == 0
    plan = capsys.readouterr().out
    assert "4 runs, 0 recorded, 0 failed (retried), 4 to run" in plan and not (tmp_path / "res").exists()
    assert main(["sweep", str(path), "--out", str(tmp_path / "res"), "--quiet"]) == 0
    assert "4 runs, 4 ok, 0 failed, 0 skipped" in capsys.readouterr().out
    assert main(["sweep", str(path), "--out", str(tmp_path / "res"), "--plan"]) == 0
    plan = capsys.readouterr().out
    assert "4 runs, 4 recorded, 0 failed (retried), 0 to run" in plan and "this folder's 4 records" in plan
    assert main(["sweep", str(path), "--out", str(tmp_path / "res"), "--quiet"]) == 0
    assert "0 ok, 0 failed, 4 skipped" in capsys.readouterr().out
    assert main(["results", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    # The book's tables, through the report's functions: improvement (fine-tuning runs), ranks
    # (the pre-trained model included), validation reliability; one result version.
    assert "4 runs" in out and "median" in out and "average rank" in out and "flat curves" in out
    assert "result version: 1" in out and "warning:" not in out
    improvement = out.split("normalized test_roc_auc improvement")[1].split("average rank")[0]
    assert "default fine-tuning" in improvement and "pre-trained   " not in improvement
    assert "pre-trained" in out.split("average rank by")[1]
    assert main(["results", str(tmp_path / "empty")]) == 2


def test_usage_names_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    usage = capsys.readouterr().out.split("positional arguments")[0]
    assert exc.value.code == 0
    for command in ("run", "sweep", "results", "add-dataset", "publish", "verify", "pretrain"):
        assert command in usage


def test_pretrain_is_mounted_and_dispatched(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["pretrain", "--help"])
    assert exc.value.code == 0 and "--out-dir" in capsys.readouterr().out
    code = main(["pretrain", "--out-dir", str(tmp_path / "pre"), "--steps", "1", "--emsize", "16", "--nlayers", "1",
                 "--nhead", "1", "--batch-size", "2", "--max-rows", "64", "--overwrite", "--quiet"])
    assert code == 0 and (tmp_path / "pre" / "latest.ckpt").is_file()


def test_add_dataset_makes_a_csv_a_named_dataset(tmp_path, capsys, monkeypatch, untrained_checkpoint):
    from causalmix.data import DatasetError, load_dataset

    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    csv = tmp_path / "My Data.csv"
    pd.DataFrame({"label": np.where(x > 0, "yes", "no"), "x": x, "colour": rng.choice(["red", "blue"], 120)}).to_csv(
        csv, index=False)
    folder = tmp_path / "datasets"
    assert main(["add-dataset", str(csv), "--target", "label", "--data-dir", str(folder), "--name", "mine"]) == 0
    assert "Dataset('mine', rows=120, features=2 (1 categorical)" in capsys.readouterr().out
    monkeypatch.setenv("CAUSALMIX_DATA_DIR", str(folder))
    ds = load_dataset("mine")
    assert ds.classes == ("no", "yes") and list(ds.X.columns) == ["x", "colour"]
    assert ds.provenance["sha256"] == ds.provenance["manifest_sha256"]
    code = main(["run", "--dataset", "mine", "--method", "smote", "--n-train", "40", "--model", str(untrained_checkpoint),
                 "--device", "cpu", "--max-steps", "1", "--set", "n_estimators=1", "--test-cap", "50", "--quiet"])
    assert code == 0 and "mine-smote-n40-s0-" in capsys.readouterr().out
    # a second file joins the same manifest; a bad one is refused before anything is written
    assert main(["add-dataset", str(csv), "--target", "label", "--data-dir", str(folder), "--name", "again"]) == 0
    assert {"mine", "again"} <= {d["name"] for d in json.loads((folder / "manifest.json").read_text())["datasets"]}
    with pytest.raises(DatasetError, match="Target column 'nope'"):
        from causalmix.data import add_dataset

        add_dataset(csv, target="nope", data_dir=folder, name="bad")
    assert not (folder / "bad.csv.gz").exists()
