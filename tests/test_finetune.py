"""The fine-tuning loop: it learns, selects and restores the best validation step, mixes synthetic
rows into the context only, is deterministic, and rejects bad input clearly.

A randomly initialised tiny model predicts a constant (ROC-AUC 0.5), so on a learnable real
dataset fine-tuning it must lower the validation loss: a strong check that gradients flow through
tabpfn's batched pieces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalmix.classifier import CausalMixFinetunedClassifier
from causalmix.data import load_dataset, low_data_split
from causalmix.encoding import Encoder
from causalmix.finetuning import FinetuneConfig, _split_rows, finetune
from causalmix.generators import make_generator
from causalmix.metrics import classification_metrics

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def wdbc_split(data_dir):
    return low_data_split(load_dataset("wdbc"), n_train=96, seed=0, test_cap=200)


@pytest.fixture(scope="module")
def adult_split(data_dir):
    return low_data_split(load_dataset("adult"), n_train=64, seed=0, test_cap=100)


def _config(**kw):
    base = dict(max_steps=10, eval_every=5, learning_rate=3e-3, n_estimators=1, device="cpu", patience=5)
    return FinetuneConfig(**{**base, **kw})


def test_finetuning_an_untrained_model_lowers_validation_loss_and_restores_the_best_step(untrained_checkpoint, wdbc_split):
    s = wdbc_split
    clf = CausalMixFinetunedClassifier(model=untrained_checkpoint, config=_config(early_stopping_metric="log_loss"))
    clf.fit(s.X_train, s.y_train, s.X_val, s.y_val)
    r = clf.result_
    assert r.metrics_step0["val_roc_auc"] == pytest.approx(0.5)  # the untrained model is constant
    assert r.best_step > 0
    assert r.metrics_best["val_log_loss"] < r.metrics_step0["val_log_loss"] - 0.01
    assert list(r.curve["step"]) == [0, 5, 10]
    assert {"step", "train_loss", "val_roc_auc", "val_accuracy", "val_log_loss"} <= set(r.curve.columns)
    # The returned model is the selected step: its validation predictions reproduce that curve row.
    again = classification_metrics(s.y_val, clf.predict_proba(s.X_val), clf.classes_)
    row = r.curve.set_index("step").loc[r.best_step]
    for k in ("roc_auc", "log_loss"):
        assert again[k] == pytest.approx(row[f"val_{k}"], abs=1e-5)
    assert set(clf.predict(s.X_val[:5])) <= set(clf.classes_)
    # a scikit-learn classifier: score is the accuracy of predict, clone gives an unfitted twin
    from sklearn.base import clone, is_classifier

    assert clf.score(s.X_val, s.y_val) == pytest.approx(again["accuracy"])
    assert is_classifier(clf) and not hasattr(clone(clf), "classifier_")
    assert clone(clf).set_params(random_state=1).get_params()["random_state"] == 1


def test_a_diverging_run_stops_early_and_returns_the_pretrained_model(untrained_checkpoint, wdbc_split):
    s = wdbc_split
    cfg = _config(max_steps=30, eval_every=2, patience=2, learning_rate=5.0, grad_clip=None,
                  early_stopping_metric="log_loss")
    clf = CausalMixFinetunedClassifier(model=untrained_checkpoint, config=cfg).fit(s.X_train, s.y_train, s.X_val, s.y_val)
    r = clf.result_
    assert r.best_step == 0
    assert r.stopped_early and r.n_steps == 4 and list(r.curve["step"]) == [0, 2, 4]
    assert r.curve["val_log_loss"].iloc[1:].min() > r.metrics_step0["val_log_loss"]  # it really diverged
    assert r.metrics_best == r.metrics_step0
    untouched = CausalMixFinetunedClassifier(model=untrained_checkpoint, config=_config(max_steps=0))
    untouched.fit(s.X_train, s.y_train, s.X_val, s.y_val)
    np.testing.assert_allclose(clf.predict_proba(s.X_test), untouched.predict_proba(s.X_test), atol=1e-6)


def test_same_seed_same_curve_and_test_sets_are_evaluated(untrained_checkpoint, adult_split):
    s = adult_split
    kw = dict(test_sets={"test": (s.X_test, s.y_test)}, generator=make_generator("smote").fit(s.X_train, s.y_train),
              config=_config(max_steps=4, eval_every=2))
    a = finetune(untrained_checkpoint, s.X_train, s.y_train, s.X_val, s.y_val, seed=3, **kw)
    b = finetune(untrained_checkpoint, s.X_train, s.y_train, s.X_val, s.y_val, seed=3, **kw)
    c = finetune(untrained_checkpoint, s.X_train, s.y_train, s.X_val, s.y_val, seed=4, **kw)
    pd.testing.assert_frame_equal(a.curve, b.curve)
    assert not a.curve["train_loss"].iloc[1:].equals(c.curve["train_loss"].iloc[1:])
    for m in ("roc_auc", "accuracy", "log_loss"):
        assert f"test_{m}" in a.curve and f"test_{m}" in a.metrics_best
    assert a.n_params > 0 and a.device == "cpu"
    assert {"setup", "synthetic", "preprocess", "train", "eval", "total"} <= set(a.timings)


class _RecordingGenerator:
    """Wraps a real generator and records how many rows each ``sample`` call asked for."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []
        self.classes_, self.feature_names_in_ = inner.classes_, inner.feature_names_in_

    def sample(self, n, random_state=None):
        self.calls.append(n)
        return self.inner.sample(n, random_state)


