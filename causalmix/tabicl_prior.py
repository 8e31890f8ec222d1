"""TabICL's priors (``tabicl.prior``, BSD-3) laid out as :class:`causalmix.prior.PriorBatch`.

The batch's shape is drawn exactly as for the causalmix prior (rows, features, train share: see
:func:`causalmix.prior.sample_batch`); only the data-generating mechanism is TabICL's:
``"mlp_scm"``, ``"tree_scm"``, ``"mix_scm"`` or ``"graph_scm"``. One feature count per batch and
no zero padding: TabICL drops a dataset's constant columns and pads the rest with zeros, which
gives the datasets of a batch different numbers of padded columns — a layout the v2 encoder
does not learn from (measured: median zero-shot ROC-AUC 0.690 vs 0.805 for our prior in an
earlier probe). Here every dataset keeps its first ``k`` non-constant columns, ``k`` the
smallest count in the batch.

TabICL draws from the global ``random``, ``numpy`` and ``torch`` generators; they are seeded
from ``seed`` and restored afterwards, so the same seed gives the same batch.

Needs ``pip install tabicl xgboost`` (the tree prior fits XGBoost models).
"""

from __future__ import annotations

import random
from typing import Literal

import numpy as np
import torch

TabICLPrior = Literal["mlp_scm", "tree_scm", "mix_scm", "graph_scm"]

__all__ = ["TabICLPrior", "sample_tabicl_tables"]


def sample_tabicl_tables(
    prior_type: TabICLPrior,
    *,
    batch_size: int,
    n_rows: int,
    n_train: int,
    n_features: int,
    max_classes: int,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` classification datasets of ``n_rows`` x ``n_features`` from a TabICL prior, as
    features ``x_BRF`` and class codes ``y_BR`` (:func:`causalmix.prior.to_prior_batch` lays them out)."""
    try:
        from tabicl.prior._dataset import PriorDataset
    except ImportError as e:
        raise ImportError(f"The TabICL prior needs the tabicl package ({e}); run `pip install tabicl xgboost`.") from e
    states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    try:
        prior = PriorDataset(
            batch_size=batch_size, batch_size_per_gp=batch_size, min_features=n_features,
            max_features=n_features, max_classes=max_classes, min_seq_len=None, max_seq_len=n_rows,
            min_train_size=n_train, max_train_size=n_train + 1, prior_type=prior_type, n_jobs=1,
        )
        x_BRF, y_BR, *_ = prior.get_batch()
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.random.set_rng_state(states[2])
    x_BRF = x_BRF[:, :n_rows, :n_features].float()
    y_BR = y_BR[:, :n_rows]
    varies_BF = (x_BRF != x_BRF[:, :1, :]).any(dim=1)
    k = max(1, int(varies_BF.sum(1).min()))
    # Each dataset's varying columns first (stable order), then its first k.
    order_BF = torch.argsort((~varies_BF).int(), dim=1, stable=True)[:, :k]
    x_BRF = torch.gather(x_BRF, 2, order_BF[:, None, :].expand(-1, x_BRF.shape[1], -1))
    return x_BRF, y_BR
