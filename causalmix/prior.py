"""A synthetic-data prior in the TabPFN style: random structural causal models (SCMs).

Each synthetic dataset comes from a random MLP-shaped SCM: exogenous causes flow through a few
layers of sparse random linear maps, random per-node activations and additive noise. Every node
of every layer is a variable; a random subset of them become the features and one (or a random
projection of several, for non-ordinal multiclass labels) becomes the label, binned into 2-10
classes. Features may sit upstream *or* downstream of the label, as in real data. Some
features are discretised into shuffled ordinal codes (categoricals) and, per dataset, numeric
features are either left raw (with random skewing warps) or rank-transformed, which mirrors
the two views tabpfn's v2 inference preprocessing shows the model (quantile-transformed and raw).

Everything is vectorised over the datasets of a batch (one batch shares its row count and
split position, as in TabPFN training) and seeded: ``sample_batch(cfg, seed=s)`` returns the
same tensors for the same ``s``.

>>> batch = sample_batch(PriorConfig(), batch_size=4, n_rows=128, seed=0)
>>> tuple(batch.x_RBF.shape[:2]), batch.single_eval_pos <= 128
((128, 4), True)
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, Literal, get_args

import torch

from causalmix.rule_prior import sample_rule_tables

__all__ = ["PriorBatch", "PriorConfig", "PriorSource", "benchmark_prior", "sample_batch", "to_prior_batch"]

PriorSource = Literal["causalmix", "rules", "tabicl_mlp_scm", "tabicl_tree_scm", "tabicl_mix_scm", "tabicl_graph_scm"]


@dataclass(frozen=True, kw_only=True)
class PriorConfig:
    """Settings of the SCM prior. Every range is inclusive.

    Args:
        min_rows, max_rows: rows per dataset (32-1024); a batch draws its row count
            log-uniformly, so small datasets (the low-data regime) are frequent.
        min_features, max_features: features per dataset (1-30), one count per batch.
        feature_distribution: how that count is drawn: ``"uniform"`` over the range, or
            ``"log_uniform"`` (narrow tables common, wide ones still seen: a range up to 100
            features without every step paying for 50 columns).
        max_classes: at most 10 classes, the v2 output head's size.
        multiclass_prob: probability that a dataset has more than 2 classes (0.5, so
            multiclass problems are learned as well as binary ones).
        argmax_label_prob: probability that a multiclass label is the argmax of random
            projections of the nodes (non-ordinal classes) instead of bins of one node.
        min_layers, max_layers: SCM depth (1-4 hidden layers).
        min_nodes, max_nodes: nodes per layer (8-32).
        edge_prob_range: range of the per-dataset density of the random weight matrices.
        noise_std_range: log-uniform range of the per-dataset additive noise, relative to a
            node's standardised signal (0.003-0.5): from nearly deterministic to very noisy labels.
        min_causes, max_causes: exogenous root causes (1-4); few causes, many variables.
        monotone_prob: share of nodes with a monotone activation (0.8); the rest get
            periodic/even/step/bump ones, which lose information.
        cause_feature_boost: how much likelier root causes are chosen as features
            (0.5 on a uniform sort key: usually all of them when there is room).
        categorical_prob: probability that a dataset has categorical features (0.4).
        max_categories: categories of a categorical feature are drawn from 2..this (10).
        quantile_prob: probability that a dataset's numeric features are rank-transformed
            to [0, 1], like tabpfn's quantile preprocessing view (0.5).
        min_train_fraction, max_train_fraction: the share of rows that are context (train)
            rows; the rest are the query rows the loss is computed on.
        source: the data-generating mechanism: ``"causalmix"`` (this module's SCMs), ``"rules"``
            (tables labelled by decision trees, parity, lookup tables and AND/OR rules over numeric and
            categorical columns; :mod:`causalmix.rule_prior`) or one of TabICL's priors (``"tabicl_mlp_scm"``, ``"tabicl_tree_scm"``, ``"tabicl_mix_scm"``,
            ``"tabicl_graph_scm"``; :mod:`causalmix.tabicl_prior`), with the batch shape drawn
            from the settings above either way. The SCM settings apply to ``"causalmix"`` only
            (``max_classes`` to all).
        mix_source, mix_share: a second mechanism drawing a ``mix_share`` of the batches (a mixture
            of priors; 0: none, and the batches are exactly those of ``source`` alone).
    """

    min_rows: int = 32
    max_rows: int = 1024
    min_features: int = 1
    max_features: int = 30
    feature_distribution: Literal["uniform", "log_uniform"] = "uniform"
    max_classes: int = 10
    multiclass_prob: float = 0.5
    argmax_label_prob: float = 0.5
    min_layers: int = 1
    max_layers: int = 4
    min_nodes: int = 8
    max_nodes: int = 32
    edge_prob_range: tuple[float, float] = (0.2, 1.0)
    noise_std_range: tuple[float, float] = (0.003, 0.5)
    min_causes: int = 1
    max_causes: int = 4
    monotone_prob: float = 0.8
    cause_feature_boost: float = 0.5
    categorical_prob: float = 0.4
    max_categories: int = 10
    quantile_prob: float = 0.5
    min_train_fraction: float = 0.3
    max_train_fraction: float = 0.9
    source: PriorSource = "causalmix"
    mix_source: PriorSource = "causalmix"
    mix_share: float = 0.0

    def __post_init__(self) -> None:
        if not 2 <= self.min_rows <= self.max_rows:
            raise ValueError(f"Need 2 <= min_rows <= max_rows, got {self.min_rows}, {self.max_rows}.")
        if not 1 <= self.min_features <= self.max_features:
            raise ValueError(
                f"Need 1 <= min_features <= max_features, got {self.min_features}, {self.max_features}."
            )
        if not 2 <= self.max_classes <= 10:
            raise ValueError(f"max_classes must be in 2..10 (the v2 head has 10 outputs), got {self.max_classes}.")
        if not 1 <= self.min_layers <= self.max_layers:
            raise ValueError(f"Need 1 <= min_layers <= max_layers, got {self.min_layers}, {self.max_layers}.")
        if not 2 <= self.min_nodes <= self.max_nodes:
            raise ValueError(f"Need 2 <= min_nodes <= max_nodes, got {self.min_nodes}, {self.max_nodes}.")
        if not 0 < self.min_train_fraction <= self.max_train_fraction < 1:
            raise ValueError("Need 0 < min_train_fraction <= max_train_fraction < 1.")
        for name in ("source", "mix_source"):
            if getattr(self, name) not in get_args(PriorSource):
                raise ValueError(f"{name} must be one of {get_args(PriorSource)}, got {getattr(self, name)!r}.")
        if not 0 <= self.mix_share <= 1:
            raise ValueError(f"mix_share must be in [0, 1], got {self.mix_share}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PriorBatch:
    """One batch of synthetic datasets, laid out as the v2 model takes them.

    Attributes:
        x_RBF: features, rows x datasets x features; train rows first.
        y_RB: class index per row (float, as the model takes it), dense over the classes
            present in each dataset's train rows.
        loss_mask_RB: True for query rows whose class occurs among the train rows.
        n_classes_B: number of classes in each dataset's train rows.
        n_features_B: number of features per dataset (all equal within a batch).
        single_eval_pos: number of train (context) rows.
    """

    x_RBF: torch.Tensor
    y_RB: torch.Tensor
    loss_mask_RB: torch.Tensor
    n_classes_B: torch.Tensor
    n_features_B: torch.Tensor
    single_eval_pos: int

    def to(self, device: str | torch.device) -> "PriorBatch":
        return dataclasses.replace(
            self,
            x_RBF=self.x_RBF.to(device),
            y_RB=self.y_RB.to(device),
            loss_mask_RB=self.loss_mask_RB.to(device),
            n_classes_B=self.n_classes_B.to(device),
            n_features_B=self.n_features_B.to(device),
        )


def _randint(g: torch.Generator, low: int, high: int, size: tuple[int, ...] = ()) -> torch.Tensor:
    """Integers in [low, high], inclusive."""
    return torch.randint(low, high + 1, size, generator=g)


def _uniform(g: torch.Generator, low: float, high: float, size: tuple[int, ...]) -> torch.Tensor:
    return low + (high - low) * torch.rand(size, generator=g)


def _standardise(z_BRN: torch.Tensor) -> torch.Tensor:
    mean = z_BRN.mean(1, keepdim=True)
    std = z_BRN.std(1, keepdim=True)
    return (z_BRN - mean) / (std + 1e-6)


# Candidate activations; each node of each layer gets one at random. Monotone ones keep the
# information of their input (learnable tables); the others (periodic, even, steps, bumps) are
# drawn with probability ``1 - monotone_prob`` for harder, non-invertible mechanisms.
_MONOTONE = (
    torch.tanh,
    torch.relu,
    lambda h: h,
    torch.nn.functional.leaky_relu,
    torch.sigmoid,
)
_OTHER = (
    lambda h: torch.sin(2.0 * h),
    torch.abs,
    lambda h: torch.clamp(h, -3, 3) ** 2,
    lambda h: (h > 0).to(h.dtype),
    lambda h: torch.exp(-(h**2)),
)
_ACTIVATIONS = _MONOTONE + _OTHER


def _random_quantile_bins(values_BRM: torch.Tensor, n_bins_BM: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Bin each column at random quantiles into ``n_bins`` bins (per column), giving codes 0..n-1."""
    B, R, M = values_BRM.shape
    k_max = int(n_bins_BM.max())
    # Random cut quantiles, kept away from the extremes so no bin is almost empty by design.
    q_BMK = torch.sort(_uniform(g, 0.05, 0.95, (B, M, k_max - 1)), dim=-1).values
    sorted_BMR = torch.sort(values_BRM.transpose(1, 2), dim=-1).values
    idx_BMK = (q_BMK * (R - 1)).round().long()
    thr_BMK = torch.gather(sorted_BMR, -1, idx_BMK)
    unused_BMK = torch.arange(k_max - 1)[None, None, :] >= (n_bins_BM[..., None] - 1)
    thr_BMK = thr_BMK.masked_fill(unused_BMK, float("inf"))
    return (values_BRM[..., None] > thr_BMK[:, None, :, :]).sum(-1)


