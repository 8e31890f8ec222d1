import numpy as np
import pytest

from causalmix.model import ModelNotAvailableError, load_classifier, resolve_model_path, save_checkpoint


def test_checkpoint_round_trip_through_tabpfn(untrained_checkpoint):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = load_classifier(untrained_checkpoint, device="cpu", n_estimators=1).fit(X, y)
    proba = clf.predict_proba(X[:5])
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_unknown_model_spec_names_the_choices():
    with pytest.raises(ModelNotAvailableError, match="Unknown model 'no-such-model'"):
        resolve_model_path("no-such-model")


def test_tabpfn_v2_offline_fails_fast_with_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TABPFN_MODEL_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError, match="TABPFN_MODEL_CACHE_DIR"):
        resolve_model_path("tabpfn-v2")


def test_version_markers_are_refused(untrained_checkpoint, tmp_path):
    import torch

    bad = tmp_path / "model-v2.5.ckpt"
    bad.write_bytes(untrained_checkpoint.read_bytes())
    with pytest.raises(ValueError, match="version marker"):
        resolve_model_path(bad)
    with pytest.raises(ValueError, match="must not contain"):
        save_checkpoint(torch.nn.Linear(1, 1), {}, tmp_path / "x-v3.ckpt")


def test_model_fingerprint_follows_the_weights(untrained_checkpoint, tmp_path):
    from causalmix.experiment import RunSpec
    from causalmix.model import model_fingerprint

    copy = tmp_path / "copy.ckpt"
    copy.write_bytes(untrained_checkpoint.read_bytes())
    assert model_fingerprint(copy) == model_fingerprint(untrained_checkpoint)
    assert model_fingerprint("tabpfn-v2-not-here") == "tabpfn-v2-not-here"
    before = RunSpec(dataset="diabetes", n_train=64, seed=0, method="finetune", model=str(copy)).run_id
    copy.write_bytes(untrained_checkpoint.read_bytes() + b"changed")  # new weights, same path
    after = RunSpec(dataset="diabetes", n_train=64, seed=0, method="finetune", model=str(copy)).run_id
    assert before != after  # records made with other weights are never reused
