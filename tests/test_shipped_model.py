"""The shipped checkpoints (the default ``causalmix-wide`` and ``causalmix-tiny``): load through tabpfn
offline, are documented by their sidecars and predict real data well."""

import hashlib
import json

import numpy as np
import pytest

from causalmix import model as cm_model
from causalmix.data import load_dataset, low_data_split
from causalmix.metrics import roc_auc

CKPT = cm_model.WEIGHTS_DIR / "causalmix-wide.ckpt"


def test_default_model_is_the_shipped_wide_checkpoint():
    assert cm_model.DEFAULT_MODEL == "causalmix-wide"
    assert cm_model.resolve_model_path(cm_model.DEFAULT_MODEL) == CKPT
    assert cm_model.shipped_models() == ["causalmix-tiny", "causalmix-wide"]


@pytest.mark.parametrize("name", ["causalmix-tiny", "causalmix-wide"])
def test_shipped_checkpoints_are_small_and_documented(name):
    ckpt = cm_model.WEIGHTS_DIR / f"{name}.ckpt"
    assert ckpt.stat().st_size <= 10 * 1024 * 1024
    assert not any(marker in ckpt.name for marker in ("v2.5", "v2.6", "v3"))
    recipe = json.loads(ckpt.with_suffix(".json").read_text())
    assert recipe["sha256"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    for key in ("architecture", "prior", "steps", "batch_size", "seed", "wall_time_s", "hardware", "git_commit",
                "recommended_learning_rate", "recommended_learning_rate_measured"):
        assert key in recipe, key
    assert recipe["steps"] > 0 and 0 < recipe["recommended_learning_rate"] < 1e-2


def _zero_shot_auc(name: str, n_train: int, seed: int) -> float:
    ds = load_dataset(name)
    split = low_data_split(ds, n_train=n_train, n_val=len(ds.classes), seed=seed, test_cap=400)
    clf = cm_model.load_classifier(cm_model.DEFAULT_MODEL, device="cpu", n_estimators=2, random_state=seed)
    clf.fit(split.X_train, split.y_train)
    proba = clf.predict_proba(split.X_test)
    order = [list(clf.classes_).index(c) for c in ds.classes]
    return roc_auc(split.y_test, proba[:, order], ds.classes)


def test_shipped_model_clearly_beats_chance_on_wdbc():
    assert _zero_shot_auc("wdbc", n_train=128, seed=0) > 0.85


def test_shipped_model_beats_chance_on_a_multiclass_dataset():
    assert _zero_shot_auc("maternal-health-risk", n_train=128, seed=0) > 0.6


def test_shipped_model_is_deterministic_by_seed():
    ds = load_dataset("diabetes")
    split = low_data_split(ds, n_train=64, n_val=2, seed=1, test_cap=100)
    probas = [
        cm_model.load_classifier(cm_model.DEFAULT_MODEL, device="cpu", n_estimators=1, random_state=3)
        .fit(split.X_train, split.y_train)
        .predict_proba(split.X_test)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(probas[0], probas[1])
    assert probas[0].std() > 1e-3  # not the constant output of an untrained model
