"""Fidelity diagnostics on hand-made data with known answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from causalmix.fidelity import FidelityReport, association_matrix, fidelity_report


def draw(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = a + 0.3 * rng.normal(size=n)
    c = pd.Categorical(np.where(a > 0, "up", "down"), categories=["down", "up"])
    y = pd.Series(np.where(a + 0.5 * rng.normal(size=n) > 0, "pos", "neg"), name="y")
    return pd.DataFrame({"a": a, "b": b, "c": c}), y


@pytest.fixture(scope="module")
def real():
    return draw(600, seed=0)


def test_identical_data_has_zero_distances(real):
    rep = fidelity_report(real, real)
    assert isinstance(rep, FidelityReport)
    assert list(rep.columns["column"]) == ["a", "b", "c", "y"]
    assert list(rep.columns["metric"]) == ["ks", "ks", "tv", "tv"]
    assert np.allclose(rep.columns["distance"], 0)
    assert rep.association_diff == pytest.approx(0, abs=1e-12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.c2st_auc = 0.0


def test_same_distribution_is_hard_to_tell_apart(real):
    rep = fidelity_report(real, draw(600, seed=1), real_test=draw(400, seed=2))
    s = rep.summary()
    assert set(s) == {"marginal_mean", "marginal_max", "association_diff", "c2st_auc", "tstr_auc",
                      "trtr_auc", "n_real", "n_synthetic"}
    assert s["marginal_max"] < 0.12
    assert s["association_diff"] < 0.08
    assert 0.35 < s["c2st_auc"] < 0.65
    assert s["tstr_auc"] > 0.8 and abs(s["tstr_auc"] - s["trtr_auc"]) < 0.05


def test_shift_and_broken_dependencies_are_detected(real):
    X, y = draw(600, seed=1)
    shifted = X.assign(a=X["a"] + 3.0)
    rep = fidelity_report(real, (shifted, y))
    row = rep.columns.set_index("column").loc["a"]
    assert row["distance"] > 0.8 and rep.c2st_auc > 0.9
    # shuffling every column independently keeps the marginals and destroys the associations
    rng = np.random.default_rng(0)
    shuffled = X.apply(lambda col: col.sample(frac=1, random_state=int(rng.integers(1000))).to_numpy())
    shuffled["c"] = pd.Categorical(shuffled["c"], categories=["down", "up"])
    y_shuffled = pd.Series(rng.permutation(y.to_numpy()), name="y")
    broken = fidelity_report(real, (shuffled, y_shuffled), real_test=draw(400, seed=2))
    faithful = fidelity_report(real, (X, y), real_test=draw(400, seed=2))
    assert broken.columns["distance"].max() < 0.12
    assert broken.association_diff > faithful.association_diff + 0.2
    assert broken.c2st_auc > faithful.c2st_auc + 0.2
    # a model trained on labels unrelated to the features cannot rank real rows well
    assert faithful.tstr_auc > 0.8 and broken.tstr_auc < faithful.tstr_auc - 0.2


def test_association_matrix_known_values():
    x = np.arange(10.0)
    df = pd.DataFrame({"x": x, "neg": -x ** 3, "g": ["p"] * 5 + ["q"] * 5, "h": ["p"] * 5 + ["q"] * 5,
                       "const": 1.0})
    A = association_matrix(df)
    assert A.loc["x", "neg"] == pytest.approx(-1)  # Spearman: monotone decreasing
    assert A.loc["g", "h"] == pytest.approx(1)  # Cramér's V: identical categoricals
    assert A.loc["x", "const"] == 0
    assert 0.8 < A.loc["x", "g"] <= 1  # eta: the groups split x cleanly
    assert (np.diag(A) == 1).all() and (A == A.T).all().all()


def test_mismatched_columns_and_bad_input(real):
    X, y = real
    with pytest.raises(ValueError, match="different columns"):
        fidelity_report(real, (X.drop(columns="b"), y))
    with pytest.raises(TypeError, match=r"\(X, y\) pair"):
        fidelity_report(X, real)


def test_empty_synthetic_gives_nan_scores(real):
    X, y = real
    rep = fidelity_report(real, (X.iloc[:0], y.iloc[:0]))
    assert rep.n_synthetic == 0 and np.isnan(rep.c2st_auc) and np.isnan(rep.tstr_auc)
