"""A study is declared in one YAML (grid, extension, ablations, anatomy page) and composed, planned and
run by causalmix.study; the parts share runs by id instead of computing them twice."""

from __future__ import annotations

import json

import pytest
import yaml

from causalmix import study
from causalmix.sweep_config import CONFIG_DIR


def test_the_shipped_studies_declare_their_parts():
    parts = {path.stem: sorted(study.load_study(path).parts) for path in CONFIG_DIR.glob("*.yaml")
             if not path.stem.startswith("pretrain")}
    assert parts["standard"] == parts["quick"] == parts["smoke"] == ["ablation", "extension", "grid"]
    assert parts["confirmatory"] == ["grid"]  # registered without an extension or ablations
    standard = study.load_study("standard")
    assert standard.extension["datasets"] == ["adult"] and standard.extension["n_train"] == [32, 64, 256]
    assert standard.ablation["n_train"] == [128] and standard.ablation["seeds"] == [0]
    assert standard.ablation["out_dir"].endswith("standard/ablation")


def test_the_ablation_baseline_is_a_grid_run_and_the_plan_counts_it_once(data_dir):
    standard = study.load_study("standard")
    grid = {s.run_id for s in standard.specs("grid")}
    baseline = [s for s in standard.specs("ablation") if s.variant is None]
    assert len(baseline) == 17 and all(s.run_id in grid for s in baseline)


@pytest.mark.parametrize("block, message", [
    ({"extension": {"n_train": [32]}}, "dataset required"),
    ({"extension": {"dataset": "adult", "n_train": [0]}}, "extension.n_train"),
    ({"ablations": {"sizes": [64]}}, "ablations: a mapping with keys"),
    ({"anatomy": "diabetes"}, "anatomy: a mapping"),
])
def test_a_malformed_part_is_refused_with_its_name(tmp_path, block, message):
    cfg = {**yaml.safe_load((CONFIG_DIR / "smoke.yaml").read_text()), **block}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=message):
        study.load_study(path)


def test_reuse_copies_ok_records_only_and_never_overwrites(tmp_path):
    src, dest = tmp_path / "grid", tmp_path / "ablation"
    (src / "records").mkdir(parents=True)
    (dest / "records").mkdir(parents=True)
    for run_id, status in (("a", "ok"), ("b", "failed"), ("c", "ok")):
        (src / "records" / f"{run_id}.json").write_text(json.dumps({"run_id": run_id, "status": status}))
        (src / "records" / f"{run_id}.curve.csv").write_text("step\n0\n")
    (dest / "records" / "c.json").write_text(json.dumps({"run_id": "c", "status": "ok", "mine": True}))
    (src / "records" / "d.json").write_text(json.dumps({"run_id": "not-d", "status": "ok"}))  # a misnamed file
    assert study.reuse_records({"a", "b", "c", "d", "e"}, source=src, dest=dest) == 1
    assert sorted(p.name for p in (dest / "records").iterdir()) == ["a.curve.csv", "a.json", "c.json"]
    assert json.loads((dest / "records" / "c.json").read_text())["mine"]


def test_study_run_and_plan_from_the_command_line(tmp_path, untrained_checkpoint, data_dir, capsys):
    from causalmix.cli import main

    config = tmp_path / "mini.yaml"
    config.write_text(yaml.safe_dump({
        "name": "mini", "model": str(untrained_checkpoint), "device": "cpu", "datasets": ["diabetes"],
        "n_train": [32], "seeds": [0], "methods": ["pretrained"], "test_cap": 50, "threads": 1,
        "extension": {"dataset": "diabetes", "n_train": [32, 40]}, "out_dir": str(tmp_path / "runs")}))
    assert main(["study", "plan", str(config)]) == 0
    assert "study 'mini': 2 runs to do in grid, extension" in capsys.readouterr().out  # the shared run once
    assert main(["study", "run", str(config), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "grid: sweep 'mini'" in out and "1 ok" in out
    assert len(list((tmp_path / "runs" / "records").glob("*.json"))) == 2
    assert main(["study", "run", str(config), "--quiet", "--parts", "extension"]) == 0
    assert "2 skipped (already done)" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse names the parts there are
        main(["study", "run", str(config), "--parts", "nothing"])
    assert "invalid choice: 'nothing' (choose from 'grid', 'extension', 'ablation')" in capsys.readouterr().err


def test_methods_keep_a_subset_with_the_whole_studys_run_ids(data_dir):
    confirmatory = study.load_study("confirmatory")
    whole = {s.run_id: s for s in confirmatory.specs("grid")}
    primary = study.plan_study(confirmatory, methods=["pretrained", "finetune", "causalmix"])
    assert list(primary) == ["grid"] and int(primary["grid"].table["total"].sum()) == 840
    by_method = str(primary["grid"]).split("\n\nby method\n")[1]  # 14 datasets: the totals per method close it
    assert [line.split()[:2] for line in by_method.splitlines()[2:5]] == [["causalmix", "280"], ["finetune", "280"],
                                                                          ["pretrained", "280"]]
    standard = study.load_study("standard")
    variants = study.plan_study(standard, methods=["cm-max-features-None"])  # a variant: the ablation only
    assert list(variants) == ["ablation"] and int(variants["ablation"].table["total"].sum()) == 17
    from causalmix.sweep_config import expand_config
    subset = expand_config(confirmatory.grid, methods=["tabebm"])
    assert {s.run_id for s in subset} == {i for i, s in whole.items() if s.method == "tabebm"}
    with pytest.raises(ValueError, match=r"Methods \['ctgan'\] are in no chosen part .* its methods: pretrained"):
        study.plan_study(confirmatory, methods=["ctgan"])
    with pytest.raises(ValueError, match=r"Methods \['nope'\] are not in sweep 'confirmatory'"):
        expand_config(confirmatory.grid, methods=["nope"])