def test_synthetic_rows_go_to_the_context_at_the_ratio_drawn_in_pools(untrained_checkpoint, adult_split):
    s = adult_split
    gen = _RecordingGenerator(make_generator("mixup").fit(s.X_train, s.y_train))
    cfg = _config(max_steps=5, eval_every=5, synthetic_ratio=0.5, synthetic_pool_steps=2)
    finetune(untrained_checkpoint, s.X_train, s.y_train, s.X_val, s.y_val, generator=gen, config=cfg, seed=0)
    codes = np.unique(np.asarray(s.y_train), return_inverse=True)[1]
    ctx, _ = _split_rows(codes, len(codes), cfg.query_fraction, np.random.default_rng(0))
    per_step = round(0.5 * len(ctx))
    assert gen.calls == [2 * per_step] * 3  # 5 steps from pools of 2 steps: 3 draws


def test_split_rows_is_stratified_and_keeps_every_class_in_the_context():
    y = np.array([0] * 40 + [1] * 9 + [2] * 1)
    ctx, qry = _split_rows(y, len(y), 0.2, np.random.default_rng(0))
    assert len(set(ctx) & set(qry)) == 0 and len(ctx) + len(qry) == 50
    assert sorted(np.bincount(y[qry], minlength=3)) == [0, 2, 8]  # 20 % of each class, none of the singleton
    assert set(y[ctx]) == {0, 1, 2}
    ctx, qry = _split_rows(y, 25, 0.2, np.random.default_rng(0))  # capped rows per step, still stratified
    assert len(ctx) + len(qry) == 25 and set(y[ctx]) == {0, 1, 2}


def test_encoder_codes_real_and_synthetic_rows_identically():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": pd.Categorical(["x", "y", "x"], categories=["y", "x", "z"])})
    enc = Encoder.fit(X, ["p", "q", "p"])
    assert enc.categorical_indices == [1]
    other = pd.DataFrame({"a": [5.0, np.nan], "c": pd.Categorical(["z", None], categories=["x", "z"])})
    np.testing.assert_array_equal(enc.X(other, "rows")[:, 1], [2.0, np.nan])  # by level, not by code
    np.testing.assert_array_equal(enc.X(X, "rows")[:, 1], [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(enc.y(["q", "p"], "labels"), [1, 0])
    with pytest.raises(ValueError, match="not among the training classes"):
        enc.y(["r"], "labels")
    with pytest.raises(ValueError, match="missing \\['c'\\]"):
        enc.X(X[["a"]], "rows")


def test_bad_configuration_and_input_get_clear_errors(untrained_checkpoint, wdbc_split):
    with pytest.raises(ValueError, match="query_fraction"):
        FinetuneConfig(query_fraction=1.5)
    with pytest.raises(ValueError, match="Unknown fine-tuning parameters \\['lr'\\]"):
        FinetuneConfig.from_dict({"lr": 1e-3})
    s = wdbc_split
    with pytest.raises(ValueError, match="fewer than 2 classes"):
        finetune(untrained_checkpoint, s.X_train, np.zeros(len(s.y_train)), s.X_val, s.y_val, config=_config())
    with pytest.raises(ValueError, match="'val' is reserved"):
        finetune(untrained_checkpoint, s.X_train, s.y_train, s.X_val, s.y_val, test_sets={"val": (s.X_val, s.y_val)},
                 config=_config())
