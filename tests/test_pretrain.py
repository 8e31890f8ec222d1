"""Pretraining: the PFN loss goes down, runs checkpoint in the tabpfn format, and resume is exact."""

import csv
import dataclasses
import hashlib
import json

import numpy as np
import pytest
import torch

from causalmix.model import build_architecture
from causalmix.pretraining import PretrainConfig, batch_loss, lr_at, main, pretrain
from causalmix.prior import PriorConfig, sample_batch
from causalmix.provenance import machine

TINY_PRIOR = PriorConfig(min_rows=32, max_rows=64, max_features=4, max_classes=3)


def tiny_config(**overrides) -> PretrainConfig:
    settings = dict(emsize=16, nlayers=1, nhead=2, steps=6, batch_size=3, batch_rows=192, lr=3e-3,
                    warmup_steps=2, checkpoint_every=2, threads=1, device="cpu", prior=TINY_PRIOR)
    return PretrainConfig(**{**settings, **overrides})


def test_learning_rate_warms_up_then_decays_to_its_floor():
    cfg = PretrainConfig(lr=1e-3, warmup_steps=10, steps=110, min_lr_ratio=0.1)
    lrs = [lr_at(cfg, s) for s in range(cfg.steps)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=1e-2)


def test_a_few_steps_reduce_the_pfn_loss_on_a_fixed_batch(one_torch_thread):
    torch.manual_seed(0)
    model, _ = build_architecture({"emsize": 32, "nlayers": 2, "nhead": 2})
    prior = PriorConfig(max_features=5, max_classes=2, multiclass_prob=0.0, noise_std_range=(0.003, 0.05))
    batch = sample_batch(prior, batch_size=8, n_rows=64, seed=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = batch_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.85 * np.mean(losses[:3])


def test_batch_loss_ignores_classes_a_dataset_does_not_have():
    """With all logits equal, the loss is log(k) for a k-class dataset, not log(10)."""

    class Constant(torch.nn.Module):
        def forward(self, x, y, **kwargs):
            return torch.zeros(x.shape[0] - y.shape[0], x.shape[1], 10)

    batch = sample_batch(PriorConfig(max_classes=3, multiclass_prob=1.0), batch_size=1, n_rows=200, seed=2)
    k = int(batch.n_classes_B[0])
    assert float(batch_loss(Constant(), batch)) == pytest.approx(np.log(k), rel=1e-5)


def test_run_writes_loss_curve_and_checkpoints_that_tabpfn_loads(tmp_path):
    from causalmix.model import load_classifier

    out = tmp_path / "run"
    rc = main(["--out-dir", str(out), "--steps", "4", "--checkpoint-every", "2", "--emsize", "16",
               "--nlayers", "1", "--nhead", "2", "--batch-size", "2", "--max-rows", "64",
               "--max-features", "4", "--threads", "1", "--device", "cpu", "--quiet"])
    assert rc == 0
    rows = list(csv.DictReader((out / "loss.csv").open()))
    assert [int(r["step"]) for r in rows] == [0, 1, 2, 3]
    assert all(np.isfinite(float(r["loss"])) for r in rows)
    assert (out / "step_000002.ckpt").is_file() and (out / "step_000004.ckpt").is_file()

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    clf = load_classifier(out / "latest.ckpt", device="cpu", n_estimators=1).fit(X[:40], y[:40])
    proba = clf.predict_proba(X[40:])
    assert proba.shape == (20, 2) and np.allclose(proba.sum(1), 1.0)


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_resumed_run_matches_an_uninterrupted_one(tmp_path, optimizer):
    cfg = dataclasses.replace(tiny_config(), optimizer=optimizer)
    pretrain(cfg, tmp_path / "straight", progress=False)
    pretrain(cfg, tmp_path / "broken", progress=False, stop_after=3)
    interrupted = torch.load(tmp_path / "broken" / "state.pt", weights_only=False)
    assert interrupted["step"] == 3
    pretrain(cfg, tmp_path / "broken", resume=True, progress=False)

    a = torch.load(tmp_path / "straight" / "state.pt", weights_only=False)
    b = torch.load(tmp_path / "broken" / "state.pt", weights_only=False)
    assert a["step"] == b["step"] == cfg.steps
    for name, tensor in a["model"].items():
        torch.testing.assert_close(b["model"][name], tensor, rtol=1e-5, atol=1e-6)
    assert len(a["optimizers"]) == (1 if optimizer == "adamw" else 2)
    for opt_a, opt_b in zip(a["optimizers"], b["optimizers"]):  # the optimizer states resumed too
        assert opt_a["state"].keys() == opt_b["state"].keys()
        for key, state in opt_a["state"].items():
            for name, value in state.items():
                torch.testing.assert_close(opt_b["state"][key][name], value, rtol=1e-5, atol=1e-6)
    losses = lambda run: [r["loss"] for r in csv.DictReader((tmp_path / run / "loss.csv").open())]  # noqa: E731
    assert losses("broken") == losses("straight")


def test_a_prior_process_drawing_batches_ahead_trains_the_same_model(tmp_path):
    cfg = tiny_config(steps=4)
    pretrain(cfg, tmp_path / "inline", progress=False)
    pretrain(dataclasses.replace(cfg, prior_workers=1), tmp_path / "ahead", progress=False)
    a = torch.load(tmp_path / "inline" / "state.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "ahead" / "state.pt", weights_only=False)["model"]
    for name, tensor in a.items():
        torch.testing.assert_close(b[name], tensor, rtol=0, atol=0)
    waits = [float(r["prior_s"]) for r in csv.DictReader((tmp_path / "ahead" / "loss.csv").open())]
    assert len(waits) == 4 and all(w >= 0 for w in waits)


def test_export_writes_the_checkpoint_and_its_recipe(tmp_path):
    path = tmp_path / "mini-model.ckpt"
    summary = pretrain(tiny_config(steps=2), tmp_path / "run", export=path, progress=False)
    assert summary["export"] == str(path)
    recipe = json.loads(path.with_suffix(".json").read_text())
    assert recipe["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert recipe["steps"] == 2 and recipe["seed"] == 0 and recipe["architecture"]["emsize"] == 16
    assert recipe["prior"]["max_features"] == 4 and "hardware" in recipe and "wall_time_s" in recipe
    machine_ = json.loads(json.dumps(machine("cpu")))  # provenance's probe, the one implementation
    assert recipe["hardware"] == {"device": "cpu", **machine_, "torch_threads": tiny_config().threads}


def test_existing_runs_are_neither_clobbered_nor_resumed_with_another_recipe(tmp_path):
    pretrain(tiny_config(steps=2), tmp_path, progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        pretrain(tiny_config(steps=2), tmp_path, progress=False)
    with pytest.raises(ValueError, match="lr"):
        pretrain(tiny_config(steps=2, lr=1e-2), tmp_path, resume=True, progress=False)


def test_config_file_with_an_unknown_key_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("emsize: 16\nlearning_rate: 0.1\n")
    assert main(["--config", str(cfg), "--out-dir", str(tmp_path / "run"), "--quiet"]) == 2
    assert "learning_rate" in capsys.readouterr().err


def test_export_only_ships_the_last_saved_state_of_a_run(tmp_path):
    pretrain(tiny_config(steps=4), tmp_path / "run", progress=False, stop_after=2)
    path = tmp_path / "early.ckpt"
    assert main(["--out-dir", str(tmp_path / "run"), "--export-only", "--export", str(path)]) == 0
    recipe = json.loads(path.with_suffix(".json").read_text())
    assert recipe["steps"] == 2 and recipe["planned_steps"] == 4
    state = torch.load(tmp_path / "run" / "state.pt", weights_only=False)
    shipped = torch.load(path, weights_only=False)["state_dict"]
    for name, tensor in state["model"].items():
        assert torch.equal(shipped[name], tensor)
    assert main(["--out-dir", str(tmp_path / "nothing"), "--export-only", "--export", str(path)]) == 2


def test_exported_checkpoint_carries_the_inference_config_tabpfn_uses(tmp_path):
    from causalmix.model import load_classifier

    path = tmp_path / "cfg-model.ckpt"
    pretrain(tiny_config(steps=1, inference_max_features=7), tmp_path / "run", export=path, progress=False)
    stored = torch.load(path, weights_only=False)["inference_config"]
    assert {p["max_features_per_estimator"] for p in stored["PREPROCESS_TRANSFORMS"]} == {7}
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 12)), np.repeat(["a", "b"], 25)
    clf = load_classifier(path, device="cpu", n_estimators=1).fit(X[:40], y[:40])
    transforms = clf.inference_config_.PREPROCESS_TRANSFORMS
    assert all(p.max_features_per_estimator == 7 and p.global_transformer_name is None for p in transforms)
    assert clf.predict_proba(X[40:]).shape == (10, 2)
