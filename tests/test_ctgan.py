"""CTGAN for real (runs where the optional `ctgan` extra is installed: `make test` runs this module in
its own environment, .venv-ctgan, since ctgan needs pandas < 3): fit and sample on a shared
dataset, seeds, schema; no processes left behind; a whole run, as the CTGAN study runs in this environment."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd
import pytest

ctgan = pytest.importorskip("ctgan")

from causalmix.data import load_dataset, low_data_split  # noqa: E402
from causalmix.generators import make_generator  # noqa: E402


@pytest.fixture(scope="module")
def credit(data_dir):
    return low_data_split(load_dataset("credit-g"), n_train=128, seed=0, test_cap=10)


def test_ctgan_fits_and_samples_a_shared_dataset_with_its_schema(credit):
    gen = make_generator("ctgan", epochs=5, random_state=0).fit(credit.X_train, credit.y_train)
    X_syn, y_syn = gen.sample(300, random_state=1)
    assert X_syn.shape == (300, credit.X_train.shape[1]) and list(X_syn.columns) == list(credit.X_train.columns)
    assert (X_syn.dtypes == credit.X_train.dtypes).all() and y_syn.dtype == credit.y_train.dtype
    assert set(y_syn) <= set(credit.y_train)
    for col in credit.X_train.select_dtypes("category"):
        assert set(X_syn[col].dropna()) <= set(credit.X_train[col].cat.categories)


def test_ctgan_same_seeds_same_rows(credit):
    a = make_generator("ctgan", epochs=3, random_state=0).fit(credit.X_train, credit.y_train)
    b = make_generator("ctgan", epochs=3, random_state=0).fit(credit.X_train, credit.y_train)
    Xa, ya = a.sample(100, random_state=5)
    Xb, yb = b.sample(100, random_state=5)
    pd.testing.assert_frame_equal(Xa, Xb)
    pd.testing.assert_series_equal(ya, yb)
    Xc, _ = a.sample(100, random_state=6)
    assert not Xa.equals(Xc)


def test_ctgan_leaves_no_processes_behind_from_500_rows():
    # From 500 rows ctgan's transform goes through joblib.Parallel(n_jobs=-1); its loky processes would
    # oversubscribe a sweep and keep a sweep worker from exiting.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    y = pd.Series(rng.integers(0, 2, 600), name="label")
    make_generator("ctgan", epochs=1, random_state=0).fit(X, y).sample(50, random_state=0)
    assert multiprocessing.active_children() == []


def test_a_ctgan_run_in_this_environment(data_dir, tmp_path):
    from causalmix.runs import RunSpec, execute_run

    spec = RunSpec(dataset="diabetes", n_train=32, seed=0, method="ctgan", device="cpu", test_cap=50,
                   finetune={"max_steps": 2, "eval_every": 1, "n_estimators": 1}, generator={"epochs": 2})
    record = execute_run(spec, out_dir=tmp_path)
    assert record.status == "ok", record.error
    assert record.n_steps == 2 and record.spec["generator"] == {"epochs": 2}
