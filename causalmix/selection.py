"""Early stopping as pure functions of a fine-tuning curve (SPEC: selection is tie-proof).

A curve is the table a run records, one row per evaluation (``step``, ``val_roc_auc``,
``val_log_loss``, ...). Two rules decide what a run returns, and both read the curve alone, so the
training loop, the verification of a published study and the re-derivation of published records
all apply the same code:

- :func:`selected_step`: the earliest step whose validation ROC-AUC is within :data:`EPSILON` of the
  curve's best, ties broken the same way by validation log-loss (lower is better);
- :func:`stopping_index`: patience counts the evaluations that do not become the selected step
  (no improvement larger than :data:`EPSILON`).

While the curve grows, :func:`selectable_steps` names the evaluations that can still become the
selected step (the training loop keeps their weights, and no others).

Why ε = 1e-6: on ``n`` validation rows two ROC-AUC values differ by at least
``1 / (n_pos · n_neg)`` (2.4e-4 at 128 rows; ≥ 1e-6 up to about 4,000 rows per class pair), while
the same computation on two CPUs differs by about 1e-7. An ε between the two makes float noise
unable to move a selected step, and never merges two different ROC-AUC values.

>>> curve = pd.DataFrame({"step": [0, 2, 4, 6], "val_roc_auc": [0.8, 0.9, 0.9 + 1e-7, 0.85],
...                       "val_log_loss": [0.5, 0.4, 0.4, 0.45]})
>>> selected_step(curve)      # step 4 is a tie of step 2 up to float noise: the earliest wins
2
>>> stopping_index(curve, patience=2)   # steps 4 and 6 do not change the selection
3
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["EPSILON", "selectable_steps", "selected_step", "selection_keys", "stopping_index"]

#: Tolerance of the selection rule (module docstring).
EPSILON = 1e-6

Metric = Literal["roc_auc", "log_loss"]


def selection_keys(curve: pd.DataFrame, metric: Metric = "roc_auc") -> tuple[np.ndarray, np.ndarray]:
    """``(primary, tie_break)`` per evaluation, larger is better (log-loss negated); NaN is worst."""
    auc = curve["val_roc_auc"].to_numpy(dtype=float)
    neg_ll = -curve["val_log_loss"].to_numpy(dtype=float)
    auc, neg_ll = np.nan_to_num(auc, nan=-np.inf), np.nan_to_num(neg_ll, nan=-np.inf)
    return (auc, neg_ll) if metric == "roc_auc" else (neg_ll, auc)


def _within(values: np.ndarray, eps: float) -> np.ndarray:
    best = values.max()
    return values >= best - eps if np.isfinite(best) else np.ones(len(values), bool)


def selected_step(curve: pd.DataFrame, *, metric: Metric = "roc_auc", eps: float = EPSILON) -> int:
    """The validation-selected step: the earliest evaluation whose primary metric is within ``eps`` of
    the curve's best and whose tie-break metric is within ``eps`` of the best among those.

    >>> selected_step(pd.DataFrame({"step": [0, 1, 2], "val_roc_auc": [1.0, 1.0, 1.0],
    ...                             "val_log_loss": [0.3, 0.2, 0.2 + 1e-8]}))
    1
    """
    if curve.empty:
        raise ValueError("An empty curve has no selected step.")
    return int(curve["step"].to_numpy()[_selected_index(*selection_keys(curve, metric), eps)])


def _selected_index(primary: np.ndarray, tie_break: np.ndarray, eps: float) -> int:
    candidates = _within(primary, eps)
    candidates &= _within(np.where(candidates, tie_break, -np.inf), eps)
    return int(np.argmax(candidates))


def selectable_steps(curve: pd.DataFrame, *, metric: Metric = "roc_auc", eps: float = EPSILON) -> list[int]:
    """The steps that can be the selected step of this curve or of any longer one: those whose
    primary metric is within ``eps`` of the best so far. Later evaluations only raise the best, so
    no other step can come back; among these the tie-break may still change the choice.

    >>> selectable_steps(pd.DataFrame({"step": [0, 2, 4], "val_roc_auc": [0.8, 0.9, 0.9 - 1e-7],
    ...                                "val_log_loss": [0.5, 0.4, 0.3]}))
    [2, 4]
    """
    primary, _ = selection_keys(curve, metric)
    return [int(s) for s in curve["step"].to_numpy()[_within(primary, eps)]]


def stopping_index(curve: pd.DataFrame, *, patience: int, metric: Metric = "roc_auc", eps: float = EPSILON,
                   min_delta: float = 0.0) -> int | None:
    """The index of the evaluation after which patience runs out (``None``: it never does).

    Evaluation 0 is the pre-trained model. A later evaluation *improves* when it becomes the
    selected step of the curve up to it (:func:`selected_step`: a primary metric more than ``eps``
    above every earlier one, or within ``eps`` of the best with a tie-break better by more than
    ``eps``) and, with ``min_delta > 0``, raises the primary metric by more than ``min_delta``.
    Patience counts the evaluations since the last improvement.

    >>> flat = pd.DataFrame({"step": [0, 2, 4, 6], "val_roc_auc": [0.8, 0.9, 0.9, 0.9],
    ...                      "val_log_loss": [0.5, 0.4, 0.3, 0.3 - 1e-8]})
    >>> stopping_index(flat, patience=1)   # step 4 improves the tie-break, step 6 only by float noise
    3
    """
    primary, tie_break = selection_keys(curve, metric)
    bad = 0
    for i in range(1, len(curve)):
        improved = _selected_index(primary[: i + 1], tie_break[: i + 1], eps) == i
        if improved and min_delta > 0:
            improved = primary[i] > primary[:i].max() + min_delta
        bad = 0 if improved else bad + 1
        if bad >= patience:
            return i
    return None
