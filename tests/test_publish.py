"""A published study: records -> compact tables with provenance -> the same frames back; a
re-verification that recomputes a stratified sample and tells identical, noise and different apart."""

from __future__ import annotations

import gzip
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import causalmix.publish as publish_mod
from causalmix import report
import causalmix.verify as verify_mod
from causalmix.experiment import load_curves, load_records, run_sweep
from causalmix.model import model_fingerprint
from causalmix.runs import RESULT_VERSION, result_code_hash

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIG = """name: pubtest
model: causalmix-tiny
device: cpu
datasets: [diabetes, blood-transfusion]
n_train: [32]
seeds: [0, 1]
methods: [pretrained, finetune, smote]
test_cap: 100
finetune: {max_steps: 2, eval_every: 1, n_estimators: 1, learning_rate: 0.0003}
threads: 1
out_dir: %s
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("pub")
    config = root / "pubtest.yaml"
    config.write_text(CONFIG % (root / "runs"))
    summary = run_sweep(config, jobs=1, progress=False)
    assert summary.n_ok == 12 and summary.n_failed == 0
    return root, config


@pytest.fixture()
def published(study, monkeypatch):
    root, config = study
    monkeypatch.setattr(publish_mod, "PUBLISHED_DIR", root / "published")
    monkeypatch.setattr(verify_mod, "VERIFY_ROOT", root / "verify")
    publish_mod.publish(config)
    return root, config


def test_published_tables_give_back_the_records_and_curves_exactly(published):
    root, config = published
    folder = root / "published" / "pubtest"
    assert sorted(p.name for p in folder.iterdir()) == ["curves.csv.gz", "provenance.json", "runs.csv.gz"]
    records, curves = publish_mod.load_published(config)
    original = load_records(root / "runs").sort_values("run_id").reset_index(drop=True)
    assert list(records["run_id"]) == list(original["run_id"]) and set(records["part"]) == {"main"}
    metrics = [c for c in original if c.startswith(("val_", "test_"))]
    pd.testing.assert_frame_equal(records[metrics].astype(float), original[metrics].astype(float))
    again = load_curves(root / "runs").sort_values(["run_id", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(curves[again.columns.drop(["dataset", "method", "n_train", "seed", "domain"])],
                                  again.drop(columns=["dataset", "method", "n_train", "seed", "domain"]), check_dtype=False)
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["runs"]["main"] == {"ok": 12, "failed": 0} and prov["result_version"] == [RESULT_VERSION]
    assert prov["result_code_hash"] == [result_code_hash()]  # provenance
    assert prov["model_sha256"] == [model_fingerprint("causalmix-tiny")] and set(prov["dataset_sha256"]) == {
        "diabetes", "blood-transfusion"}
    assert prov["wall_seconds"] > 0 and prov["compute_seconds"] > 0 and prov["cpu_seconds"] > 0
    assert prov["files"]["runs.csv.gz"] == publish_mod.file_sha256(folder / "runs.csv.gz")
    with gzip.open(folder / "runs.csv.gz", "rb") as fh:  # reproducible bytes: no timestamp in the gzip header
        assert fh.read(3)
    assert (folder / "runs.csv.gz").read_bytes()[4:8] == b"\0\0\0\0"


def test_an_incomplete_sweep_is_not_published(study, monkeypatch, tmp_path):
    root, config = study
    monkeypatch.setattr(publish_mod, "PUBLISHED_DIR", tmp_path)
    partial = tmp_path / "partial"
    (partial / "records").mkdir(parents=True)
    for path in sorted((root / "runs" / "records").iterdir())[2:]:  # drops one run (record + curve)
        (partial / "records" / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="1 of the 12 runs .* have no record"):
        publish_mod.publish(config, out_dir=partial)


def test_the_sample_covers_every_method_and_dataset_and_depends_on_its_seed_only():
    rng = np.random.default_rng(1)
    recs = pd.DataFrame([{"run_id": f"{d}-{m}-{s}", "status": "ok", "dataset": d, "method": m,
                          "wall_time_s": 1 + 10 * rng.random()}
                         for d in "abcdefgh" for m in ("x", "y", "z", "w") for s in range(5)])
    first = verify_mod.sample_runs(recs, n_runs=20, seed=3, budget_s=1e9)
    assert len(first) == 20 and first["run_id"].is_unique
    assert set(first["method"]) == set("xyzw") and set(first["dataset"]) == set("abcdefgh")
    assert list(verify_mod.sample_runs(recs, n_runs=20, seed=3, budget_s=1e9)["run_id"]) == list(first["run_id"])
    assert list(verify_mod.sample_runs(recs, n_runs=20, seed=4, budget_s=1e9)["run_id"]) != list(first["run_id"])
    capped = verify_mod.sample_runs(recs, n_runs=20, seed=3, budget_s=30)
    assert capped["wall_time_s"].sum() <= 30 and len(capped) < 20


def test_every_run_can_be_drawn_and_the_expensive_ones_less_often():
    recs = pd.DataFrame([{"run_id": f"r{i}", "status": "ok", "part": "main" if i < 30 else "ablation",
                          "method": "m" if i % 2 else "n", "dataset": "d", "wall_time_s": 100.0 if i == 7 else 2.0}
                         for i in range(40)])
    p = verify_mod.draw_probabilities(recs, n_runs=4, budget_s=120, seeds=range(300))
    assert (p > 0).all()  # no run is out of reach, the expensive one included
    assert p["r7"] < p.drop("r7").median()
    assert set(verify_mod.sample_runs(recs, n_runs=4, seed=0, budget_s=120)["part"]) == {"main", "ablation"}


def test_compare_tells_identical_noise_and_different_apart():
    published = pd.Series({"test_roc_auc": 0.8, "val_log_loss": 0.5, "best_step": 2.0, "test_ood_roc_auc": np.nan})
    same = {"test_roc_auc": 0.8, "val_log_loss": 0.5, "best_step": 2, "test_ood_roc_auc": None}
    assert verify_mod._compare(published, same)[1] == "identical"
    assert verify_mod._compare(published, {**same, "test_roc_auc": 0.8 + 4e-7})[1] == "noise"
    diff, outcome, detail = verify_mod._compare(published, {**same, "val_log_loss": 0.51})
    assert outcome == "differs" and diff == pytest.approx(0.01) and "val_log_loss" in detail
    assert verify_mod._compare(published, {**same, "best_step": 1})[1] == "differs"
    assert verify_mod._compare(published, {**same, "test_ood_roc_auc": 0.7})[1] == "differs"


def test_verify_recomputes_identical_numbers_and_names_a_tampered_run(published, monkeypatch):
    root, config = published
    result = verify_mod.verify(config, n_runs=4, seed=0, jobs=1, progress=False)
    assert len(result.runs) == 4 and result.ok and result.counts["identical"] == 4 and not result.version_changed
    assert result.n_records_checked == 12 and result.n_inconsistent == 0
    assert set(result.runs["method"]) == {"pretrained", "finetune", "smote"}
    saved = json.loads(verify_mod.verification_path(config).read_text())
    assert saved["counts"] == {"identical": 4, "noise": 0, "diverged": 0, "differs": 0} and saved["machine_details"]["cpu"]

    runs_file = root / "published" / "pubtest" / "runs.csv.gz"
    table = pd.read_csv(runs_file)
    victim = result.runs["run_id"].iloc[0]
    table.loc[table["run_id"] == victim, "test_roc_auc"] += 1e-3
    table.to_csv(runs_file, index=False, compression="gzip")
    _rerecord(runs_file)  # a tamperer who also updates the recorded sha256
    monkeypatch.setattr(verify_mod, "RESULT_VERSION", RESULT_VERSION + 1)  # and the version changed since
    tampered = verify_mod.verify(config, n_runs=4, seed=0, jobs=1, progress=False)
    assert not tampered.ok and tampered.n_inconsistent == 1 and tampered.version_changed
    assert victim in tampered.summary() and "does not follow from its curve" in tampered.summary()
    assert "re-publish" in tampered.summary()


@pytest.mark.slow
def test_the_book_reads_a_published_study_without_recomputing_it(tmp_path_factory, monkeypatch, data_dir):
    from _smoke_book import CONFIG, execute_all

    from causalmix.reproduce import run_notebooks

    root = execute_all(tmp_path_factory)  # the smoke study, computed by the smoke book
    published = tmp_path_factory.mktemp("published")
    monkeypatch.setattr(publish_mod, "PUBLISHED_DIR", published)
    monkeypatch.setenv("CAUSALMIX_PUBLISHED_DIR", str(published))  # for the notebooks' kernels
    publish_mod.publish(CONFIG, out_dir=root / "runs")
    records, curves = publish_mod.load_published(CONFIG)
    ablation, ablation_curves = publish_mod.load_published(CONFIG, "ablation")
    shared = set(records["run_id"]) & set(ablation["run_id"])  # the ablation's baseline is a main-grid run
    assert shared and not curves.duplicated(["run_id", "step"]).any()
    assert not ablation_curves.duplicated(["run_id", "step"]).any() and shared <= set(ablation_curves["run_id"])
    before = {p.name for p in (root / "runs" / "records").iterdir()}
    out = tmp_path_factory.mktemp("published-book")
    run_notebooks(CONFIG, output_dir=out, only=["02", "03", "07"], jobs=1, log=lambda *a, **k: None)
    page02, page07 = (out / "02_benchmark.ipynb").read_text(), (out / "07_ablations.ipynb").read_text()
    assert "published records" in page02 and "Not re-verified in this build" in page02
    assert "the published study" in page07
    assert "No run failed" in page02 and "Median" in (out / "03_median_improvement.ipynb").read_text()
    assert {p.name for p in (root / "runs" / "records").iterdir()} == before  # nothing recomputed or added


def test_reproduce_verifies_a_published_configuration_before_building_and_fresh_or_a_folder_runs_the_study(published, monkeypatch):
    import causalmix.reproduce as reproduce

    root, config = published
    logged: list[str] = []
    kw = {"jobs": 1, "log": lambda text, **_: logged.append(text)}
    assert reproduce.prepare_records(config, out_dir=None, fresh=False, verify_runs=3, **kw) == (None, None)
    assert logged[-1].startswith("Checked all 12") and "0 within" in logged[-1] and "0 different" in logged[-1]
    assert verify_mod.verification_path(config).is_file() and reproduce.failed_check(config) is None
    assert reproduce.prepare_records(config, out_dir=None, fresh=False, verify_runs=0, **kw) == (None, None)
    assert not verify_mod.verification_path(config).is_file()  # no earlier check shown as this build's
    records = sorted((root / "runs" / "records").glob("*.json"))
    records[0].unlink()  # FRESH=1 recomputes the missing run and keeps the others
    before = {p: p.stat().st_mtime_ns for p in records[1:]}
    assert reproduce.prepare_records(config, out_dir=None, fresh=True, verify_runs=3, **kw) == (root / "runs", None)
    assert records[0].is_file() and {p: p.stat().st_mtime_ns for p in records[1:]} == before
    elsewhere = root / "elsewhere"  # a named records folder: the study runs there (its recorded runs are reused)
    shutil.copytree(root / "runs", elsewhere)
    assert reproduce.prepare_records(config, out_dir=elsewhere, fresh=False, verify_runs=3, **kw) == (elsewhere, None)
    assert "running the study (grid)" in logged[-2] and "12 skipped (already done)" in logged[-1]
    table = pd.read_csv(root / "published" / "pubtest" / "runs.csv.gz")
    table["val_roc_auc"] += 0.01  # no record follows from its curve any more
    table.to_csv(root / "published" / "pubtest" / "runs.csv.gz", index=False, compression="gzip")
    _rerecord(root / "published" / "pubtest" / "runs.csv.gz")  # (else refused unread by its checksum)
    folder, failure = reproduce.prepare_records(config, out_dir=None, fresh=False, verify_runs=3, **kw)
    assert folder is None and re.search(r"against their curves: 12 inconsistent", failure)
    assert reproduce.failed_check(config) == failure  # the book shows it; make reproduce then exits 1
    assert "FAILED" in report.verification_notice(config)


def test_reproduce_checks_every_published_study_the_book_reads_and_names_the_one_that_failed(published, monkeypatch):
    import causalmix.reproduce as reproduce

    root, config = published
    other = root / "pubtest-b.yaml"  # a second published study (the confirmatory one beside the standard one)
    other.write_text(config.read_text().replace("name: pubtest", "name: pubtest-b"))
    publish_mod.publish(other)
    logged: list[str] = []
    kw = {"jobs": 1, "log": lambda text, **_: logged.append(text), "companions": [other]}
    assert reproduce.prepare_records(config, out_dir=None, fresh=False, verify_runs=2, **kw) == (None, None)
    assert [line.startswith("Checked all 12") for line in logged] == [True, True]
    assert report.current_check(other)["ok"] and "pubtest-b</code>: This build's check passed" in \
        report.verification_notice(other, named=True)
    table = root / "published" / "pubtest-b" / "runs.csv.gz"
    frame = pd.read_csv(table)
    frame["test_log_loss"] += 0.01  # no record of the companion follows from its curve any more
    frame.to_csv(table, index=False, compression="gzip")
    _rerecord(table)
    folder, failure = reproduce.prepare_records(config, out_dir=None, fresh=False, verify_runs=2, **kw)
    assert folder is None and failure.startswith("pubtest-b: ") and "12 inconsistent" in failure
    assert reproduce.failed_check(config, [other]) == failure  # what `make reproduce` exits 1 with, after the book
    assert report.current_check(config)["ok"]  # the first study's own check still passed


def test_published_ctgan_runs_are_checked_in_the_ctgan_environment(study, monkeypatch, tmp_path):
    import causalmix.reproduce as reproduce

    root, config = study
    ctgan = root / "pubtest-ctgan.yaml"
    ctgan.write_text(config.read_text().replace("name: pubtest", "name: pubtest-ctgan")
                     .replace("[pretrained, finetune, smote]", "[pretrained, ctgan]"))
    monkeypatch.setattr(reproduce.importlib.util, "find_spec", lambda name: None)  # as in the main environment
    monkeypatch.setattr(reproduce, "CTGAN_PYTHON", tmp_path / "no-env" / "python")
    monkeypatch.setattr(reproduce, "verify", None)  # nothing may be recomputed here
    with pytest.raises(ValueError, match=r"holds CTGAN runs.*make setup-ctgan"):
        reproduce._verify_published(ctgan, n_runs=2, jobs=1, log=print)
    python = tmp_path / "python"
    python.write_text("")
    calls = []
    monkeypatch.setattr(reproduce, "CTGAN_PYTHON", python)
    monkeypatch.setattr(reproduce.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or
                        type("Done", (), {"returncode": 1})())  # stops without writing a check
    with pytest.raises(ValueError, match=r"'pubtest-ctgan' in the CTGAN environment stopped \(exit status 1\)"):
        reproduce._verify_published(ctgan, n_runs=2, jobs=1, log=print)
    assert calls == [[str(python), "-m", "causalmix.cli", "verify", str(ctgan), "--runs", "2", "--jobs", "1"]]


def test_a_configuration_changed_since_publication_is_refused_with_what_changed(published, tmp_path):
    root, config = published
    edited = config.read_text().replace("test_cap: 100", "test_cap: 200")
    changed = tmp_path / "pubtest.yaml"  # the same name: the same published folder
    changed.write_text(edited)
    with pytest.raises(ValueError, match=r"changed since its study was published \(test_cap\).*FRESH=1"):
        publish_mod.load_published(changed)
    assert len(publish_mod.load_published(config)[0]) == 12


def test_verify_stops_before_running_when_the_datasets_are_not_the_published_files(published, monkeypatch):
    root, config = published
    files = publish_mod.load_published(config)[0].groupby("dataset")["dataset_sha256"].first().to_dict()
    monkeypatch.setattr(verify_mod, "dataset_fingerprint", lambda name: "openml:37" if name == "diabetes" else files[name])
    monkeypatch.setattr(verify_mod, "run_local", None, raising=False)  # nothing may run
    with pytest.raises(ValueError, match=r"1 dataset\(s\) here are not the files.*diabetes: openml:37.*VERIFY_RUNS=0"):
        verify_mod.verify(config, n_runs=4, seed=0, jobs=1, progress=False)


def test_a_different_dataset_file_is_named_as_the_reason():
    published = pd.Series({"dataset_sha256": "a" * 64, "model_sha256": "m"})
    assert "CAUSALMIX_DATA_DIR" in verify_mod._other_inputs(published, {"dataset_sha256": "b" * 64, "model_sha256": "m"})
    assert verify_mod._other_inputs(published, {"dataset_sha256": "a" * 64, "model_sha256": "m"}) == ""


def test_a_tampered_or_truncated_published_table_is_refused_naming_the_file_and_its_sha256(published, monkeypatch):
    root, config = published
    folder = root / "published" / "pubtest"
    recorded = json.loads((folder / "provenance.json").read_text())["files"]
    for name in ("runs.csv.gz", "curves.csv.gz"):
        original = (folder / name).read_bytes()
        table = pd.read_csv(folder / name)
        table.iloc[0, table.columns.get_loc("run_id")] = "x" + str(table.iloc[0]["run_id"])  # one changed value
        table.to_csv(folder / name, index=False, compression={"method": "gzip", "mtime": 0})
        with pytest.raises(ValueError, match=f"{name} has sha256 [0-9a-f]{{64}}, but {recorded[name]} was recorded"):
            publish_mod.load_published(config)
        with pytest.raises(ValueError, match=recorded[name]):
            verify_mod.verify(config, n_runs=2, seed=0, jobs=1, progress=False)
        monkeypatch.setenv("CAUSALMIX_VERIFY_CHECKSUMS", "0")  # the documented escape hatch
        publish_mod.load_published(config)
        monkeypatch.delenv("CAUSALMIX_VERIFY_CHECKSUMS")
        (folder / name).write_bytes(b"")  # truncated to nothing by a kill: refused, not "No columns to parse"
        with pytest.raises(ValueError, match=f"{name} has sha256"):
            publish_mod.load_published(config)
        (folder / name).write_bytes(original)
    publish_mod.load_published(config)


def test_a_publish_killed_while_writing_leaves_the_previous_study_whole(published, monkeypatch):
    root, config = published
    folder = root / "published" / "pubtest"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real = pd.DataFrame.to_csv

    def dies_on_curves(frame, path, *args, **kw):
        if "curves" in str(path):
            real(frame.head(3), path, *args, **kw)  # half written ...
            raise OSError(28, "No space left on device")  # ... then the disk is full (or the process killed)
        return real(frame, path, *args, **kw)

    with monkeypatch.context() as m, pytest.raises(OSError):
        m.setattr(pd.DataFrame, "to_csv", dies_on_curves)
        publish_mod.publish(config)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no temporary file left, nothing changed
    publish_mod.load_published(config)


def _rerecord(table) -> None:
    """Record a changed table's sha256 in provenance.json, as a tamperer who knows the format would."""
    prov_file = table.with_name("provenance.json")
    prov = json.loads(prov_file.read_text())
    prov["files"][table.name] = publish_mod.file_sha256(table)
    prov_file.write_text(json.dumps(prov))