def _random_permutation_codes(codes_BRM: torch.Tensor, n_codes_BM: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Relabel codes 0..n-1 of each column by a random permutation (per column)."""
    B, _, M = codes_BRM.shape
    k_max = int(n_codes_BM.max())
    keys_BMK = torch.rand((B, M, k_max), generator=g)
    keys_BMK = keys_BMK.masked_fill(torch.arange(k_max)[None, None, :] >= n_codes_BM[..., None], 2.0)
    perm_BMK = torch.argsort(keys_BMK, dim=-1)  # perm[c] = new code of old code c
    return torch.gather(perm_BMK, -1, codes_BRM.transpose(1, 2).clamp_max(k_max - 1)).transpose(1, 2)


def draw_n_features(config: PriorConfig, g: torch.Generator) -> int:
    """A feature count from the config's range and distribution."""
    if config.feature_distribution == "log_uniform":
        lo, hi = math.log(config.min_features), math.log(config.max_features + 1)
        return min(config.max_features, int(math.exp(_uniform(g, lo, hi, ()).item())))
    return int(_randint(g, config.min_features, config.max_features))


def sample_batch(
    config: PriorConfig,
    *,
    batch_size: int,
    n_rows: int | None = None,
    n_features: int | None = None,
    seed: int,
) -> PriorBatch:
    """Draw ``batch_size`` synthetic classification datasets from the SCM prior.

    Args:
        config: the prior's settings.
        batch_size: datasets in the batch.
        n_rows: rows per dataset; ``None`` draws it log-uniformly from the config's range.
        n_features: features per dataset; ``None`` draws it (:func:`draw_n_features`).
        seed: same seed, same batch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    g = torch.Generator().manual_seed(int(seed))
    B = batch_size
    if n_rows is None:
        log_r = _uniform(g, math.log(config.min_rows), math.log(config.max_rows), ()).item()
        n_rows = int(round(math.exp(log_r)))
    R = int(n_rows)
    if R < 4:
        raise ValueError(f"n_rows must be >= 4 (train and query rows per class), got {R}.")
    n_train = int(round(_uniform(g, config.min_train_fraction, config.max_train_fraction, ()).item() * R))
    n_train = min(max(n_train, 2), R - 1)

    # One feature count per batch, no zero-padding: the v2 encoder drops constant columns and
    # with several datasets in a batch that path breaks in-context learning (measured: a
    # linear toy task that trains in 150 steps does not train at all with padded columns).
    F = int(n_features) if n_features is not None else draw_n_features(config, g)
    source = config.source
    if config.mix_share > 0 and _uniform(g, 0.0, 1.0, ()).item() < config.mix_share:
        source = config.mix_source
    if source == "rules":
        x_BRF, y_BR = sample_rule_tables(batch_size=B, n_rows=R, n_features=F, max_classes=config.max_classes,
                                         seed=int(_randint(g, 0, 2**62)))
        return to_prior_batch(x_BRF, y_BR, n_train, config.max_classes)
    if source != "causalmix":
        from causalmix.tabicl_prior import sample_tabicl_tables  # TabICL's priors: the optional causalmix[tabicl-prior]

        x_BRF, y_BR = sample_tabicl_tables(source.removeprefix("tabicl_"), batch_size=B, n_rows=R, n_train=n_train,
                                           n_features=F, max_classes=config.max_classes, seed=int(_randint(g, 0, 2**62)))
        return to_prior_batch(x_BRF, y_BR, n_train, config.max_classes)
    n_layers = int(_randint(g, config.min_layers, config.max_layers))
    # Enough nodes that the features and the label are distinct variables.
    min_nodes = max(config.min_nodes, math.ceil((F + 2) / n_layers))
    H = int(_randint(g, min_nodes, max(min_nodes, config.max_nodes)))

    # --- the SCM: a few exogenous causes through sparse random layers ---
    # Few causes and many downstream nodes: the variables share their sources, so features
    # carry information about the label (as in real tables), at every noise level.
    n_causes = int(_randint(g, config.min_causes, config.max_causes))
    uniform_causes_B11 = torch.rand((B, 1, 1), generator=g) < 0.3
    z_BRC = torch.where(
        uniform_causes_B11,
        (torch.rand((B, R, n_causes), generator=g) * 2 - 1) * math.sqrt(3.0),
        torch.randn((B, R, n_causes), generator=g),
    )
    noise_std_B11 = torch.exp(
        _uniform(g, math.log(config.noise_std_range[0]), math.log(config.noise_std_range[1]), (B, 1, 1))
    )
    nodes = [z_BRC]
    z_BRH = z_BRC
    for _ in range(n_layers):
        d_in = z_BRH.shape[-1]
        edge_p_B11 = _uniform(g, *config.edge_prob_range, (B, 1, 1))
        mask_BDH = torch.rand((B, d_in, H), generator=g) < edge_p_B11
        w_BDH = torch.randn((B, d_in, H), generator=g) * mask_BDH / torch.sqrt(edge_p_B11 * d_in)
        b_B1H = torch.randn((B, 1, H), generator=g) * 0.5
        h_BRH = torch.bmm(z_BRH, w_BDH) + b_B1H
        monotone_B1H1 = torch.rand((B, 1, H, 1), generator=g) < config.monotone_prob
        act_idx_BRH1 = torch.where(
            monotone_B1H1,
            _randint(g, 0, len(_MONOTONE) - 1, (B, 1, H, 1)),
            _randint(g, len(_MONOTONE), len(_ACTIVATIONS) - 1, (B, 1, H, 1)),
        ).expand(B, R, H, 1)
        acts_BRHA = torch.stack([f(h_BRH) for f in _ACTIVATIONS], dim=-1)
        z_BRH = torch.gather(acts_BRHA, -1, act_idx_BRH1)[..., 0]
        z_BRH = _standardise(_standardise(z_BRH) + noise_std_B11 * torch.randn((B, R, H), generator=g))
        nodes.append(z_BRH)
    nodes_BRN = torch.cat(nodes, dim=-1)
    N = nodes_BRN.shape[-1]

    # --- the label: a node past the causes, binned; or the argmax of random projections ---
    multiclass_B = torch.rand((B,), generator=g) < config.multiclass_prob
    n_classes_B = torch.where(
        multiclass_B, _randint(g, 3, max(3, config.max_classes), (B,)), torch.full((B,), 2)
    ).clamp_max(config.max_classes)
    target_node_B = _randint(g, n_causes, N - 1, (B,))
    target_BR = torch.gather(nodes_BRN, 2, target_node_B[:, None, None].expand(B, R, 1))[..., 0]
    y_binned_BR = _random_quantile_bins(target_BR[..., None], n_classes_B[:, None], g)[..., 0]
    k_max = int(n_classes_B.max())
    proj_BNK = torch.randn((B, N, k_max), generator=g) * (torch.rand((B, N, 1), generator=g) < 0.3)
    scores_BRK = _standardise(torch.bmm(nodes_BRN, proj_BNK)) * torch.exp(_uniform(g, 0.0, 1.5, (B, 1, 1)))
    scores_BRK = scores_BRK + torch.randn((B, R, k_max), generator=g) * noise_std_B11
    scores_BRK = scores_BRK.masked_fill(torch.arange(k_max)[None, None, :] >= n_classes_B[:, None, None], -1e9)
    y_argmax_BR = scores_BRK.argmax(-1)
    use_argmax_B1 = (multiclass_B & (torch.rand((B,), generator=g) < config.argmax_label_prob))[:, None]
    y_BR = torch.where(use_argmax_B1, y_argmax_BR, y_binned_BR)
    y_BR = _random_permutation_codes(y_BR[..., None], n_classes_B[:, None], g)[..., 0]

    # --- the features: a random subset of the other nodes ---
    keys_BN = torch.rand((B, N), generator=g)
    # Root causes are likelier features (as measured inputs often are): it keeps the label
    # identifiable from the features in most datasets.
    keys_BN[:, :n_causes] -= config.cause_feature_boost
    keys_BN.scatter_(1, target_node_B[:, None], 2.0)  # never the label node itself
    feat_nodes_BF = torch.argsort(keys_BN, dim=1)[:, :F]
    x_BRF = torch.gather(nodes_BRN, 2, feat_nodes_BF[:, None, :].expand(B, R, F))

    # Raw view: random skewing warps (exp) so that heavy tails and outliers occur.
    warp_BF = (torch.rand((B, F), generator=g) < 0.3) * _uniform(g, 0.5, 2.0, (B, F))
    x_BRF = torch.where(warp_BF[:, None, :] > 0, torch.exp(x_BRF * warp_BF[:, None, :].clamp_min(1e-3)), x_BRF)
    # Quantile view: rank-transform every numeric feature of the dataset to [0, 1].
    ranks_BRF = torch.argsort(torch.argsort(x_BRF, dim=1), dim=1).to(x_BRF.dtype) / max(R - 1, 1)
    quantile_B11 = torch.rand((B, 1, 1), generator=g) < config.quantile_prob
    x_BRF = torch.where(quantile_B11, ranks_BRF, x_BRF)

    # Categoricals: quantile bins with shuffled integer codes, like tabpfn's ordinal encoders.
    has_cat_B1 = torch.rand((B, 1), generator=g) < config.categorical_prob
    cat_share_B1 = torch.rand((B, 1), generator=g)
    is_cat_BF = has_cat_B1 & (torch.rand((B, F), generator=g) < cat_share_B1)
    n_cats_BF = _randint(g, 2, config.max_categories, (B, F))
    codes_BRF = _random_quantile_bins(x_BRF, n_cats_BF, g)
    codes_BRF = _random_permutation_codes(codes_BRF, n_cats_BF, g).to(x_BRF.dtype)
    x_BRF = torch.where(is_cat_BF[:, None, :], codes_BRF, x_BRF)

    # Rows are exchangeable; shuffle them so the split is random w.r.t. nothing in particular.
    order_BR = torch.argsort(torch.rand((B, R), generator=g), dim=1)
    x_BRF = torch.gather(x_BRF, 1, order_BR[..., None].expand(B, R, F))
    y_BR = torch.gather(y_BR, 1, order_BR)

    return to_prior_batch(x_BRF, y_BR, n_train, config.max_classes)


def to_prior_batch(x_BRF: torch.Tensor, y_BR: torch.Tensor, n_train: int, max_classes: int) -> PriorBatch:
    """Lay out datasets x rows x features and their class codes (``0..max_classes-1``) as a batch.

    The labels are densified over the classes present in the train rows (what tabpfn sees at
    inference, where classes come from the training labels); query rows of unseen classes are
    masked out of the loss.
    """
    B, _, F = x_BRF.shape
    y_BR = y_BR.long()
    present_BK = torch.zeros((B, max_classes), dtype=torch.bool)
    present_BK.scatter_(1, y_BR[:, :n_train], True)
    rank_BK = present_BK.long().cumsum(1) - 1
    loss_mask_BR = torch.gather(present_BK, 1, y_BR)
    loss_mask_BR[:, :n_train] = False
    y_BR = torch.gather(rank_BK, 1, y_BR).clamp_min(0)
    return PriorBatch(
        x_RBF=x_BRF.transpose(0, 1).contiguous().float(),
        y_RB=y_BR.transpose(0, 1).contiguous().float(),
        loss_mask_RB=loss_mask_BR.transpose(0, 1).contiguous(),
        n_classes_B=present_BK.sum(1),
        n_features_B=torch.full((B,), F),
        single_eval_pos=n_train,
    )


def benchmark_prior(
    config: PriorConfig | None = None,
    *,
    batch_size: int = 16,
    n_rows: int = 512,
    n_batches: int = 20,
    seed: int = 0,
) -> dict[str, float]:
    """Datasets per second the prior generates (single process, current torch threads)."""
    config = config or PriorConfig()
    sample_batch(config, batch_size=batch_size, n_rows=n_rows, seed=seed)  # warm-up
    start = time.perf_counter()
    for i in range(n_batches):
        sample_batch(config, batch_size=batch_size, n_rows=n_rows, seed=seed + 1 + i)
    elapsed = time.perf_counter() - start
    return {
        "datasets_per_s": n_batches * batch_size / elapsed,
        "batch_s": elapsed / n_batches,
        "batch_size": batch_size,
        "n_rows": n_rows,
    }
