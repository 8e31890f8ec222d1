"""Nothing read from a folder executes code: a crafted pickle planted in a results folder (the old
generator cache) or a crafted ``state.pt`` in a pretraining run folder runs no payload."""

from __future__ import annotations

import hashlib
import json
import os
import pickle

import pytest
import torch

from causalmix.pretraining import PretrainConfig, export_run, main, pretrain
from causalmix.prior import PriorConfig
from causalmix.runs import RunSpec, execute_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _old_cache_name(spec: RunSpec) -> str:
    """Where the removed generator cache stored (and unpickled) this run's fitted generator."""
    from causalmix.generators import make_generator
    from causalmix.seeds import stream_seed

    params = dict(spec.generator)
    probe = make_generator("gaussian_copula", **params)
    defaults = {"random_state": stream_seed(spec.seed, "generator_fit"), "model": spec.model}
    params.update({k: v for k, v in defaults.items() if k in probe.get_params() and k not in params})
    identity = {k: v for k, v in spec.identity().items() if k not in ("finetune", "model_learning_rate")}
    identity.update(method=None, variant=None, generator_name="gaussian_copula", generator=params)
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"gaussian_copula-{digest}.pkl"


def test_a_pickle_planted_in_a_results_folder_is_never_unpickled(untrained_checkpoint, tmp_path):
    spec = RunSpec(dataset="blood-transfusion", n_train=48, seed=0, method="gaussian_copula",
                   model=str(untrained_checkpoint), device="cpu", test_cap=100,
                   finetune={"max_steps": 1, "eval_every": 1, "learning_rate": 1e-3, "n_estimators": 1})
    marker = tmp_path / "PWNED"
    out = tmp_path / "results"
    (out / "generators").mkdir(parents=True)
    blob = pickle.dumps(Payload(marker))
    for name in (_old_cache_name(spec), "gaussian_copula-0000000000000000.pkl"):
        (out / "generators" / name).write_bytes(blob)
    record = execute_run(spec, out_dir=out)
    assert record.status == "ok", record.error
    assert not marker.exists(), "a pickle in the results folder was executed"
    assert record.generator_cached is False


def _tiny() -> PretrainConfig:
    return PretrainConfig(emsize=16, nlayers=1, nhead=2, steps=2, batch_size=2, batch_rows=128, warmup_steps=1,
                          checkpoint_every=1, threads=1, device="cpu",
                          prior=PriorConfig(min_rows=32, max_rows=48, max_features=3, max_classes=2))


def test_a_crafted_state_pt_in_a_run_folder_is_refused_without_running_its_payload(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"model": Payload(marker), "step": 1, "config": {}}, run / "state.pt")
    with pytest.raises(ValueError, match=r"Refusing to load .*state\.pt.*Nothing in it was executed"):
        pretrain(_tiny(), run, resume=True, progress=False)
    with pytest.raises(ValueError, match="Refusing to load"):
        export_run(run, tmp_path / "m.ckpt")
    assert main(["--export-only", "--out-dir", str(run), "--export", str(tmp_path / "m.ckpt")]) == 2
    assert "Refusing to load" in capsys.readouterr().err
    assert not marker.exists(), "a crafted state.pt was executed"
    (run / "state.pt").write_bytes(b"")  # a torn state: refused with the same clear message
    with pytest.raises(ValueError, match="Refusing to load"):
        export_run(run, tmp_path / "m.ckpt")


def test_a_genuine_state_pt_loads_with_weights_only(tmp_path):
    for optimizer in ("adamw", "muon"):
        cfg = PretrainConfig(**{**_tiny().__dict__, "optimizer": optimizer})
        pretrain(cfg, tmp_path / optimizer, progress=False, stop_after=1)
        pretrain(cfg, tmp_path / optimizer, resume=True, progress=False)  # resumes through weights_only=True
        assert export_run(tmp_path / optimizer, tmp_path / f"{optimizer}.ckpt").is_file()
