"""Bad input, the runner and the command line: names, folders, sizes and limits give one clear
message; concurrent sweeps compute each run once."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalmix.cli import main

from _bad_input import box, listing, assert_nothing_written, assert_written_only_inside, write_csv  # noqa: F401 - box is a fixture


# --- the runner and the command line (names, folders, sizes, limits, concurrent sweeps) -------------


RUN_FT = ["--max-steps", "1", "--set", "n_estimators=1", "--learning-rate", "1e-3", "--test-cap", "50", "--quiet"]


@pytest.mark.parametrize("name", ["../../escaped", "/abs/escaped"])
def test_cli_run_with_a_path_as_dataset_name_writes_nothing(box, capsys, name, untrained_checkpoint):
    before = listing(box)
    code = main(["run", "--dataset", name, "--method", "smote", "--out", str(box / "O"),
                 "--model", str(untrained_checkpoint), *RUN_FT])
    assert code == 2 and "Invalid dataset name" in capsys.readouterr().err
    assert_nothing_written(box, before)


def test_cli_run_on_a_csv_file_with_target(box, capsys, untrained_checkpoint, data_dir):
    path = write_csv(box, pd.read_csv(data_dir / "diabetes.csv.gz"), name="My Diabetes (v2).csv")
    before = listing(box)
    code = main(["run", "--dataset", str(path), "--target", "class", "--method", "finetune", "--n-train", "32",
                 "--out", str(box / "O"), "--model", str(untrained_checkpoint), *RUN_FT])
    assert code == 0, capsys.readouterr().err
    assert_written_only_inside(box, before, "O")
    (record,) = (box / "O" / "records").glob("*.json")
    assert record.name.startswith("My-Diabetes-v2-finetune-n32-s0-")
    assert main(["run", "--dataset", str(path), "--method", "finetune", "--quiet"]) == 2
    assert "--target" in capsys.readouterr().err


def test_cli_run_into_an_unwritable_folder_fails_before_computing(box, capsys, untrained_checkpoint):
    (box / "a-file").write_text("not a folder")
    code = main(["run", "--dataset", "diabetes", "--method", "finetune", "--out", str(box / "a-file" / "O"),
                 "--model", str(untrained_checkpoint), *RUN_FT])
    err = capsys.readouterr().err
    assert code == 2 and "not writable" in err and "nothing was computed" in err and "Traceback" not in err


def test_sweep_into_an_unwritable_folder_fails_before_computing(box, untrained_checkpoint):
    from causalmix.experiment import run_sweep

    (box / "a-file").write_text("not a folder")
    config = {"name": "x", "model": str(untrained_checkpoint), "datasets": ["diabetes"], "n_train": [32],
              "methods": ["pretrained"], "out_dir": str(box / "a-file" / "O")}
    with pytest.raises(ValueError, match="not writable"):
        run_sweep(config, progress=False)


@pytest.mark.parametrize("method, smallest", [("finetune", 8), ("smote", 8), ("pretrained", 8), ("causalmix", 20)])
def test_too_small_n_train_names_the_minimum_for_every_method(box, capsys, method, smallest):
    code = main(["run", "--dataset", "diabetes", "--method", method, "--n-train", "2", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and f"supports: {smallest} rows" in err and "Traceback" not in err


def test_negative_seed_and_n_train_larger_than_the_data(box, capsys, untrained_checkpoint):
    assert main(["run", "--dataset", "diabetes", "--seed", "-1", "--quiet"]) == 2
    assert "seed must be a non-negative int" in capsys.readouterr().err
    code = main(["run", "--dataset", "diabetes", "--n-train", "5000", "--method", "pretrained",
                 "--model", str(untrained_checkpoint), "--quiet"])
    assert code == 1 and "5000" in capsys.readouterr().err  # recorded as a failed run with the reason


def test_more_classes_than_the_model_head(box, capsys, untrained_checkpoint):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=240), "label": [f"c{i % 12}" for i in range(240)]})
    path = write_csv(box, df)
    code = main(["run", "--dataset", str(path), "--target", "label", "--method", "pretrained", "--n-train", "48",
                 "--model", str(untrained_checkpoint), "--quiet"])
    assert code == 1 and "12 classes" in capsys.readouterr().err


def test_unexpected_errors_are_one_message_and_debug_shows_the_traceback(box, capsys, monkeypatch):
    import causalmix.commands as commands

    def boom(args):
        raise RuntimeError("something odd")

    monkeypatch.setattr(commands, "cmd_results", boom)
    assert main(["results", str(box)]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError: something odd" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError):
        main(["results", str(box), "--debug"])


def test_two_concurrent_sweeps_compute_each_run_once(box, untrained_checkpoint):
    import subprocess
    import sys

    import yaml

    config = {"name": "pair", "model": str(untrained_checkpoint), "device": "cpu", "threads": 1,
              "datasets": ["diabetes", "blood-transfusion"], "n_train": [32], "seeds": [0, 1],
              "methods": ["pretrained", "finetune", "mixup"], "test_cap": 50,
              "finetune": {"max_steps": 2, "eval_every": 1, "learning_rate": 1e-3, "n_estimators": 1},
              "out_dir": str(box / "out")}
    path = box / "pair.yaml"
    path.write_text(yaml.safe_dump(config))
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [subprocess.Popen([sys.executable, "-m", "causalmix", "sweep", str(path), "--quiet"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    import re

    computed = [int(re.search(r"(\d+) ok", o).group(1)) for o in outs]
    assert sum(computed) == 12, outs  # each of the 12 runs computed by exactly one of the two sweeps
    records = [json.loads(p.read_text()) for p in (box / "out" / "records").glob("*.json")]
    assert len(records) == 12 and all(r["status"] == "ok" and r["attempts"] == 1 for r in records)
    assert not list((box / "out" / "claims").glob("*.json"))  # every claim released
    assert any("done by another sweep" in o for o in outs) or 0 in computed


def test_ctrl_c_lets_the_runs_in_progress_finish_and_starts_no_other(tmp_path, untrained_checkpoint):
    # A terminal's Ctrl-C goes to the whole process group: the workers ignore it, the sweep starts no other run,
    # and the runs in progress (those holding a claim) are recorded instead of lost.
    import signal
    import subprocess
    import sys
    import time

    import yaml

    config = {"name": "stop", "model": str(untrained_checkpoint), "device": "cpu", "threads": 1,
              "datasets": ["diabetes"], "n_train": [32], "seeds": list(range(8)), "methods": ["finetune"],
              "test_cap": 50, "finetune": {"max_steps": 40, "eval_every": 10, "learning_rate": 1e-3, "n_estimators": 1},
              "out_dir": str(tmp_path / "out")}
    path = tmp_path / "stop.yaml"
    path.write_text(yaml.safe_dump(config))
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # SIG_DFL in the child: a shell without job control starts background commands (e.g. `(pytest &)`) with
    # SIGINT ignored, and Python then keeps ignoring it (no KeyboardInterrupt, the sweep would just finish).
    sweep = subprocess.Popen([sys.executable, "-m", "causalmix", "sweep", str(path), "--jobs", "2", "--quiet"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    claims, deadline = set(), time.monotonic() + 300
    while len(claims) < 2 and time.monotonic() < deadline and sweep.poll() is None:
        time.sleep(0.05)
        claims = {p.stem for p in (tmp_path / "out" / "claims").glob("*.json")}
    assert len(claims) == 2, "two runs never ran at once"
    os.killpg(sweep.pid, signal.SIGINT)
    out, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 130, err
    # A run may finish (and the next start) between the claims seen above and the signal: read the counts
    # from the sweep's own message (the pool is refilled before each wait, so 2 are in progress while any wait),
    # then check that exactly the runs it did not leave waiting are recorded.
    stop = re.search(r"stopping: the (\d+) run\(s\) in progress finish and are recorded, the other (\d+) wait", err)
    assert stop, err
    in_progress, waiting = int(stop[1]), int(stop[2])
    records = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out" / "records").glob("*.json")}
    assert claims <= set(records) and all(r["status"] == "ok" for r in records.values())
    assert in_progress == 2 and waiting >= 1 and len(records) == 8 - waiting
    assert not list((tmp_path / "out" / "claims").glob("*.json"))


def test_cli_run_on_a_full_disk_shows_the_computed_record_instead_of_losing_it(box, capsys, monkeypatch,
                                                                               untrained_checkpoint):
    import causalmix.runs as runs

    def full(record, out_dir):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs, "write_record", full)
    code = main(["run", "--dataset", "blood-transfusion", "--method", "pretrained", "--n-train", "48", "--out",
                 str(box / "O"), "--model", str(untrained_checkpoint), *RUN_FT])
    out = capsys.readouterr()
    assert code == 2 and "could not be written" in out.err and "No space left" in out.err
    record = json.loads(out.out)
    assert record["status"] == "ok" and record["test_roc_auc"] is not None


def test_a_script_without_a_main_guard_is_told_what_broke_its_workers(tmp_path, untrained_checkpoint, data_dir):
    import subprocess
    import sys

    script = tmp_path / "sweep.py"
    script.write_text(
        "from causalmix.experiment import run_sweep\n"  # no `if __name__ == "__main__":` guard
        f"print(run_sweep({{'name': 'guardless', 'model': {str(untrained_checkpoint)!r}, 'device': 'cpu',\n"
        f"           'datasets': ['diabetes'], 'n_train': [32], 'seeds': [0, 1], 'methods': ['pretrained'],\n"
        f"           'test_cap': 50, 'out_dir': {str(tmp_path / 'out')!r}}}, jobs=2, progress=False))\n")
    env = {**os.environ, "CAUSALMIX_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert "2 x worker process died: a script running sweeps with jobs > 1 must guard them with `if __name__" in done.stdout
    assert not list((tmp_path / "out").glob("records/*.json"))  # nothing recorded: the runs are rerun next time


def test_records_of_other_inputs_are_explained_not_silently_rerun(tmp_path, monkeypatch, untrained_checkpoint, data_dir):
    # A folder's records whose inputs differ from this machine's (here: the dataset is not the local copy the
    # records used, as when CAUSALMIX_DATA_DIR is unset) match no run id; the plan says why instead of
    # silently counting every run as to do.
    import causalmix.runs
    from causalmix.experiment import expand_config, run_sweep
    from causalmix.plan import plan_sweep
    from causalmix.runs import unmatched_records

    out = tmp_path / "out"
    cfg = {"name": "other-inputs", "device": "cpu", "datasets": ["phoneme"], "n_train": [32], "seeds": [0, 1],
           "methods": ["pretrained"], "model": str(untrained_checkpoint), "out_dir": str(out)}
    specs = expand_config(cfg)
    run_sweep(cfg, progress=False)  # records as written on the machine with the local copy
    plan = plan_sweep(cfg)
    assert plan.note is None and int(plan.table["ok"].sum()) == 2

    monkeypatch.setattr(causalmix.runs, "dataset_fingerprint", lambda name: "openml:1489")
    plan = plan_sweep(cfg)
    assert int(plan.table["to_run"].sum()) == 2
    assert plan.note.startswith(f"2 of the runs to do have a record in {out} under another run id")
    assert "dataset file (1 dataset(s), e.g. phoneme: the records'" in plan.note and "here openml:1489" in plan.note
    assert "set CAUSALMIX_DATA_DIR" in str(plan) and "settings" not in plan.note

    monkeypatch.undo()
    other = expand_config({**cfg, "test_cap": 100})  # other settings: named as such, no data-folder hint
    note = unmatched_records(other, out, {s.run_id: "ok" for s in specs})
    assert "settings (1 dataset(s), e.g. phoneme)" in note and "dataset file" not in note
    assert "CAUSALMIX_DATA_DIR" not in note

    # other package versions (as in the main environment reading CTGAN's records): the package is named,
    # with both versions, and the note says to run in the environment that computed them
    here = causalmix.runs.result_versions()
    monkeypatch.setattr(causalmix.runs, "result_versions", lambda: {**here, "pandas": "0.0"})
    note = plan_sweep(cfg).note
    assert f"result versions (1 dataset(s), e.g. phoneme: pandas {here['pandas']} in the records, 0.0 here)" in note
    assert "run this in the environment that computed them" in note and "settings" not in note


def test_a_record_without_timings_or_metrics_loads_with_nan(tmp_path):
    from causalmix.records import load_records

    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "x.json").write_text(json.dumps(
        {"run_id": "x", "status": "failed", "method": "smote", "dataset": "phoneme", "n_train": 32, "seed": 0}))
    frame = load_records(tmp_path)
    assert len(frame) == 1 and frame[["wall_time_s", "test_roc_auc"]].isna().all().all()
