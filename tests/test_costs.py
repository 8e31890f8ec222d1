"""The plan's estimate: priced from the configuration's own settings, within 2x of a measured small sweep."""

import time

import numpy as np
import pandas as pd

from causalmix.costs import CostModel, calibration, dataset_calibration, method_calibration, plan_estimate, spec_seconds
from causalmix.experiment import expand_config, load_records, run_sweep
from causalmix.plan import plan_sweep


def _config(tmp_path, **finetune):
    return {"name": "cost-check", "device": "cpu", "datasets": ["phoneme"], "n_train": [48], "seeds": [0, 1],
            "methods": ["pretrained", "finetune", "causalmix", "mixup"], "test_cap": 150, "threads": 1,
            "finetune": {"max_steps": 4, "eval_every": 2, "patience": 2, "n_estimators": 1, "n_estimators_eval": 2,
                         **finetune},
            "generators": {"causalmix": {"n_bootstrap": 2, "n_dags": 1}}, "out_dir": str(tmp_path / "out")}


def test_the_estimate_follows_the_settings(tmp_path):
    base = sum(spec_seconds(expand_config(_config(tmp_path))))
    assert sum(spec_seconds(expand_config(_config(tmp_path, max_steps=40)))) > 3 * base
    assert sum(spec_seconds(expand_config({**_config(tmp_path), "test_cap": 2000}))) > base
    assert sum(spec_seconds(expand_config(_config(tmp_path, eval_every=1)))) > base
    model = CostModel.load()
    wide = model.seconds(method="causalmix", n_train=256, n_features=60, n_val=64, n_test=500, max_steps=20)
    narrow = model.seconds(method="causalmix", n_train=256, n_features=6, n_val=64, n_test=500, max_steps=20)
    assert wide > 3 * narrow


def test_plan_is_within_2x_of_a_measured_small_sweep(tmp_path, one_torch_thread):
    # The cost model is fitted on one machine; another runs everything faster or slower by about one factor
    # (CI's runner measured 0.48x). That factor is measured first, as `plan` does from a folder's finished
    # runs (`calibration`), on a reference sweep of other seeds; it also pays this process's warm-up.
    reference = {**_config(tmp_path / "reference"), "seeds": [2], "methods": ["pretrained", "finetune", "mixup"]}
    run_sweep(reference, progress=False)
    factor, n = calibration(load_records(reference["out_dir"]), {s.run_id: s for s in expand_config(reference)})
    assert n == 3 and 1 / 5 <= factor <= 5, f"this machine runs {factor:.2f}x the cost model's: not a CPU it prices"

    cfg = _config(tmp_path)
    plan = plan_sweep(cfg)
    # the plan adds a worker's start-up (imports, model load) once; this test process has paid it already
    estimate = float(plan.table["est_hours"].sum()) * 3600 - CostModel.load().startup_s
    assert "cost model" in plan.timing_source and int(plan.table["to_run"].sum()) == 8
    cpu = time.process_time()
    run_sweep(cfg, progress=False)  # jobs=1: the runs execute in this process, on one torch thread
    cpu = time.process_time() - cpu
    records = load_records(cfg["out_dir"])
    measured = float(records["wall_time_s"].sum())
    assert (records["status"] == "ok").all()
    # The estimate is of compute with a free core per job: checked against the CPU time the sweep took
    # (the wall time also counts waiting for a core on a shared machine, reported alongside).
    print(f"machine factor {factor:.2f}; plan estimate {estimate:.1f} s, x factor {estimate * factor:.1f} s; "
          f"measured {cpu:.1f} s of CPU ({cpu / estimate / factor:.2f}x), {measured:.1f} s of wall time")
    assert 0.5 <= cpu / (estimate * factor) <= 2.0, \
        f"CPU {cpu:.1f} s, wall {measured:.1f} s, estimated {estimate:.1f} s x {factor:.2f}"
    # the folder's finished runs calibrate a later plan of the same configuration to this machine
    seconds, how = plan_estimate(expand_config(cfg), records)
    assert "calibrated" in how and 1 / 3 <= sum(seconds) / measured <= 3


def test_calibration_is_per_method_and_counts_the_time_a_run_had_a_core(tmp_path):
    specs = expand_config(_config(tmp_path))  # 4 methods x 2 seeds
    predicted = spec_seconds(specs)
    factor = {"pretrained": 1.0, "finetune": 1.0, "causalmix": 1.0, "mixup": 2.0}  # mixup's generator: 2x the model
    records = pd.DataFrame({
        "run_id": [s.run_id for s in specs], "status": "ok", "method": [s.method for s in specs],
        # finetune shared its core (wall 3x its CPU time); causalmix used 2 threads (CPU 2x its wall time)
        "wall_time_s": [p * factor[s.method] * (3 if s.method == "finetune" else 1) for s, p in zip(specs, predicted)],
        "cpu_time_s": [p * factor[s.method] * (2 if s.method == "causalmix" else 1) for s, p in zip(specs, predicted)]})
    by_id = {s.run_id: s for s in specs}
    per, overall, n = method_calibration(records, by_id, minimum=2)
    assert n == 8 and overall == calibration(records, by_id, minimum=2)[0] == 1.0
    assert per == {m: np.float64(f) for m, f in factor.items()}
    assert method_calibration(records, by_id)[0] == {}  # fewer than 3 runs of each method: the overall factor
    _, how = plan_estimate(specs, records)
    assert "calibrated x1.00 on this folder's 8 records of its runs" in how and "per method" not in how


def test_a_dataset_where_a_method_is_slower_than_priced_gets_its_own_factor(tmp_path):
    # mixup costs 4x the model on diabetes (as TabEBM does on tables with many category levels), 1x on phoneme
    specs = expand_config({**_config(tmp_path), "datasets": ["phoneme", "diabetes"], "seeds": [0, 1, 2]})
    predicted = spec_seconds(specs)
    slow = [4.0 if (s.method, s.dataset) == ("mixup", "diabetes") else 1.0 for s in specs]
    records = pd.DataFrame({"run_id": [s.run_id for s in specs], "status": "ok", "method": [s.method for s in specs],
                            "wall_time_s": np.multiply(predicted, slow), "cpu_time_s": np.multiply(predicted, slow)})
    by_id = {s.run_id: s for s in specs}
    assert dataset_calibration(records, by_id) == {(m, d): (4.0 if (m, d) == ("mixup", "diabetes") else 1.0)
                                                    for m in ("pretrained", "finetune", "causalmix", "mixup")
                                                    for d in ("phoneme", "diabetes")}
    seconds, how = plan_estimate(specs, records)
    assert np.allclose(seconds, np.multiply(predicted, slow)) and "per method and dataset" in how
    # with 2 runs of each pair (fewer than 3), the per-method factor applies: mixup's median over both datasets
    assert dataset_calibration(records[records["run_id"].isin([s.run_id for s in specs if s.seed < 2])], by_id) == {}
