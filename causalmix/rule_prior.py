"""A rule-table prior: classification tables whose label is a rule over the features (issue 29).

The SCM prior (:mod:`causalmix.prior`) draws smooth mechanisms; what the stand-in model misses are
rule-like categorical tables (splice, kr-vs-kp: a random forest reaches 0.99). Each table drawn here
has ``n_features`` columns, numeric and categorical, of which a few are relevant and the rest
irrelevant, and a label that is one of

- ``tree``: a random decision tree of depth 2-8 over thresholds of numeric columns and equality
  (or subset) tests of categorical ones, each leaf a random class; branches stop early at random;
- ``parity``: the XOR / parity of 2-4 binarised features (a threshold, a category or a set of them);
- ``lookup``: a lookup table over 1-3 categorical columns, a random class per combination;
- ``dnf``: an OR of ANDs of 1-3 threshold / category tests (one term: AND; one test per term: OR),
  or an m-of-n rule over 3-8 tests (more than m hold, m a random quantile of the votes: splice's motifs);

then a small share of the labels is replaced by a random class (label noise). Categorical columns
have realistic cardinalities (2-20, binary ones common) with skewed frequencies and label-like
integer codes (0..k-1 in an arbitrary order, as a label encoder gives for strings); numeric ones are
normal, uniform, log-normal or small counts, sometimes mixed linearly (correlated columns), and per
table either raw or rank-transformed to [0, 1] like the SCM prior's quantile view.

The module knows nothing of :mod:`causalmix.prior`: :func:`sample_rule_tables` returns features and
class codes, and ``prior.sample_batch`` lays them out (``PriorConfig(source="rules")`` or
``mix_source="rules"``). Seeded: the same seed gives the same tables.

>>> x, y = sample_rule_tables(batch_size=2, n_rows=64, n_features=5, max_classes=10, seed=0)
>>> tuple(x.shape), tuple(y.shape)
((2, 64, 5), (2, 64))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["RULE_KINDS", "RuleConfig", "sample_rule_table", "sample_rule_tables"]

RULE_KINDS = ("tree", "parity", "lookup", "dnf")


@dataclass(frozen=True, kw_only=True)
class RuleConfig:
    """Settings of the rule prior (its defaults are the ones measured in benchmarks/results/prior_rules.md).

    Args:
        kind_weights: relative frequency of ``tree``, ``parity``, ``lookup`` and ``dnf`` labels.
        min_depth, max_depth: depth of the random trees (2-8); deeper levels stop at random.
        all_categorical_prob: share of tables whose columns are all categorical (splice, kr-vs-kp).
        categorical_prob: otherwise, the share of tables with some categorical columns.
        max_categories: a categorical column has 2..this categories (20).
        max_relevant: at most this many columns enter the rule (fewer in narrow tables).
        multiclass_prob: share of tree and lookup tables with more than 2 classes.
        noise_prob, noise_range: share of tables with label noise, and the log-uniform range of the
            share of labels replaced by a random class.
        quantile_prob: share of tables whose numeric columns are rank-transformed to [0, 1].
    """

    kind_weights: tuple[float, float, float, float] = (0.4, 0.15, 0.2, 0.25)
    min_depth: int = 2
    max_depth: int = 8
    all_categorical_prob: float = 0.25
    categorical_prob: float = 0.5
    max_categories: int = 20
    max_relevant: int = 10
    multiclass_prob: float = 0.3
    noise_prob: float = 0.7
    noise_range: tuple[float, float] = (0.005, 0.15)
    quantile_prob: float = 0.5

    def __post_init__(self) -> None:
        if not 1 <= self.min_depth <= self.max_depth:
            raise ValueError(f"Need 1 <= min_depth <= max_depth, got {self.min_depth}, {self.max_depth}.")
        if self.max_categories < 2:
            raise ValueError(f"max_categories must be >= 2, got {self.max_categories}.")
        if len(self.kind_weights) != len(RULE_KINDS) or min(self.kind_weights) < 0 or sum(self.kind_weights) <= 0:
            raise ValueError(f"kind_weights needs {len(RULE_KINDS)} non-negative weights, got {self.kind_weights}.")


def _u(g: torch.Generator, low: float = 0.0, high: float = 1.0) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _int(g: torch.Generator, low: int, high: int) -> int:
    """An integer in [low, high], inclusive."""
    return int(torch.randint(low, high + 1, (), generator=g))


def _cardinality(g: torch.Generator, max_categories: int) -> int:
    """2..max: binary columns common, the rest log-uniform (3-5 often, up to 20 sometimes)."""
    if max_categories == 2 or _u(g) < 0.3:
        return 2
    return min(max_categories, int(math.exp(_u(g, math.log(3), math.log(max_categories + 1)))))


def _categorical_column(g: torch.Generator, n_rows: int, k: int) -> torch.Tensor:
    """Codes 0..k-1 with skewed (log-normal) frequencies, in an order unrelated to the frequencies."""
    weights = torch.exp(_u(g, 0.0, 2.0) * torch.randn(k, generator=g))
    return torch.multinomial(weights, n_rows, replacement=True, generator=g)


def _numeric_columns(g: torch.Generator, n_rows: int, n: int) -> torch.Tensor:
    z = torch.randn((n_rows, n), generator=g)
    if n > 1 and _u(g) < 0.5:  # correlated columns: a sparse random mixing
        mix = torch.eye(n) + torch.randn((n, n), generator=g) * (torch.rand((n, n), generator=g) < 2.0 / n)
        z = (z @ mix) / mix.norm(dim=0).clamp_min(1e-6)
    kind = torch.randint(0, 4, (n,), generator=g)
    uniform = torch.special.ndtr(z) * 2 - 1
    lognormal = torch.exp(z * _u(g, 0.3, 1.2))
    counts = torch.round(torch.exp(z * 0.7 + _u(g, 0.0, 2.0)))
    x = torch.where(kind == 0, z, torch.where(kind == 1, uniform, torch.where(kind == 2, lognormal, counts)))
    return x * torch.exp(torch.randn((1, n), generator=g)) + torch.randn((1, n), generator=g) * 2


def _test(g: torch.Generator, col: torch.Tensor, categorical: bool, rows: torch.Tensor | None = None) -> torch.Tensor:
    """A random binary test of one column, drawn from the values of ``rows`` (all rows if None):
    a threshold (numeric) or an equality / subset test (categorical). Returns a bool per row of ``col``."""
    values = col if rows is None else col[rows]
    if not categorical:
        q = _u(g, 0.15, 0.85)
        return col > torch.quantile(values, q) if values.numel() > 1 else col > values.min()
    pivot = values[_int(g, 0, values.numel() - 1)]
    if _u(g) < 0.6:
        return col == pivot
    k = int(col.max()) + 1
    subset = torch.rand(k, generator=g) < 0.5
    subset[pivot.long()] = True
    return subset[col.long()]


def _tree_labels(g, x, categorical, relevant, n_classes, depth) -> torch.Tensor:
    """A random decision tree of at most ``depth`` levels; leaves past depth 2 stop at random."""
    R = x.shape[0]
    y = torch.zeros(R, dtype=torch.long)
    stop_prob = _u(g, 0.0, 0.4)

    def grow(rows: torch.Tensor, level: int, avoid: int) -> None:
        if level == depth or rows.numel() < 2 or (level >= 2 and _u(g) < stop_prob):
            cls = _int(g, 0, n_classes - 2)
            y[rows] = cls + (cls >= avoid) if avoid >= 0 else _int(g, 0, n_classes - 1)
            return
        f = relevant[_int(g, 0, len(relevant) - 1)]
        go = _test(g, x[:, f], bool(categorical[f]), rows)[rows]
        left, right = rows[go], rows[~go]
        grow(left, level + 1, -1)
        # The right sibling's leaf avoids the left one's class, so a split always matters.
        grow(right, level + 1, int(y[left[0]]) if left.numel() else -1)

    grow(torch.arange(R), 0, -1)
    return y


def _literals(g, x, categorical, relevant, n: int) -> torch.Tensor:
    """``n`` random binary tests over relevant columns, rows x n, each sometimes negated."""
    cols = [relevant[_int(g, 0, len(relevant) - 1)] for _ in range(n)]
    bits = torch.stack([_test(g, x[:, f], bool(categorical[f])) for f in cols], dim=1)
    return bits ^ (torch.rand(n, generator=g) < 0.3)


def _dnf_labels(g, x, categorical, relevant) -> torch.Tensor:
    if _u(g) < 0.3:  # m of n tests hold
        n = _int(g, 3, 8)
        bits = _literals(g, x, categorical, relevant, n)
        votes = bits.sum(1).float()
        return (votes > torch.quantile(votes, _u(g, 0.2, 0.8))).long()
    terms = [_literals(g, x, categorical, relevant, _int(g, 1, 3)).all(1) for _ in range(_int(g, 1, 3))]
    return torch.stack(terms, 1).any(1).long()


def _lookup_labels(g, x, categorical, relevant, n_classes) -> torch.Tensor:
    cols = relevant[: _int(g, 1, min(3, len(relevant)))]
    key = torch.zeros(x.shape[0], dtype=torch.long)
    for f in cols:
        key = key * (int(x[:, f].max()) + 1) + x[:, f].long()
    table = torch.randint(0, n_classes, (int(key.max()) + 1,), generator=g)
    return table[key]


def sample_rule_table(
    g: torch.Generator, *, n_rows: int, n_features: int, max_classes: int, config: RuleConfig = RuleConfig()
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """One table: features (rows x features, float), class codes (rows) and the rule's kind."""
    R, F = n_rows, n_features
    kind = RULE_KINDS[int(torch.multinomial(torch.tensor(config.kind_weights, dtype=torch.float), 1, generator=g))]
    # Columns: all categorical, some, or none; a lookup table needs its relevant columns categorical.
    if _u(g) < config.all_categorical_prob:
        cat_share = 1.0
    else:
        cat_share = _u(g) if _u(g) < config.categorical_prob else 0.0
    categorical = torch.rand(F, generator=g) < cat_share
    n_relevant = min(F, int(math.exp(_u(g, 0.0, math.log(config.max_relevant + 1)))))
    relevant = torch.randperm(F, generator=g)[: max(1, n_relevant)].tolist()
    cards = torch.tensor([_cardinality(g, config.max_categories) for _ in range(F)])
    if kind == "lookup":
        for f in relevant[:3]:
            categorical[f] = True
            cards[f] = min(int(cards[f]), 6)  # at most 216 cells, most of them seen in a table
    x = _numeric_columns(g, R, F)
    if _u(g) < config.quantile_prob:
        x = torch.argsort(torch.argsort(x, dim=0), dim=0).float() / max(R - 1, 1)
    for f in torch.nonzero(categorical).flatten().tolist():
        x[:, f] = _categorical_column(g, R, int(cards[f])).float()

    # No constant column (the v2 encoder drops them, which breaks in-context learning in a batch):
    # a column with one value gets another value (the next code) in one random row.
    for f in torch.nonzero((x == x[:1]).all(0)).flatten().tolist():
        x[_int(g, 0, R - 1), f] += 1.0
    multiclass = max_classes > 2 and _u(g) < config.multiclass_prob
    n_classes = _int(g, 3, max_classes) if multiclass else 2
    for _ in range(8):  # a rule that leaves one class (a test true everywhere, say) is drawn again
        if kind == "tree":
            depth = _int(g, config.min_depth, config.max_depth)
            y = _tree_labels(g, x, categorical, relevant, n_classes, depth)
        elif kind == "parity":
            bits = _literals(g, x, categorical, relevant, _int(g, 2, 4))
            y = (bits.sum(1) % 2).long()
        elif kind == "lookup":
            y = _lookup_labels(g, x, categorical, relevant, n_classes)
        else:
            y = _dnf_labels(g, x, categorical, relevant)
        if bool((y != y[0]).any()):
            break
    if _u(g) < config.noise_prob:
        share = math.exp(_u(g, math.log(config.noise_range[0]), math.log(config.noise_range[1])))
        flip = torch.rand(R, generator=g) < share
        y = torch.where(flip, torch.randint(0, int(y.max()) + 1, (R,), generator=g), y)
    # Classes as codes in random order (the rule's class 0 is no special class).
    y = torch.randperm(max(int(y.max()) + 1, 2), generator=g)[y]
    return x, y, kind


def sample_rule_tables(
    *,
    batch_size: int,
    n_rows: int,
    n_features: int,
    max_classes: int,
    seed: int,
    config: RuleConfig = RuleConfig(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` rule tables of ``n_rows`` x ``n_features``: features ``x_BRF`` and class codes
    ``y_BR`` (``0..max_classes-1``), laid out as a batch by :func:`causalmix.prior.to_prior_batch`."""
    g = torch.Generator().manual_seed(int(seed))
    tables = [sample_rule_table(g, n_rows=n_rows, n_features=n_features, max_classes=max_classes, config=config)
              for _ in range(batch_size)]
    return torch.stack([t[0] for t in tables]), torch.stack([t[1] for t in tables])
