"""Bad configuration values, command-line values and model files: refused before any work, with the
key or file named, one line and exit code 2 on the command line (never a traceback, never silent)."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
import torch
import yaml

from causalmix.cli import main
from causalmix.experiment import load_config, run_sweep
from causalmix.finetuning import FinetuneConfig
from causalmix.plan import plan_sweep
from causalmix.pretraining import PretrainConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FT = {"max_steps": 1, "eval_every": 1, "learning_rate": 1e-3, "n_estimators": 1}
RUN = ["run", "--dataset", "blood-transfusion", "--method", "pretrained", "--n-train", "48", "--quiet", "--device", "cpu"]


def _config(tmp_path, model, **overrides):
    cfg = {"name": "bad", "model": str(model), "device": "cpu", "datasets": ["blood-transfusion"], "n_train": [48],
           "seeds": [0], "methods": ["pretrained"], "finetune": FT, "test_cap": 50, "out_dir": str(tmp_path / "out")}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**cfg, **overrides}))
    return path


@pytest.mark.parametrize("key, value, message", [
    ("n_train", [64.5], r"n_train: every value must be an int >= 1 .* got 64\.5"),
    ("seeds", [0.9], r"seeds: every value must be an int >= 0 .* got 0\.9"),
    ("seeds", [True], r"seeds: .* got True"),
    ("threads", True, r"threads must be an int >= 1"),
    ("name", "../../../x", r"Invalid configuration name '\.\./\.\./\.\./x'"),
    ("test_cap", 0, r"test_cap: every value must be an int >= 1"),
    ("datasets", [3], r"datasets: every value must be a non-empty string"),
    ("finetune", {"learning_rate": "fast"}, r"learning_rate must be a finite number or null, got 'fast'"),
    ("finetune", {"synthetic_ratio": float("inf")}, r"synthetic_ratio must be a finite number, got inf"),
    ("finetune", {"max_steps": 2.5}, r"max_steps must be an int, got 2\.5"),
    ("domain_shift", [{"dataset": "adult", "column": "age", "between": [35, 17]}], r"domain_shift\[0\]\.between"),
    ("generators", {"causalmix": {"n_dags": 2.5}}, r"generators\['causalmix'\]: .*'n_dags' must be an int"),
    ("generators", {"mixup": {"alpha": float("inf")}}, r"generators\['mixup'\]: .*'alpha' must be"),
    ("generators", {"smote": {"k_neighbours": 3}}, r"generators\['smote'\]\.k_neighbours: unknown parameter of generator 'smote'\. Did you mean 'k_neighbors'"),
])
def test_a_configuration_value_of_the_wrong_type_or_range_is_refused_naming_its_key(tmp_path, untrained_checkpoint,
                                                                                    key, value, message):
    path = _config(tmp_path, untrained_checkpoint, **{key: value})
    with pytest.raises(ValueError, match=message):
        load_config(path)
    assert main(["sweep", str(path), "--plan"]) == 2
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "x").exists()


def test_a_yaml_billion_laughs_is_refused_at_once(tmp_path, untrained_checkpoint, capsys):
    lol = "lol: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    path = tmp_path / "bomb.yaml"
    cfg = yaml.safe_dump({"name": "bomb", "model": str(untrained_checkpoint), "datasets": ["adult"]})
    path.write_text(lol + cfg + "domain_shift:\n  - {dataset: adult, column: sex, values: *a9}\n")
    start = time.perf_counter()
    assert main(["sweep", str(path), "--plan"]) == 2
    assert time.perf_counter() - start < 10
    assert "aliases expand to more than" in capsys.readouterr().err


def test_malformed_yaml_names_the_file_and_line(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nseeds: [0, 1\n")
    assert main(["sweep", str(path), "--plan"]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml is not valid YAML" in err and "line" in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"", b"just some text\n", json.dumps({"state_dict": {}}).encode()])
def test_a_model_file_that_is_not_a_checkpoint_is_refused_before_any_run(tmp_path, content, capsys):
    model = tmp_path / "notackpt.ckpt"
    model.write_bytes(content)
    path = _config(tmp_path, model)
    with pytest.raises(ValueError, match=r"The model file .*notackpt\.ckpt is not a TabPFN checkpoint"):
        run_sweep(path, progress=False)
    assert main(["sweep", str(path), "--plan"]) == 2
    assert "notackpt.ckpt is not a TabPFN checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "out" / "records").exists()
    assert main([*RUN, "--model", str(model)]) == 2  # a single run: refused before it computes
    assert "is not a TabPFN checkpoint" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it_is_refused_before_any_run(tmp_path, untrained_checkpoint, capsys):
    path = _config(tmp_path, untrained_checkpoint, device="cuda")
    assert main(["sweep", str(path), "--plan"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
    assert main([*RUN, "--model", str(untrained_checkpoint), "--device", "cuda"]) == 2
    assert main([*RUN, "--model", str(untrained_checkpoint), "--device", "gpu"]) == 2
    assert "Unknown device 'gpu'" in capsys.readouterr().err


def test_cli_values_are_checked(untrained_checkpoint, capsys):
    assert main([*RUN, "--model", str(untrained_checkpoint), "--learning-rate", "inf"]) == 2
    assert "learning_rate must be a finite number" in capsys.readouterr().err
    assert main([*RUN, "--model", str(untrained_checkpoint), "--test-cap", "0"]) == 2
    assert "--test-cap must be >= 1" in capsys.readouterr().err


def test_a_run_without_test_metrics_is_failed_not_ok(untrained_checkpoint, monkeypatch):
    import causalmix.runs as runs
    from causalmix.runs import RunSpec, execute_run

    real = runs.run_split

    def no_test_rows(spec, ds):
        split = real(spec, ds)
        return dataclasses.replace(split, X_test=split.X_test.iloc[:0], y_test=split.y_test.iloc[:0])

    monkeypatch.setattr(runs, "run_split", no_test_rows)
    record = execute_run(RunSpec(dataset="blood-transfusion", n_train=48, seed=0, method="finetune",
                                 model=str(untrained_checkpoint), device="cpu", finetune=FT, test_cap=50))
    assert record.status == "failed" and "no test" in record.error


def test_two_long_names_give_a_clear_error_not_file_name_too_long(untrained_checkpoint):
    from causalmix.runs import RunSpec

    with pytest.raises(ValueError, match="too long for a file name"):
        RunSpec(dataset="d" * 128, n_train=48, seed=0, method="finetune", variant="v" * 128, model=str(untrained_checkpoint))


def test_a_record_file_holding_a_json_list_does_not_abort_sweep_plan_or_results(tmp_path, untrained_checkpoint, capsys):
    path = _config(tmp_path, untrained_checkpoint)
    (tmp_path / "out" / "records").mkdir(parents=True)
    (tmp_path / "out" / "records" / "foreign.json").write_text("[1, 2, 3]")
    assert plan_sweep(path).table["to_run"].sum() == 1
    assert main(["results", str(tmp_path / "out")]) == 2  # "no records", not a crash
    assert "no records" in capsys.readouterr().err


def test_fine_tuning_settings_name_the_wrong_type():
    for kw, message in ((dict(mixed_precision="yes"), "mixed_precision must be a bool"),
                        (dict(patience=1.5), "patience must be an int"), (dict(device=3), "device must be a string")):
        with pytest.raises(ValueError, match=message):
            FinetuneConfig(**kw)


@pytest.mark.parametrize("setting, message", [({"steps": -3}, "steps must be an int >= 1"),
                                              ({"lr": float("inf")}, "lr must be a finite number > 0"),
                                              ({"threads": True}, "threads must be an int >= 1 or null")])
def test_pretraining_settings_are_checked_before_a_step_or_a_file(tmp_path, setting, message, capsys):
    with pytest.raises(ValueError, match=message):
        PretrainConfig(**setting)
    config = tmp_path / "p.yaml"
    config.write_text(yaml.safe_dump(setting))
    assert main(["pretrain", "--config", str(config), "--out-dir", str(tmp_path / "run"), "--quiet"]) == 2
    assert message.split(" must")[0] in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_pretrain_with_malformed_yaml_is_one_line_through_the_cli_handler(tmp_path, capsys):
    config = tmp_path / "p.yaml"
    config.write_text("steps: [3\n")
    assert main(["pretrain", "--config", str(config), "--out-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "p.yaml is not valid YAML" in err and "Traceback" not in err
