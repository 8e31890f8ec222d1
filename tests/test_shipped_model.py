"""The shipped ``causalmix-tiny`` checkpoint: loads through tabpfn offline and predicts real data well."""

import hashlib
import json

import numpy as np

from causalmix import model as cm_model
from causalmix.data import load_dataset, low_data_split
from causalmix.metrics import roc_auc

CKPT = cm_model.WEIGHTS_DIR / "causalmix-tiny.ckpt"
SIDECAR = CKPT.with_suffix(".json")


def test_default_model_is_the_shipped_checkpoint_and_it_is_small_and_documented():
    assert cm_model.DEFAULT_MODEL == "causalmix-tiny"
    assert cm_model.resolve_model_path(cm_model.DEFAULT_MODEL) == CKPT
    assert CKPT.stat().st_size <= 10 * 1024 * 1024
    assert not any(marker in CKPT.name for marker in ("v2.5", "v2.6", "v3"))
    recipe = json.loads(SIDECAR.read_text())
    assert recipe["sha256"] == hashlib.sha256(CKPT.read_bytes()).hexdigest()
    for key in ("architecture", "prior", "steps", "batch_size", "seed", "wall_time_s", "hardware", "git_commit"):
        assert key in recipe, key
    assert recipe["steps"] > 0


def _zero_shot_auc(name: str, n_train: int, seed: int) -> float:
    ds = load_dataset(name)
    split = low_data_split(ds, n_train=n_train, n_val=len(ds.classes), seed=seed, test_cap=400)
    clf = cm_model.load_classifier("causalmix-tiny", device="cpu", n_estimators=2, random_state=seed)
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
        cm_model.load_classifier("causalmix-tiny", device="cpu", n_estimators=1, random_state=3)
        .fit(split.X_train, split.y_train)
        .predict_proba(split.X_test)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(probas[0], probas[1])
    assert probas[0].std() > 1e-3  # not the constant output of an untrained model
