"""A CLI that documents itself: --help lists every --set/--gen key; values and generator parameters are
checked with the key named before anything runs; run shows its settings; sample writes synthetic rows;
no traceback on a closed pipe."""

import dataclasses
import sys

import pandas as pd
import pytest
import yaml

from causalmix.cli import main
from causalmix.finetuning import FinetuneConfig


def test_help_lists_every_set_and_gen_key(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for field in dataclasses.fields(FinetuneConfig):
        assert f"  {field.name} (" in out
    assert "max_steps (int, default 50): optimizer steps at most" in out
    assert "n_dags (int, default 3): DAGs drawn and fitted." in out and "k_neighbors (int, default 5)" in out


def test_values_and_generator_parameters_are_checked_before_running(tmp_path, capsys):
    assert main(["run", "--dataset", "diabetes", "--set", "synthetic_ratio=two"]) == 2
    assert "finetune.synthetic_ratio: expected float, got 'two'" in capsys.readouterr().err
    config = {"name": "typo", "datasets": ["diabetes"], "methods": ["pretrained", "causalmix"],
              "generators": {"causalmix": {"n_dag": 2}}, "out_dir": str(tmp_path / "out")}
    (tmp_path / "typo.yaml").write_text(yaml.safe_dump(config))
    assert main(["sweep", str(tmp_path / "typo.yaml"), "--plan"]) == 2
    err = capsys.readouterr().err
    assert "generators['causalmix'].n_dag: unknown parameter" in err and "Did you mean 'n_dags'?" in err


def test_sample_writes_synthetic_rows(tmp_path, capsys):
    out = tmp_path / "rows.csv"
    assert main(["sample", "--dataset", "diabetes", "--method", "smote", "--n-train", "64", "--n", "30",
                 "--with-real", "--out", str(out), "--quiet"]) == 0
    rows = pd.read_csv(out)
    assert (rows["source"] == "synthetic").sum() == 30 and (rows["source"] == "real").sum() == 64
    assert "written to" in capsys.readouterr().out
    assert main(["sample", "--dataset", "diabetes", "--method", "smote", "--gen", "k_neighbour=3",
                 "--out", str(out)]) == 2


def test_run_prints_its_settings(untrained_checkpoint, capsys, one_torch_thread):
    assert main(["run", "--dataset", "blood-transfusion", "--method", "finetune", "--n-train", "32",
                 "--model", str(untrained_checkpoint), "--device", "cpu", "--max-steps", "1", "--eval-every", "1",
                 "--test-cap", "40", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "settings: dataset blood-transfusion; method finetune; n_train 32" in out and "max_steps 1" in out


def test_no_traceback_on_a_closed_pipe(monkeypatch, capsys):
    """`causalmix sweep --plan | head`: the reader leaves, the command ends quietly with status 0."""

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["sweep", "smoke", "--plan"]) == 0
    monkeypatch.undo()
    assert "Traceback" not in capsys.readouterr().err
