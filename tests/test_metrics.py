import math

import numpy as np
import pandas as pd
import pytest

from causalmix import metrics as M
from causalmix.report import aggregation as A


def test_binary_roc_auc_by_hand():
    # positives score 0.9, 0.4; negatives 0.6, 0.1 -> pairs won: (0.9>0.6),(0.9>0.1),(0.4>0.1) = 3 of 4
    y = ["b", "a", "b", "a"]
    p1 = np.array([0.9, 0.6, 0.4, 0.1])
    proba = np.c_[1 - p1, p1]
    assert M.roc_auc(y, proba, ["a", "b"]) == pytest.approx(0.75)


def test_multiclass_roc_auc_is_one_vs_rest_macro():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.array([
        [0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7],
        [0.3, 0.4, 0.3], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6],
    ])
    # class 0: pos scores .8,.3 vs neg .2,.1,.5,.2 -> wins 4 + 3 = 7/8
    # class 1: pos .7,.3 vs neg .1,.2,.4,.2 -> 4 + 3 = 7/8
    # class 2: pos .7,.6 vs neg .1,.1,.3,.2 -> 8/8
    assert M.roc_auc(y, proba, [0, 1, 2]) == pytest.approx((7 / 8 + 7 / 8 + 1) / 3)


def test_roc_auc_single_class_is_nan_and_bad_shape_raises():
    assert math.isnan(M.roc_auc(["a", "a"], [[0.4, 0.6], [0.2, 0.8]], ["a", "b"]))
    with pytest.raises(ValueError, match="shape"):
        M.roc_auc(["a", "b"], [[0.4, 0.6]], ["a", "b"])
    with pytest.raises(ValueError, match="not among the classes"):
        M.roc_auc(["a", "z"], [[0.4, 0.6], [0.5, 0.5]], ["a", "b"])


def test_accuracy_and_log_loss_by_hand():
    y = ["a", "b", "b"]
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert M.accuracy(y, proba, ["a", "b"]) == pytest.approx(2 / 3)
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    assert M.log_loss(y, proba, ["a", "b"]) == pytest.approx(expected)


def test_normalized_improvement_sign_convention():
    assert M.normalized_improvement(0.9, 0.75) == pytest.approx(20.0)
    assert M.normalized_improvement(0.6, 0.75) == pytest.approx(-20.0)
    # log-loss: lower is better, so 0.5 -> 0.4 is +20 %
    assert M.normalized_improvement(0.4, 0.5, higher_is_better=False) == pytest.approx(20.0)


def test_aggregate_means_over_seeds_then_median_and_std_across_datasets():
    rows = [
        ("m", "d1", 0, 1.0), ("m", "d1", 1, 3.0),   # d1 mean 2
        ("m", "d2", 0, 4.0),                         # d2 mean 4
        ("m", "d3", 0, 9.0),                         # d3 mean 9
    ]
    df = pd.DataFrame(rows, columns=["method", "dataset", "seed", "imp"])
    out = A.aggregate(df, "imp").loc["m"]
    assert out["median"] == pytest.approx(4.0)
    assert out["std"] == pytest.approx(np.std([2, 4, 9], ddof=1))
    assert out["q25"] == pytest.approx(3.0) and out["q75"] == pytest.approx(6.5)
    assert out["iqr"] == pytest.approx(3.5) and out["n_datasets"] == 3


def test_average_ranks_with_ties():
    df = pd.DataFrame({
        "dataset": ["d1"] * 3 + ["d2"] * 3,
        "method": ["a", "b", "c"] * 2,
        "test_roc_auc": [0.9, 0.8, 0.8, 0.7, 0.9, 0.6],
    })
    # d1: a=1, b=c=2.5 ; d2: b=1, a=2, c=3
    ranks = A.average_ranks(df)
    assert ranks["a"] == pytest.approx(1.5)
    assert ranks["b"] == pytest.approx(1.75)
    assert ranks["c"] == pytest.approx(2.75)
    assert list(ranks.index) == ["a", "b", "c"]


def test_validation_test_correlation_and_regret():
    assert M.validation_test_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert M.validation_test_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(M.validation_test_correlation([1, 1, 1], [1, 2, 3]))
    assert M.early_stopping_regret([0.7, 0.9, 0.8], 2) == pytest.approx(0.1)
    assert M.early_stopping_regret([0.5, 0.3, 0.4], 2, higher_is_better=False) == pytest.approx(0.1)
