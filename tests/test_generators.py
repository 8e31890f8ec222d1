"""Every generator under one protocol: schema, reproducibility, bad input, registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalmix.data import load_dataset
from causalmix.generators import (
    GENERATORS,
    Generator,
    MixupGenerator,
    SMOTEGenerator,
    TableAugmentGenerator,
    allocate,
    make_generator,
)

BASELINES = ["none", "smote", "mixup", "tableaugment", "gaussian_copula"]
DATASETS = ["credit-g", "anneal", "maternal-health-risk", "blood-transfusion"]


@pytest.fixture(scope="module")
def small():
    """200 stratified-ish rows of each shared dataset (mixed types, missing values, multiclass)."""
    out = {}
    for name in DATASETS:
        ds = load_dataset(name)
        idx = np.random.default_rng(0).permutation(len(ds.X))[:200]
        out[name] = (ds.X.iloc[idx].reset_index(drop=True), ds.y.iloc[idx].reset_index(drop=True))
    return out


def assert_schema(X, y, Xs, ys, n):
    assert len(Xs) == len(ys) == n
    assert list(Xs.columns) == list(X.columns)
    assert (Xs.dtypes == X.dtypes).all(), Xs.dtypes[Xs.dtypes != X.dtypes]
    for c in X.columns:
        if isinstance(X[c].dtype, pd.CategoricalDtype):
            assert list(Xs[c].cat.categories) == list(X[c].cat.categories)
            assert set(Xs[c].dropna()) <= set(X[c].dropna())
    assert ys.dtype == y.dtype and ys.name == y.name
    assert set(ys) <= set(y)


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_baselines_schema_and_reproducibility(small, name, dataset):
    X, y = small[dataset]
    gen = make_generator(name).fit(X, y)
    n = 0 if name == "none" else 300
    Xs, ys = gen.sample(300, random_state=3)
    assert_schema(X, y, Xs, ys, n)
    Xs2, ys2 = gen.sample(300, random_state=3)
    pd.testing.assert_frame_equal(Xs, Xs2)
    pd.testing.assert_series_equal(ys, ys2)
    if n:
        for c in X.columns:  # numeric values inside the observed range (no generator extrapolates)
            if pd.api.types.is_numeric_dtype(X[c].dtype) and X[c].notna().any():
                tol = 1e-9 * (1 + X[c].abs().max())  # convex combinations round off
                assert Xs[c].dropna().between(X[c].min() - tol, X[c].max() + tol).all(), c
        # a missing rate the real column has is kept (MCAR re-insertion), within sampling noise
        miss = X.isna().mean()
        assert (abs(Xs.isna().mean() - miss) < 0.12).all()


@pytest.mark.slow
def test_causalmix_schema_on_shared_dataset(small):
    X, y = small["credit-g"]
    gen = make_generator("causalmix", n_bootstrap=2, n_dags=1).fit(X, y)
    Xs, ys = gen.sample(300, random_state=0)
    assert_schema(X, y, Xs, ys, 300)


def test_zero_rows_have_the_schema(small):
    X, y = small["credit-g"]
    for name in BASELINES:
        Xs, ys = make_generator(name).fit(X, y).sample(0, random_state=0)
        assert_schema(X, y, Xs, ys, 0)


def test_smote_counts_balance_and_tiny_classes():
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                      "cat": pd.Categorical(rng.choice(["p", "q"], size=n))})
    y = pd.Series(["a"] * 50 + ["b"] * 8 + ["c"] * 2, name="t")
    gen = SMOTEGenerator(k_neighbors=5).fit(X, y)
    _, ys = gen.sample(100, random_state=0)
    counts = ys.value_counts()
    assert counts.sum() == 100
    for k, share in {"a": 50 / 60, "b": 8 / 60, "c": 2 / 60}.items():  # proportional to 50:8:2
        assert abs(counts[k] - 100 * share) < 1
    _, ysb = SMOTEGenerator(class_balance="balanced").fit(X, y).sample(99, random_state=0)
    assert ysb.value_counts().to_dict() == {"a": 33, "b": 33, "c": 33}
    y1 = pd.Series(["a"] * 59 + ["lonely"], name="t")
    gen1 = SMOTEGenerator().fit(X, y1)
    assert any("lonely" in f for f in gen1.fallbacks_)
    Xs, ys = gen1.sample(120, random_state=0)
    lonely = Xs[ys == "lonely"]
    assert len(lonely) == 2 and (lonely["x"] == X["x"].iloc[-1]).all()  # copies of the single row


def test_smote_interpolates_within_class():
    # two well-separated clusters: SMOTE's rows of a class stay in that class's cluster
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 40), rng.normal(10, 1, 40)]})
    y = pd.Series(["lo"] * 40 + ["hi"] * 40)
    Xs, ys = SMOTEGenerator().fit(X, y).sample(200, random_state=0)
    assert (Xs.loc[ys == "lo", "x"] < 5).all() and (Xs.loc[ys == "hi", "x"] > 5).all()


def test_mixup_small_alpha_stays_near_real_rows():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=50), "c": rng.choice(["u", "v"], size=50)})
    y = pd.Series(rng.choice([0, 1], size=50))
    Xs, ys = MixupGenerator(alpha=0.01).fit(X, y).sample(200, random_state=0)
    dist = np.abs(Xs["x"].to_numpy()[:, None] - X["x"].to_numpy()[None, :]).min(axis=1)
    assert np.median(dist) < 1e-3
    assert ys.dtype == y.dtype and set(ys) <= {0, 1}
    # with alpha=1 the mixed values lie between rows: strictly inside the range, mostly not copies
    Xm, _ = MixupGenerator(alpha=1.0).fit(X, y).sample(200, random_state=0)
    dist = np.abs(Xm["x"].to_numpy()[:, None] - X["x"].to_numpy()[None, :]).min(axis=1)
    assert np.median(dist) > 1e-3


def test_tableaugment_masking():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=80), "w": rng.normal(size=80)})
    y = pd.Series(rng.choice(["a", "b"], size=80))
    Xs, ys = TableAugmentGenerator(mask_prob=0.0).fit(X, y).sample(100, random_state=0)
    real = {tuple(r) for r in pd.concat([X, y.rename("y")], axis=1).itertuples(index=False)}
    assert all(tuple(r) in real for r in pd.concat([Xs, ys.rename("y")], axis=1).itertuples(index=False))
    Xn, _ = TableAugmentGenerator(mask_prob=0.3, mask_value="nan").fit(X, y).sample(2000, random_state=0)
    assert abs(Xn.isna().to_numpy().mean() - 0.3) < 0.03


def test_gaussian_copula_keeps_correlation_sign_and_balance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=400)
    X = pd.DataFrame({"a": a, "b": -a + 0.3 * rng.normal(size=400), "n": rng.integers(0, 5, 400)})
    y = pd.Series(np.where(a + 0.5 * rng.normal(size=400) > 0.5, "yes", "no"))
    Xs, ys = make_generator("gaussian_copula").fit(X, y).sample(4000, random_state=0)
    assert Xs["a"].corr(Xs["b"]) < -0.8
    assert abs((ys == "yes").mean() - (y == "yes").mean()) < 0.05
    assert Xs.loc[ys == "yes", "a"].mean() > Xs.loc[ys == "no", "a"].mean() + 0.5
    assert Xs["n"].dtype == X["n"].dtype


def test_allocate_sums_and_proportions():
    assert allocate(10, np.array([1, 1, 1])).tolist() == [4, 3, 3]
    assert allocate(7, np.array([6, 1])).sum() == 7
    assert allocate(0, np.array([2, 5])).tolist() == [0, 0]


def test_registry_names_and_errors():
    assert set(GENERATORS) == {"none", "causalmix", "smote", "mixup", "tableaugment", "gaussian_copula", "ctgan", "tabebm"}
    for name in GENERATORS:
        assert isinstance(make_generator(name), Generator)
    with pytest.raises(ValueError, match="valid names: none, causalmix, smote"):
        make_generator("gan")
    with pytest.raises(TypeError, match="mixup"):
        make_generator("mixup", nonsense=1)


def test_ctgan_missing_extra_is_explained():
    try:
        import ctgan  # noqa: F401

        pytest.skip("ctgan is installed here")
    except ImportError:
        pass
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(ImportError, match=r"causalmix\[ctgan\]"):
        make_generator("ctgan").fit(X, pd.Series(["a", "b", "a", "b"]))


@pytest.mark.parametrize(
    "X, y, exc, match",
    [
        (pd.DataFrame({"x": [1.0, 2.0]}), pd.Series(["a", "a"]), ValueError, "at least 2"),
        (pd.DataFrame({"x": [1.0, 2.0]}), pd.Series(["a", "b", "a"]), ValueError, "different lengths"),
        (pd.DataFrame({"x": []}, dtype=float), pd.Series([], dtype=object), ValueError, "no rows"),
        (pd.DataFrame(index=range(2)), pd.Series(["a", "b"]), ValueError, "no columns"),
        (pd.DataFrame({"t": pd.to_datetime(["2020-01-01", "2021-01-01"])}), pd.Series(["a", "b"]),
         TypeError, "unsupported dtype"),
        (np.zeros((2, 1)), pd.Series(["a", "b"]), TypeError, "DataFrame"),
        (pd.DataFrame({"x": [1.0, 2.0]}), pd.Series(["a", None]), ValueError, "missing labels"),
    ],
)
def test_bad_input_is_rejected(X, y, exc, match):
    for name in ["smote", "mixup", "none"]:
        with pytest.raises(exc, match=match):
            make_generator(name).fit(X, y)


def test_sample_checks():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    y = pd.Series(["a", "b", "a", "b"])
    with pytest.raises(RuntimeError, match="not fitted"):
        MixupGenerator().sample(3)
    gen = MixupGenerator().fit(X, y)
    for bad in [-1, 2.5, "3"]:
        with pytest.raises(ValueError, match="non-negative int"):
            gen.sample(bad)
