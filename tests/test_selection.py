"""The selection rule: tie-proof, a pure function of the curve, and what the published records follow from."""

import numpy as np
import pandas as pd
import pytest

from causalmix.rederive import from_curve, inconsistent_records
from causalmix.selection import EPSILON, selectable_steps, selected_step, stopping_index


def _curve(auc, log_loss, step=2):
    return pd.DataFrame({"step": np.arange(len(auc)) * step, "val_roc_auc": auc, "val_log_loss": log_loss})


def test_one_ulp_of_roc_auc_is_a_tie_and_log_loss_decides():
    # What the published study had 46 times: the same ROC-AUC computed with another summation order.
    auc = [0.75, 0.8, 0.8 + 1.1e-16, 0.7]
    assert selected_step(_curve(auc, [0.6, 0.40, 0.45, 0.5])) == 2  # lower log-loss at the tie
    assert selected_step(_curve(auc, [0.6, 0.45, 0.40, 0.5])) == 4
    assert selected_step(_curve(auc, [0.6, 0.40, 0.40 + 1e-9, 0.5])) == 2  # both tied: the earliest
    assert selected_step(_curve([0.9, 0.9, 0.9], [0.3, 0.3, 0.3])) == 0  # a flat curve keeps the pre-trained model


def test_a_real_difference_is_never_a_tie():
    assert selected_step(_curve([0.8, 0.8 + 3 * EPSILON], [0.1, 0.9])) == 2
    assert selected_step(_curve([0.8, np.nan, 0.7], [0.5, 0.1, 0.2])) == 0  # NaN is worst


def test_log_loss_as_the_primary_metric():
    curve = _curve([0.9, 0.7, 0.8], [0.5, 0.3, 0.3 + 1e-9])
    assert selected_step(curve, metric="log_loss") == 4  # tied log-loss: ROC-AUC breaks the tie (0.8 > 0.7)


def test_patience_counts_evaluations_that_do_not_become_the_selected_step():
    flat = _curve([0.8, 0.8, 0.8, 0.8], [0.5, 0.5, 0.5, 0.5])
    assert stopping_index(flat, patience=3) == 3 and stopping_index(flat, patience=4) is None
    rising = _curve([0.7, 0.7, 0.75, 0.75, 0.75], [0.5, 0.4, 0.6, 0.6, 0.6])
    assert stopping_index(rising, patience=2) == 4  # steps 2 (tie-break) and 4 (ROC-AUC) improve
    assert stopping_index(rising, patience=2, min_delta=0.01) == 4  # only step 4 raises ROC-AUC by > 0.01
    assert stopping_index(rising.iloc[:4], patience=2, min_delta=0.1) == 2  # nothing raises it by > 0.1


@pytest.mark.parametrize("seed", range(5))
def test_float_noise_cannot_move_a_selected_step_or_a_stop(seed):
    """Random curves whose ROC-AUC takes the values a validation set of 16-128 rows allows, with many
    ties: noise of 1e-7 (another CPU's rounding) changes neither the selection nor the stop."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n_pos, n_neg = rng.integers(4, 64, size=2)
        n = int(rng.integers(2, 12))
        auc = rng.integers(n_pos * n_neg // 2, n_pos * n_neg + 1, size=n) / (n_pos * n_neg)
        log_loss = rng.choice([0.3, 0.4, 0.5], size=n) + rng.integers(0, 3, size=n) * 1e-3
        curve = _curve(auc, log_loss)
        noisy = _curve(auc + rng.uniform(-1e-7, 1e-7, n), log_loss + rng.uniform(-1e-7, 1e-7, n))
        assert selected_step(noisy) == selected_step(curve)
        for patience in (1, 2, 5):
            assert stopping_index(noisy, patience=patience) == stopping_index(curve, patience=patience)


@pytest.mark.parametrize("seed", range(3))
def test_the_selectable_steps_of_a_prefix_hold_every_later_selection(seed):
    """What the training loop relies on to keep only these steps' weights: the selected step of any
    longer curve is one of a prefix's selectable steps or a step after the prefix."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        n = int(rng.integers(1, 10))
        auc = rng.choice([0.7, 0.8, 0.8 + 5e-7, 0.8 + 2e-6, np.nan], size=n)
        log_loss = rng.choice([0.3, 0.3 + 5e-7, 0.4], size=n)
        curve = _curve(auc, log_loss)
        for metric in ("roc_auc", "log_loss"):
            for i in range(1, n + 1):
                kept = selectable_steps(curve.iloc[:i], metric=metric)
                assert selected_step(curve.iloc[:i], metric=metric) in kept
                assert all(selected_step(curve.iloc[:j], metric=metric) in kept
                           or selected_step(curve.iloc[:j], metric=metric) >= 2 * i for j in range(i, n + 1))
    assert selectable_steps(_curve([np.nan, np.nan], [np.nan, np.nan])) == [0, 2]  # nothing measured: all stay


def test_every_published_record_follows_from_its_published_curve():
    from causalmix.publish import load_published

    records, curves = load_published("standard", ("main", "extra", "ablation"))
    assert inconsistent_records(records, curves).empty
    tampered = records.copy()
    victim = tampered.index[tampered["status"] == "ok"][0]
    tampered.loc[victim, "test_roc_auc"] += 1e-3
    found = inconsistent_records(tampered, curves)
    assert list(found["run_id"]) == [tampered.loc[victim, "run_id"]] and "test_roc_auc" in found["detail"].iloc[0]


def test_a_pretrained_run_is_its_step_zero():
    curve = pd.DataFrame({"step": [0], "val_roc_auc": [0.7], "val_log_loss": [0.5], "test_roc_auc": [0.72]})
    fields, kept = from_curve(curve, {"patience": 1}, method="pretrained")
    assert fields == {"best_step": 0, "n_steps": 0, "stopped_early": False, "val_roc_auc": 0.7,
                      "val_roc_auc_step0": 0.7, "val_log_loss": 0.5, "val_log_loss_step0": 0.5,
                      "test_roc_auc": 0.72, "test_roc_auc_step0": 0.72}
    assert kept.equals(curve)