def test_the_published_fidelity_table_is_read_only_for_its_parameters():
    kw = {"dataset": "diabetes", "n_train": 256, "seed": 0, "n_synthetic": 1000}
    table, note, meta = report.published_fidelity("standard", **kw)
    assert "CausalMixFT" in table.index and "TabEBM-augmented FT" in table.index and meta["machine"]["cpu"]
    assert report.published_fidelity("standard", **{**kw, "n_train": 128}) is None  # other parameters: recompute
    assert report.published_fidelity("smoke", **kw) is None  # no published study


def test_a_tampered_published_fidelity_table_is_refused(tmp_path, monkeypatch):
    import shutil

    from causalmix.io import ChecksumError

    shutil.copytree(publish_mod.PUBLISHED_DIR / "standard", tmp_path / "standard")
    monkeypatch.setattr(publish_mod, "PUBLISHED_DIR", tmp_path)
    path = tmp_path / "standard" / "fidelity.json"
    path.write_text(path.read_text() + " ")  # one byte more
    with pytest.raises(ChecksumError, match=r"fidelity\.json has sha256"):
        report.published_fidelity("standard", dataset="diabetes", n_train=256, seed=0, n_synthetic=1000)


def test_a_causalmix_run_recorded_before_the_discovery_order_fix_may_diverge_on_its_own_cpu():
    import subprocess

    from causalmix.provenance import REPO_ROOT, git_commit, made_before

    fix = verify_mod.DISCOVERY_ORDER_FIXED
    if subprocess.run(["git", "cat-file", "-e", f"{fix}^{{commit}}"], cwd=REPO_ROOT).returncode != 0:
        pytest.skip("a shallow clone without the fix's commit")
    later = verify_mod.CurveComparison(0.01, "differs", "first at step 2", first_step=2)
    here = "Intel(R) Xeon(R) Processor, 2 cores"
    before = pd.Series({"method": "causalmix", "hardware": here, "git_commit": f"{fix}~1"})  # the commit before the fix
    after = before.copy()
    after["git_commit"] = git_commit()  # HEAD contains the fix
    assert made_before(before["git_commit"], fix) and not made_before(after["git_commit"], fix)
    assert made_before("not-a-commit", fix)  # cannot be told: lenient
    assert "hash seed" in verify_mod._divergence(before, later, here)
    assert verify_mod._divergence(after, later, here) is None  # the same CPU, after the fix: must agree
    assert "another CPU" in verify_mod._divergence(after, later, "AMD EPYC 7B13, 2 cores")
    assert verify_mod._divergence(before.replace({"causalmix": "finetune"}), later, here) is None
    step0 = verify_mod.CurveComparison(0.01, "differs", "first at step 0", first_step=0)
    assert verify_mod._divergence(before, step0, here) is None  # step 0 has no generator in it
