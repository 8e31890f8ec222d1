"""The experiment runner: records, provenance, generator fits, failures, determinism, and a sweep
that survives SIGKILL in a real subprocess without losing or duplicating runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import causalmix.generators as generators
from causalmix.experiment import (
    RunRecord,
    RunSpec,
    execute_run,
    expand_config,
    load_curves,
    load_records,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[1]
FT = {"max_steps": 2, "eval_every": 1, "learning_rate": 1e-3, "n_estimators": 1}
TIMING_FIELDS = {"wall_time_s", "cpu_time_s", "timings", "generator_cached"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _spec(ckpt, **kw):
    base = dict(dataset="blood-transfusion", n_train=48, seed=0, method="finetune", model=str(ckpt), device="cpu",
                finetune=FT, test_cap=100)
    return RunSpec(**{**base, **kw})


def _comparable(record: RunRecord) -> dict:
    return {k: v for k, v in record.to_dict().items() if k not in TIMING_FIELDS}


def test_run_ids_and_hashes_follow_the_spec(untrained_checkpoint):
    a = _spec(untrained_checkpoint)
    assert a.run_id == _spec(untrained_checkpoint).run_id
    assert a.run_id.startswith("blood-transfusion-finetune-n48-s0-")
    assert a.config_hash != _spec(untrained_checkpoint, finetune={**FT, "learning_rate": 1e-4}).config_hash
    assert a.config_hash == _spec(untrained_checkpoint, device="cuda").config_hash  # device is not the question
    with pytest.raises(ValueError, match="Unknown method 'smot'"):
        _spec(untrained_checkpoint, method="smot")
    with pytest.raises(ValueError, match="Unknown fine-tuning parameters"):
        _spec(untrained_checkpoint, finetune={"steps": 3})
    with pytest.raises(ValueError, match="domain must be"):
        _spec(untrained_checkpoint, domain={"column": "recency"})


def test_same_seed_gives_identical_records_and_every_run_fits_its_own_generator(untrained_checkpoint, tmp_path, data_dir):
    spec = _spec(untrained_checkpoint, method="gaussian_copula")
    first = execute_run(spec, out_dir=tmp_path)
    again = execute_run(spec, out_dir=tmp_path / "again")
    assert first.status == "ok", first.error
    assert _comparable(first) == _comparable(again)
    pd.testing.assert_frame_equal(first.curve, again.curve)
    # Same split and generator config, other fine-tuning settings: the generator is fitted again (no
    # pickled cache in a results folder, which is shared) and the fit is the same.
    other = execute_run(_spec(untrained_checkpoint, method="gaussian_copula", finetune={**FT, "max_steps": 3}),
                        out_dir=tmp_path)
    assert (first.generator_cached, other.generator_cached) == (False, False)
    assert not (tmp_path / "generators").exists()
    assert other.timings["generator_fit"] > 0.0 and first.timings["generator_fit"] > 0.0
    # Provenance.
    assert first.dataset_sha256 and len(first.dataset_sha256) == 64
    assert first.git_commit != "" and first.versions["torch"] == torch.__version__
    assert "cores" in first.hardware and first.device == "cpu"
    assert first.n_val == 12 and first.domain is None and first.n_steps == 2
    assert not np.isnan(first.test_roc_auc_step0) and np.isnan(first.test_ood_roc_auc)


def test_a_failing_generator_is_recorded_with_its_reason_and_the_sweep_goes_on(untrained_checkpoint, tmp_path, monkeypatch):
    class Broken(generators.SMOTEGenerator):
        def _fit(self, Xe, ye):
            raise RuntimeError("the generator broke on purpose")

    monkeypatch.setitem(generators.GENERATORS, "smote", Broken)
    config = {"name": "t", "model": str(untrained_checkpoint), "device": "cpu", "datasets": ["blood-transfusion"],
              "n_train": [48], "seeds": [0], "methods": ["pretrained", "smote"], "finetune": FT, "test_cap": 100}
    summary = run_sweep(config, out_dir=tmp_path, progress=False)
    assert (summary.n_ok, summary.n_failed, summary.n_skipped) == (1, 1, 0)
    (reason,) = summary.failures.values()
    assert reason == "RuntimeError: the generator broke on purpose"
    assert "1 x RuntimeError: the generator broke on purpose" in str(summary)
    records = load_records(tmp_path).set_index("method")
    assert records.loc["smote", "status"] == "failed"
    assert "broke on purpose" in records.loc["smote", "error"]
    assert np.isnan(records.loc["smote", "test_roc_auc"])
    assert records.loc["pretrained", "status"] == "ok" and records.loc["pretrained", "best_step"] == 0
    # Rerunning with failures kept skips everything already recorded ...
    kept = run_sweep(config, out_dir=tmp_path, progress=False, retry_failed=False)
    assert (kept.n_ok, kept.n_failed, kept.n_skipped) == (0, 0, 2)
    # ... by default the failed run is retried; its record keeps the attempts and the last error.
    again = run_sweep(config, out_dir=tmp_path, progress=False)
    assert (again.n_ok, again.n_failed, again.n_skipped, again.n_retried) == (0, 1, 1, 1)
    records = load_records(tmp_path).set_index("method")
    assert records.loc["smote", "attempts"] == 2 and "broke on purpose" in records.loc["smote", "error"]
    monkeypatch.setitem(generators.GENERATORS, "smote", generators.SMOTEGenerator)  # the bug is fixed ...
    fixed = run_sweep(config, out_dir=tmp_path, progress=False)  # ... and the next sweep picks the run up
    assert (fixed.n_ok, fixed.n_failed, fixed.n_skipped) == (1, 0, 1)
    records = load_records(tmp_path).set_index("method")
    assert records.loc["smote", "status"] == "ok" and records.loc["smote", "attempts"] == 3


def test_config_expansion_covers_the_grid_and_domain_shift_runs(untrained_checkpoint):
    config = {"name": "g", "model": str(untrained_checkpoint), "datasets": ["diabetes", "wdbc"], "n_train": [32, 64],
              "seeds": [0, 1], "methods": ["pretrained", "finetune", "causalmix"],
              "domain_shift": [{"dataset": "adult", "column": "sex", "values": ["Female"], "n_train": [64],
                                "seeds": [0], "methods": ["finetune"]}]}
    specs = expand_config(config)
    assert len(specs) == 2 * 2 * 2 * 3 + 1
    assert len({s.run_id for s in specs}) == len(specs)
    assert specs[-1].domain == {"column": "sex", "values": ["Female"]}
    with pytest.raises(ValueError, match="Unknown sweep configuration keys \\['dataset'\\]"):
        expand_config({"dataset": ["adult"]})
    fewer = expand_config({**config, "seeds_by_method": {"causalmix": [1]}})
    assert len(fewer) == len(specs) - 2 * 2  # causalmix's seed-0 runs of both datasets and sizes are left out
    assert {s.seed for s in fewer if s.method == "causalmix"} == {1}
    assert {s.run_id for s in fewer} < {s.run_id for s in specs}  # the other runs keep their ids
    with pytest.raises(ValueError, match="seeds_by_method"):
        expand_config({**config, "seeds_by_method": {"causalmix": [7]}})
    for name in ("smoke", "quick", "standard", "full"):
        assert expand_config(ROOT / "causalmix" / "configs" / f"{name}.yaml")


def test_a_dataset_can_override_a_generator_setting_and_only_its_runs_change(untrained_checkpoint):
    config = {"name": "g", "model": str(untrained_checkpoint), "datasets": ["diabetes", "wdbc"], "n_train": [32],
              "methods": ["finetune", "tabebm", "causalmix"],
              "generators": {"tabebm": {"categorical_space": "onehot", "energy_reduction": "mean"}}}
    specs = expand_config(config)
    override = expand_config({**config, "generators_by_dataset": {"wdbc": {"tabebm": {"categorical_space": "codes"}}}})
    changed = {s.run_id for s in override} - {s.run_id for s in specs}
    assert [s.dataset for s in override if s.run_id in changed] == ["wdbc"]
    wdbc = next(s for s in override if s.run_id in changed)
    assert wdbc.method == "tabebm" and wdbc.generator == {"categorical_space": "codes", "energy_reduction": "mean"}
    with pytest.raises(ValueError, match="generators_by_dataset\\['adult'\\]: not a dataset.*: diabetes, wdbc\\.$"):
        expand_config({**config, "generators_by_dataset": {"adult": {"tabebm": {"categorical_space": "codes"}}}})
    shift = [{"dataset": "adult", "column": "sex", "values": ["Female"], "n_train": [32], "seeds": [0],
              "methods": ["tabebm"]}]
    shifted = expand_config({**config, "domain_shift": shift,
                             "generators_by_dataset": {"adult": {"tabebm": {"categorical_space": "codes"}}}})
    assert [s.generator["categorical_space"] for s in shifted if s.dataset == "adult"] == ["codes"]
    with pytest.raises(ValueError, match="datasets \\(grid, then domain-shift blocks\\): diabetes, wdbc, adult\\.$"):
        expand_config({**config, "domain_shift": shift,
                       "generators_by_dataset": {"credit-g": {"tabebm": {"categorical_space": "codes"}}}})
    with pytest.raises(ValueError, match="categorical_space"):
        expand_config({**config, "generators_by_dataset": {"wdbc": {"tabebm": {"categorical_space": "ordinal"}}}})


def test_domain_shift_run_evaluates_in_and_out_of_domain(untrained_checkpoint, tmp_path):
    spec = _spec(untrained_checkpoint, dataset="adult", n_train=40, method="pretrained",
                 domain={"column": "sex", "values": ["Female"]})
    record = execute_run(spec, out_dir=tmp_path)
    assert record.status == "ok", record.error
    assert record.domain == "sex in ['Female']"
    assert not np.isnan(record.test_ood_roc_auc) and record.test_ood_roc_auc == record.test_ood_roc_auc_step0
    curves = load_curves(tmp_path)
    assert {"run_id", "dataset", "method", "n_train", "seed", "domain", "step", "val_roc_auc", "test_ood_log_loss"} <= set(curves.columns)
    assert (curves["domain"] == "sex in ['Female']").all() and list(curves["step"]) == [0]


@pytest.mark.slow
def test_sweep_killed_with_sigkill_and_restarted_neither_loses_nor_duplicates_runs(untrained_checkpoint, tmp_path):
    config = {"name": "kill", "model": str(untrained_checkpoint), "device": "cpu", "threads": 1,
              "datasets": ["blood-transfusion", "diabetes"], "n_train": [48], "seeds": [0, 1, 2],
              "methods": ["pretrained", "finetune"], "finetune": {**FT, "max_steps": 4}, "test_cap": 100,
              "out_dir": str(tmp_path / "out")}
    path = tmp_path / "kill.yaml"
    path.write_text(yaml.safe_dump(config))
    expected = {s.run_id for s in expand_config(path)}
    records = tmp_path / "out" / "records"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "causalmix", "sweep", str(path), "--quiet"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(records.glob("*.json"))) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the sweep finished before it could be killed; make it longer"
    before = {p.name: p.read_bytes() for p in records.glob("*.json")}
    assert 3 <= len(before) < len(expected)
    for content in before.values():
        json.loads(content)  # every record on disk is whole

    summary = run_sweep(path, progress=False)
    assert summary.n_skipped == len(before) and summary.n_ok == len(expected) - len(before) and summary.n_failed == 0
    after = sorted(records.glob("*.json"))
    assert {p.name[: -len(".json")] for p in after} == expected  # nothing lost, nothing extra
    for name, content in before.items():
        assert (records / name).read_bytes() == content  # finished runs were not redone
    frame = load_records(tmp_path / "out")
    assert len(frame) == len(expected) and frame["run_id"].is_unique and (frame["status"] == "ok").all()
    assert len(load_curves(tmp_path / "out")) == sum(1 if m == "pretrained" else 5 for m in frame["method"])


def test_each_local_worker_is_pinned_to_its_own_gpu(monkeypatch):
    import multiprocessing

    from causalmix.experiment import _worker_init, worker_devices

    assert worker_devices(4, 2) == ["0", "1", "0", "1"] and worker_devices(3, 4) == ["0", "1", "2"]
    assert worker_devices(2, 0) == [None, None]
    counter = multiprocessing.get_context("spawn").Value("i", 0)
    seen = []
    for _ in range(3):  # three workers starting one after the other, on a faked 2-GPU machine
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        _worker_init(1, counter, worker_devices(3, 2))
        seen.append(os.environ.get("CUDA_VISIBLE_DEVICES"))
    assert seen == ["0", "1", "0"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    _worker_init(1, counter, worker_devices(2, 0))
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    torch.set_num_threads(1)


def test_configurations_are_found_by_name_and_unknown_names_listed():
    from causalmix.sweep_config import load_config

    assert load_config("smoke").name == "smoke"
    with pytest.raises(FileNotFoundError, match="No configuration 'no-such-configuration'.*quick.*standard") as err:
        load_config("no-such-configuration")
    assert "pretrain" not in str(err.value)  # the pretraining recipes are not sweep configurations
