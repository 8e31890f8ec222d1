"""One results path: relative folders from the working folder everywhere; every reader uses only the
configuration's current records (the stale-record case of issue 31) and says how many it ignored."""

import yaml

from causalmix import report
from causalmix.cli import main
from causalmix.experiment import run_sweep


def _yaml(path, out, max_steps):
    cfg = {"name": "stale", "device": "cpu", "datasets": ["blood-transfusion"], "n_train": [32], "seeds": [0],
           "methods": ["pretrained", "finetune"], "test_cap": 60, "threads": 1, "out_dir": out,
           "finetune": {"max_steps": max_steps, "eval_every": 1, "patience": 1, "n_estimators": 1}}
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_stale_records_are_left_out_by_every_reader(tmp_path, monkeypatch, capsys, one_torch_thread):
    monkeypatch.chdir(tmp_path)
    old = _yaml(tmp_path / "old.yaml", "res", 1)  # an earlier sweep with other settings, same folder
    run_sweep(old, progress=False)
    new = _yaml(tmp_path / "stale.yaml", "res", 2)
    run_sweep(new, progress=False)
    assert report.results_dir(new) == tmp_path / "res"  # relative: from the working folder
    records, curves = report.load_results(new)
    assert len(records) == 2 and records.attrs["ignored"] == 2 and "2 other records" in report.ignored_text(records)
    assert set(curves["run_id"]) <= set(records["run_id"])
    assert main(["results", "res", "--metric", "accuracy"]) == 0
    out = capsys.readouterr().out
    assert "2 records outside the grid" in out and out.count("2 runs under res") == 1


def test_results_reads_a_published_study_by_name_or_path(capsys):
    assert main(["results", "standard", "--metric", "accuracy"]) == 0
    assert "under the published study 'standard'" in capsys.readouterr().out
    assert main(["results", str(report.REPO_ROOT / "published" / "standard"), "--metric", "accuracy"]) == 0
    assert "under the published study 'standard'" in capsys.readouterr().out
