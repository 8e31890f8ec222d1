"""Per-run metrics (definitions fixed in SPEC.md): the scores of one set of predictions, the
improvement over the pre-trained model, and what one run's validation curve says about its test
curve. Aggregating many runs for the report (medians across datasets, ranks) is
:mod:`causalmix.report.aggregation`'s.

>>> round(float(normalized_improvement(0.88, 0.80)), 9)
10.0
>>> round(float(normalized_improvement(0.40, 0.50, higher_is_better=False)), 9)   # log-loss went down: better
20.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import spearmanr
from sklearn import metrics as skm

HIGHER_IS_BETTER = {"roc_auc": True, "accuracy": True, "balanced_accuracy": True, "log_loss": False}


def _check(y_true, proba, classes) -> tuple[np.ndarray, np.ndarray, list]:
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=float)
    classes = list(classes)
    if p.ndim != 2 or p.shape != (len(y), len(classes)):
        raise ValueError(f"proba must have shape (n_rows, n_classes) = ({len(y)}, {len(classes)}), got {p.shape}.")
    unknown = set(np.unique(y)) - set(classes)
    if unknown:
        raise ValueError(f"Labels {sorted(map(str, unknown))} are not among the classes {classes}.")
    return y, p, classes


def roc_auc(y_true, proba, classes: Sequence) -> float:
    """ROC-AUC; multiclass: one-vs-rest, macro-averaged over the classes present in ``y_true``.

    NaN when ``y_true`` holds a single class (ROC-AUC is undefined).
    """
    y, p, classes = _check(y_true, proba, classes)
    present = [i for i, c in enumerate(classes) if (y == c).any()]
    if len(present) < 2:
        return float("nan")
    if len(classes) == 2:
        return float(skm.roc_auc_score(y == classes[1], p[:, 1]))
    return float(np.mean([skm.roc_auc_score(y == classes[i], p[:, i]) for i in present]))


def accuracy(y_true, proba, classes: Sequence) -> float:
    """Share of rows whose most probable class is the true one."""
    y, p, classes = _check(y_true, proba, classes)
    return float(np.mean(np.asarray(classes, dtype=object)[p.argmax(axis=1)] == y))


def balanced_accuracy(y_true, proba, classes: Sequence) -> float:
    """Mean over the classes present in ``y_true`` of the share of their rows predicted right
    (recall); a majority-class guess scores 1 / (number of classes).

    >>> balanced_accuracy(["a", "a", "a", "b"], [[1, 0], [1, 0], [1, 0], [1, 0]], ["a", "b"])
    0.5
    """
    y, p, classes = _check(y_true, proba, classes)
    predicted = np.asarray(classes, dtype=object)[p.argmax(axis=1)]
    return float(np.mean([np.mean(predicted[y == c] == c) for c in classes if (y == c).any()]))


def majority_accuracy(y_train, y_test) -> float:
    """Accuracy on ``y_test`` of always predicting the most frequent class of ``y_train``: the
    baseline any accuracy must beat.

    >>> majority_accuracy(["a", "a", "b"], ["a", "b", "b", "b"])
    0.25
    """
    values, counts = np.unique(np.asarray(y_train), return_counts=True)
    return float(np.mean(np.asarray(y_test) == values[counts.argmax()]))


def log_loss(y_true, proba, classes: Sequence) -> float:
    """Cross-entropy of the predicted probabilities (clipped at 1e-15, rows renormalised)."""
    y, p, classes = _check(y_true, proba, classes)
    p = np.clip(p, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    index = {c: i for i, c in enumerate(classes)}
    return float(-np.mean(np.log(p[np.arange(len(y)), [index[v] for v in y]])))


def classification_metrics(y_true, proba, classes: Sequence) -> dict[str, float]:
    """``{"roc_auc", "accuracy", "balanced_accuracy", "log_loss"}`` of one set of predictions."""
    return {name: fn(y_true, proba, classes) for name, fn in
            (("roc_auc", roc_auc), ("accuracy", accuracy), ("balanced_accuracy", balanced_accuracy),
             ("log_loss", log_loss))}


def normalized_improvement(score, pretrained, *, higher_is_better: bool = True):
    """``sign × (score / pretrained − 1) × 100``: percent improvement over the pre-trained model."""
    sign = 1.0 if higher_is_better else -1.0
    return sign * (np.asarray(score, dtype=float) / np.asarray(pretrained, dtype=float) - 1.0) * 100.0


def validation_test_correlation(val_scores: Sequence[float], test_scores: Sequence[float]) -> float:
    """Spearman correlation of validation and test scores over one run's evaluation steps.

    NaN when the curve has fewer than 3 points or either score is constant.
    """
    val, test = np.asarray(val_scores, float), np.asarray(test_scores, float)
    keep = ~(np.isnan(val) | np.isnan(test))
    val, test = val[keep], test[keep]
    if len(val) < 3 or np.ptp(val) == 0 or np.ptp(test) == 0:
        return float("nan")
    return float(spearmanr(val, test).statistic)


def early_stopping_regret(test_scores: Sequence[float], selected_step_index: int, *, higher_is_better: bool = True) -> float:
    """Best test score over the curve minus the test score at the validation-selected step."""
    test = np.asarray(test_scores, float)
    best = np.nanmax(test) if higher_is_better else np.nanmin(test)
    gap = best - test[selected_step_index]
    return float(gap if higher_is_better else -gap)
