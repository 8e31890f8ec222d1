"""The SCM prior: seeded, well-formed, covering binary and multiclass, and learnable."""

import numpy as np
import pytest
import torch

from causalmix.prior import PriorConfig, sample_batch, to_prior_batch


def test_same_seed_same_batch_and_different_seed_differs():
    cfg = PriorConfig()
    a = sample_batch(cfg, batch_size=6, n_rows=100, seed=3)
    b = sample_batch(cfg, batch_size=6, n_rows=100, seed=3)
    c = sample_batch(cfg, batch_size=6, n_rows=100, seed=4)
    assert torch.equal(a.x_RBF, b.x_RBF) and torch.equal(a.y_RB, b.y_RB)
    assert a.single_eval_pos == b.single_eval_pos
    assert not (a.x_RBF.shape == c.x_RBF.shape and torch.equal(a.x_RBF, c.x_RBF))


def test_batch_is_well_formed():
    cfg = PriorConfig(max_features=12)
    for seed in range(5):
        batch = sample_batch(cfg, batch_size=8, n_rows=150, seed=seed)
        R, B, F = batch.x_RBF.shape
        assert (R, B) == (150, 8) and 1 <= F <= 12
        assert torch.isfinite(batch.x_RBF).all()
        assert 2 <= batch.single_eval_pos < R
        n = batch.single_eval_pos
        y = batch.y_RB.long()
        assert (y >= 0).all() and (y < batch.n_classes_B[None, :]).all()
        # Train labels are dense: every class index below n_classes occurs among the train rows.
        for b in range(B):
            assert set(y[:n, b].tolist()) == set(range(int(batch.n_classes_B[b])))
        # No padding and no constant columns (the encoder's constant-column path breaks training).
        assert (batch.n_features_B == F).all()
        assert not (batch.x_RBF == batch.x_RBF[:1]).all(0).any()
        # The loss is only on query rows.
        assert not batch.loss_mask_RB[:n].any() and batch.loss_mask_RB[n:].any()


def test_prior_covers_binary_and_many_class_problems_and_categoricals():
    cfg = PriorConfig()
    n_classes, integer_columns = [], 0
    for seed in range(25):
        batch = sample_batch(cfg, batch_size=8, n_rows=200, seed=seed)
        n_classes += batch.n_classes_B.tolist()
        x = batch.x_RBF
        is_int_BF = (x == x.round()).all(0) & (x.amax(0) >= 1) & (x.amax(0) <= 9)
        integer_columns += int(is_int_BF.sum())
    counts = np.bincount(n_classes, minlength=11)
    assert counts[2] > 0.3 * len(n_classes)  # binary problems are common
    assert counts[3:].sum() > 0.3 * len(n_classes)  # and so are multiclass ones
    assert counts[8:].sum() > 0  # up to (nearly) 10 classes
    assert integer_columns > 0  # categorical features (small integer codes)


def test_synthetic_labels_are_learnable_from_the_features():
    """A random forest fitted on the train rows ranks the query rows well above chance (AUC 0.5)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score

    cfg = PriorConfig(max_classes=2, multiclass_prob=0.0, noise_std_range=(0.003, 0.05))
    batch = sample_batch(cfg, batch_size=12, n_rows=400, seed=11)
    n = batch.single_eval_pos
    aucs = []
    for b in range(batch.x_RBF.shape[1]):
        x = batch.x_RBF[:, b].numpy()
        y = batch.y_RB[:, b].long().numpy()
        if len(set(y[n:])) < 2:
            continue
        rf = RandomForestClassifier(n_estimators=50, random_state=0).fit(x[:n], y[:n])
        aucs.append(roc_auc_score(y[n:], rf.predict_proba(x[n:])[:, 1]))
    assert len(aucs) >= 8
    assert np.median(aucs) > 0.7


def test_bad_settings_are_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="max_classes"):
        PriorConfig(max_classes=11)
    with pytest.raises(ValueError, match="min_features"):
        PriorConfig(min_features=0)
    with pytest.raises(ValueError, match="batch_size"):
        sample_batch(PriorConfig(), batch_size=0, seed=0)
    with pytest.raises(ValueError, match="source must be one of"):
        PriorConfig(source="tabicl")
    with pytest.raises(ValueError, match="mix_source must be one of"):
        PriorConfig(mix_source="tree", mix_share=0.5)
    with pytest.raises(ValueError, match="mix_share"):
        PriorConfig(mix_share=1.5)


def test_a_mixture_with_share_zero_draws_exactly_the_single_prior():
    alone = sample_batch(PriorConfig(max_rows=64), batch_size=3, seed=5)
    mixed = sample_batch(PriorConfig(max_rows=64, mix_source="tabicl_mlp_scm", mix_share=0.0), batch_size=3, seed=5)
    assert torch.equal(alone.x_RBF, mixed.x_RBF) and torch.equal(alone.y_RB, mixed.y_RB)


def test_labels_are_dense_over_the_train_classes_and_unseen_query_classes_are_masked():
    # One dataset, classes 4 and 7 among its 3 train rows; query rows of 4, 7 and 2 (unseen).
    y_BR = torch.tensor([[7, 4, 7, 4, 2, 7]])
    batch = to_prior_batch(torch.arange(6.0).reshape(1, 6, 1), y_BR, n_train=3, max_classes=10)
    assert batch.y_RB[:, 0].tolist() == [1, 0, 1, 0, 0, 1]
    assert batch.loss_mask_RB[:, 0].tolist() == [False, False, False, True, False, True]
    assert batch.n_classes_B.tolist() == [2] and batch.n_features_B.tolist() == [1]
    assert batch.x_RBF.shape == (6, 1, 1) and batch.single_eval_pos == 3


@pytest.mark.parametrize("source", ["tabicl_mlp_scm", "tabicl_tree_scm"])
def test_tabicl_priors_give_seeded_batches_without_padded_columns(source):
    pytest.importorskip("tabicl")
    if source == "tabicl_tree_scm":
        pytest.importorskip("xgboost")
    config = PriorConfig(source=source, max_rows=128, max_features=12)
    a, b = (sample_batch(config, batch_size=4, seed=3) for _ in range(2))
    assert torch.equal(a.x_RBF, b.x_RBF) and torch.equal(a.y_RB, b.y_RB)
    R, B, F = a.x_RBF.shape
    assert B == 4 and 1 <= F <= 12 and not a.x_RBF.isnan().any()
    assert (a.x_RBF != a.x_RBF[:1]).any(dim=0).all()  # every column of every dataset varies
    assert (a.n_classes_B >= 2).all() and a.loss_mask_RB[a.single_eval_pos:].any()


def test_a_mixture_draws_its_second_prior_in_the_same_batch_shape():
    pytest.importorskip("tabicl")
    ours = sample_batch(PriorConfig(max_rows=128, max_features=12), batch_size=4, seed=3)
    mixed = sample_batch(PriorConfig(max_rows=128, max_features=12, mix_source="tabicl_mlp_scm", mix_share=1.0),
                         batch_size=4, seed=3)
    assert mixed.x_RBF.shape == ours.x_RBF.shape and mixed.single_eval_pos == ours.single_eval_pos
    assert not torch.equal(mixed.x_RBF, ours.x_RBF)
