"""Every reported number right: query-independent evaluation, step 0 = a plain TabPFNClassifier,
every feature reaching the model, common random numbers, deterministic records, honest run ids.

These use the shipped offline model (a trained checkpoint: a constant predictor would make the
equalities trivial).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from causalmix.data import load_dataset, low_data_split
from causalmix.evaluation import ContextEvaluator
from causalmix.encoding import Encoder
from causalmix.finetuning import FinetuneConfig, finetune
from causalmix.metrics import roc_auc
from causalmix.model import load_classifier
from causalmix.runs import RunSpec, execute_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")
MODEL = "causalmix-tiny"


def _encoded(name: str, n_train: int = 96, test_cap: int = 2000, seed: int = 0):
    split = low_data_split(load_dataset(name), n_train=n_train, seed=seed, test_cap=test_cap)
    enc = Encoder.fit(split.X_train, split.y_train)
    return split, enc, enc.X(split.X_train, "train"), enc.y(split.y_train, "train"), enc.X(split.X_test, "test")


# anneal: columns constant among the context rows but not among the queries, where tabpfn's default
# mode decides per batch (its probabilities moved by up to 0.009 with the batch here)
@pytest.mark.parametrize(("name", "n_test"), [("adult", 2000), ("anneal", 778)])
def test_a_rows_probabilities_do_not_depend_on_the_other_query_rows(data_dir, name, n_test):
    _, enc, X_tr, y_tr, X_te = _encoded(name, test_cap=2000)
    assert len(X_te) == n_test
    ev = ContextEvaluator(MODEL, X_tr, y_tr, categorical_indices=enc.categorical_indices, n_estimators=2, seed=0,
                          chunk_rows=4096)
    in_batch = ev.predict_proba(X_te)
    alone = np.concatenate([ev.predict_proba(X_te[i : i + 1]) for i in range(0, n_test, 97)])
    assert np.abs(in_batch[::97] - alone).max() <= 1e-5
    shuffled = np.random.default_rng(0).permutation(n_test)
    assert np.abs(ev.predict_proba(X_te[shuffled]) - in_batch[shuffled]).max() <= 1e-5
    in_chunks = np.concatenate([ev.predict_proba(X_te[i : i + 50]) for i in range(0, n_test, 50)])
    assert np.abs(in_chunks - in_batch).max() <= 1e-5


@pytest.mark.parametrize("name", ["adult", "credit-g", "anneal"])  # all three have categorical columns
def test_step0_equals_a_plain_cached_tabpfn_classifier_fitted_on_the_training_rows(data_dir, name):
    split, enc, X_tr, y_tr, X_te = _encoded(name, test_cap=500)
    assert enc.categorical_indices
    result = finetune(MODEL, split.X_train, split.y_train, split.X_val, split.y_val,
                      test_sets={"test": (split.X_test, split.y_test)},
                      config=FinetuneConfig(max_steps=0, n_estimators=2), seed=3)
    plain = load_classifier(MODEL, n_estimators=result.n_estimators_eval, random_state=3, device="cpu",
                            fit_mode="fit_with_cache")
    plain.categorical_features_indices = enc.categorical_indices
    plain.fit(X_tr, y_tr)
    expected = roc_auc(enc.y(split.y_test, "test"), plain.predict_proba(X_te), range(len(enc.classes)))
    assert abs(result.metrics_step0["test_roc_auc"] - expected) <= 1e-4


def test_validation_metrics_do_not_depend_on_the_test_cap(data_dir):
    ds = load_dataset("adult")
    curves = []
    for cap in (0, 500, 5000):
        split = low_data_split(ds, n_train=64, seed=1, test_cap=max(cap, 1))
        tests = {} if cap == 0 else {"test": (split.X_test, split.y_test)}
        result = finetune(MODEL, split.X_train, split.y_train, split.X_val, split.y_val, test_sets=tests,
                          config=FinetuneConfig(max_steps=4, eval_every=2, n_estimators=1, learning_rate=3e-4), seed=1)
        curves.append(result.curve[["val_roc_auc", "val_log_loss", "val_accuracy"]].to_numpy())
    assert np.array_equal(curves[0], curves[1]) and np.array_equal(curves[0], curves[2])


def test_every_feature_reaches_the_model(data_dir):
    split = low_data_split(load_dataset("wdbc"), n_train=64, seed=0, test_cap=100)  # 30 features, cap 20
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = finetune(MODEL, split.X_train, split.y_train, split.X_val, split.y_val,
                          config=FinetuneConfig(max_steps=1, eval_every=1, n_estimators=1, learning_rate=3e-4), seed=0)
    assert (result.n_estimators, result.n_estimators_eval, result.n_features_used) == (2, 2, 30)
    assert not [w for w in caught if "covers at most" in str(w.message)]


def _run_spec(**kw):
    base = dict(dataset="blood-transfusion", n_train=48, seed=0, method="finetune", model=MODEL, device="cpu",
                test_cap=100, finetune={"max_steps": 4, "eval_every": 1, "learning_rate": 3e-4, "n_estimators": 1})
    return RunSpec(**{**base, **kw})


def test_causalmix_with_ratio_zero_reproduces_default_finetuning_bit_for_bit(data_dir):
    # Common random numbers: the synthetic stream is separate, so an augmenting method with no
    # synthetic rows sees exactly the partitions, preprocessing and weights of default fine-tuning.
    ft = execute_run(_run_spec())
    cm = execute_run(_run_spec(method="causalmix", finetune={**_run_spec().finetune, "synthetic_ratio": 0.0},
                               generator={"n_bootstrap": 1, "n_dags": 1}))
    assert ft.status == cm.status == "ok", (ft.error, cm.error)
    metric_cols = [c for c in ft.curve.columns if c != "lr"]
    assert ft.curve[metric_cols].equals(cm.curve[metric_cols])


def _comparable(record):
    provenance = {"wall_time_s", "cpu_time_s", "timings", "generator_cached", "hardware", "git_commit", "traceback"}
    return {k: v for k, v in record.to_dict().items() if k not in provenance}


def test_same_seed_twice_gives_identical_records_with_warnings_even_with_a_tiny_time_budget(data_dir, tmp_path):
    spec = _run_spec(method="smote", n_train=16)  # about 4 rows of the minority class: SMOTE lowers k
    first, again = execute_run(spec, out_dir=tmp_path / "a"), execute_run(spec, out_dir=tmp_path / "b")
    assert first.status == "ok", first.error
    assert _comparable(first) == _comparable(again) and first.curve.equals(again.curve)
    assert any(w["category"] == "GeneratorFallbackWarning" and "k_neighbors lowered" in w["message"]
               for w in first.warnings)
    # A discovery time budget never silently changes what is computed: it is a recorded failure.
    tiny = _run_spec(method="causalmix", generator={"n_bootstrap": 3, "time_budget": 1e-9})
    a, b = execute_run(tiny, out_dir=tmp_path / "c"), execute_run(tiny, out_dir=tmp_path / "d")
    assert a.status == b.status == "failed" and "DiscoveryTimeoutError" in a.error
    assert _comparable(a) == _comparable(b)


def test_the_run_id_changes_with_the_result_version_and_the_learning_rate_but_not_the_code(data_dir, monkeypatch):
    import causalmix.runs as runs

    spec = _run_spec()
    before = spec.run_id
    monkeypatch.setattr(runs, "result_code_hash", lambda: "0" * 16)  # a refactor: the source changes
    assert spec.run_id == before
    monkeypatch.setattr(runs, "RESULT_VERSION", runs.RESULT_VERSION + 1)  # a change meant to move numbers
    assert spec.run_id != before
    monkeypatch.undo()
    assert spec.run_id == before
    assert _run_spec(finetune={**spec.finetune, "learning_rate": 1e-4}).run_id != before


def test_the_result_code_ignores_documentation_and_layout_but_not_code():
    from pathlib import Path

    import causalmix.runs as runs

    source = Path(runs.__file__).read_text()
    assert "DEFAULT_MIN_N_TRAIN = 8" in source
    documented = source.replace('"""', '"""Edited, reflowed\n and longer. ', 1) + "\n# a comment\n"
    assert runs.code_text(documented) == runs.code_text(source)
    assert runs.code_text(source.replace("DEFAULT_MIN_N_TRAIN = 8", "DEFAULT_MIN_N_TRAIN = 9")) != runs.code_text(source)
