"""The rule prior (issue 29): seeded, well-formed, realistic categoricals, learnable labels, mixable."""

import numpy as np
import pytest
import torch

import causalmix.prior as prior
from causalmix.prior import PriorConfig, sample_batch
from causalmix.rule_prior import RULE_KINDS, RuleConfig, sample_rule_table, sample_rule_tables


def test_same_seed_same_tables_and_different_seed_differs():
    a = sample_rule_tables(batch_size=4, n_rows=80, n_features=7, max_classes=10, seed=5)
    b = sample_rule_tables(batch_size=4, n_rows=80, n_features=7, max_classes=10, seed=5)
    c = sample_rule_tables(batch_size=4, n_rows=80, n_features=7, max_classes=10, seed=6)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    cfg = PriorConfig(source="rules", max_features=12)
    x, y = sample_batch(cfg, batch_size=3, seed=2), sample_batch(cfg, batch_size=3, seed=2)
    assert torch.equal(x.x_RBF, y.x_RBF) and torch.equal(x.y_RB, y.y_RB)


@pytest.mark.parametrize("n_features", [1, 3, 40])
def test_rule_batches_are_well_formed(n_features):
    cfg = PriorConfig(source="rules", max_classes=10)
    for seed in range(4):
        batch = sample_batch(cfg, batch_size=6, n_rows=64, n_features=n_features, seed=seed)
        R, B, F = batch.x_RBF.shape
        assert (R, B, F) == (64, 6, n_features)
        assert torch.isfinite(batch.x_RBF).all()
        assert (batch.n_features_B == F).all()
        assert not (batch.x_RBF == batch.x_RBF[:1]).all(0).any(), "no constant (padding-like) columns"
        n = batch.single_eval_pos
        y = batch.y_RB.long()
        assert (y >= 0).all() and (y < batch.n_classes_B[None, :]).all() and (batch.n_classes_B <= 10).all()
        assert not batch.loss_mask_RB[:n].any()


def test_every_rule_kind_occurs_and_labels_have_two_or_more_classes():
    g = torch.Generator().manual_seed(0)
    kinds, n_classes = [], []
    for _ in range(80):
        x, y, kind = sample_rule_table(g, n_rows=128, n_features=6, max_classes=10)
        assert y.min() >= 0 and y.max() < 10
        kinds.append(kind)
        n_classes.append(len(torch.unique(y)))
    assert set(kinds) == set(RULE_KINDS)
    assert np.mean(np.array(n_classes) >= 2) > 0.95 and max(n_classes) > 2


def test_categorical_columns_have_realistic_cardinalities_and_integer_codes():
    cfg = RuleConfig(all_categorical_prob=1.0)
    g = torch.Generator().manual_seed(1)
    cards = []
    for _ in range(30):
        x, _, _ = sample_rule_table(g, n_rows=400, n_features=8, max_classes=2, config=cfg)
        assert torch.equal(x, x.round()) and (x >= 0).all()
        for f in range(x.shape[1]):
            values, counts = torch.unique(x[:, f], return_counts=True)
            assert 2 <= len(values) <= 20 and values.max() <= 20
            cards.append((len(values), float(counts.max() / counts.sum())))
    cards = np.array(cards)
    assert (cards[:, 0] == 2).mean() > 0.15 and (cards[:, 0] >= 6).mean() > 0.1  # binary common, wide ones seen
    assert np.median(cards[:, 1] * cards[:, 0]) > 1.3  # skewed: the commonest category beats a uniform share


def test_a_shallow_tree_table_is_learnable_by_a_decision_tree():
    from sklearn.dummy import DummyClassifier
    from sklearn.tree import DecisionTreeClassifier

    cfg = RuleConfig(kind_weights=(1, 0, 0, 0), min_depth=2, max_depth=2, noise_prob=0.0)
    g = torch.Generator().manual_seed(2)
    gains = []
    for _ in range(10):
        x, y, kind = sample_rule_table(g, n_rows=600, n_features=5, max_classes=2, config=cfg)
        assert kind == "tree"
        x, y = x.numpy(), y.numpy()
        tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(x[:400], y[:400])
        chance = DummyClassifier().fit(x[:400], y[:400]).score(x[400:], y[400:])
        gains.append(tree.score(x[400:], y[400:]) - chance)
        assert tree.score(x[400:], y[400:]) > 0.85
    assert np.mean(gains) > 0.1


def test_lookup_and_parity_labels_depend_on_the_features():
    from sklearn.ensemble import RandomForestClassifier

    for weights in [(0, 0, 1, 0), (0, 1, 0, 0)]:
        cfg = RuleConfig(kind_weights=weights, noise_prob=0.0, max_relevant=2, all_categorical_prob=1.0)
        g = torch.Generator().manual_seed(3)
        scores = []
        for _ in range(8):
            x, y, _ = sample_rule_table(g, n_rows=600, n_features=3, max_classes=4, config=cfg)
            x, y = x.numpy(), y.numpy()
            forest = RandomForestClassifier(20, random_state=0).fit(x[:400], y[:400])
            majority = np.bincount(y[400:]).max() / 200
            scores.append(forest.score(x[400:], y[400:]) - majority)
        assert np.mean(scores) > 0.1, weights


def test_a_rules_mixture_draws_its_share_of_batches(monkeypatch):
    calls = []
    original = prior.sample_rule_tables

    def counted(**kwargs):
        calls.append(1)
        return original(**kwargs)

    monkeypatch.setattr(prior, "sample_rule_tables", counted)
    cfg = PriorConfig(max_features=3, min_rows=8, max_rows=16, mix_source="rules", mix_share=0.3)
    n = 400
    for seed in range(n):
        sample_batch(cfg, batch_size=1, seed=seed)
    share = len(calls) / n
    assert abs(share - 0.3) < 3 * np.sqrt(0.3 * 0.7 / n), share  # within 3 standard errors
    calls.clear()
    for seed in range(50):
        sample_batch(PriorConfig(max_features=3, min_rows=8, max_rows=16, mix_source="rules", mix_share=0.0), batch_size=1, seed=seed)
    assert not calls
