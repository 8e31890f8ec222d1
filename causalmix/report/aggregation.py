"""Aggregating many runs for the report (definitions fixed in SPEC.md): per method, the median
across datasets of the per-dataset mean over seeds, and per-dataset ranks of the methods.

The per-run numbers these aggregate are :mod:`causalmix.metrics`'.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["aggregate", "average_ranks", "missing_methods", "rank_table"]


def aggregate(
    frame: pd.DataFrame, value: str, *, by: str = "method", dataset: str = "dataset", size: str = "n_train"
) -> pd.DataFrame:
    """SPEC aggregation: per (``by``, dataset, n_train) the mean over seeds; then per ``by`` the
    median across datasets, per n_train (``median_n<N>``, when there are several) and pooled
    (``median``: over all (dataset, n_train) cells, so every training size of every dataset
    counts once), with the ``std`` (the paper's "variability"), ``q25``, ``q75`` and ``iqr`` of
    the same cells, ``n_datasets`` and ``n_cells``. Sorted by the pooled median, best first.

    >>> f = pd.DataFrame({"method": ["a"] * 4, "dataset": ["x", "x", "y", "y"], "n_train": [64, 64, 64, 128],
    ...                   "v": [1.0, 3.0, 5.0, 7.0]})
    >>> aggregate(f, "v")[["median", "median_n64", "median_n128", "n_cells"]].to_dict("records")
    [{'median': 5.0, 'median_n64': 3.5, 'median_n128': 7.0, 'n_cells': 3}]
    """
    sizes = [size] if size in frame else []
    cells = frame.groupby([by, dataset, *sizes])[value].mean().dropna()
    grouped = cells.groupby(level=0)
    out = pd.DataFrame({
        "median": grouped.median(),
        "std": grouped.std(ddof=1),
        "q25": grouped.quantile(0.25),
        "q75": grouped.quantile(0.75),
        "n_datasets": cells.reset_index().groupby(by)[dataset].nunique(),
        "n_cells": grouped.size(),
    })
    out["iqr"] = out["q75"] - out["q25"]
    if sizes and frame[size].nunique() > 1:
        per_size = cells.groupby(level=[0, 2]).median().unstack(-1)
        for n in sorted(per_size.columns):
            out[f"median_n{n}"] = per_size[n]
    return out.sort_values("median", ascending=False)


def missing_methods(frame: pd.DataFrame, value: str = "test_roc_auc", *, by: str = "method",
                    dataset: str = "dataset") -> dict[str, list[str]]:
    """Datasets on which some method has no ``value``, and which methods they lack: the datasets
    that :func:`rank_table` cannot rank (reported, never dropped silently)."""
    means = frame.groupby([dataset, by])[value].mean().unstack(by)
    return {d: sorted(row.index[row.isna()]) for d, row in means.iterrows() if row.isna().any()}


def average_ranks(
    frame: pd.DataFrame,
    value: str = "test_roc_auc",
    *,
    by: str = "method",
    dataset: str = "dataset",
    higher_is_better: bool = True,
) -> pd.Series:
    """Rank methods per dataset by their mean ``value`` (1 = best, ties averaged), then average.

    Only datasets on which every method has a value are ranked; :func:`missing_methods` names
    the others.
    """
    table = rank_table(frame, value, by=by, dataset=dataset, higher_is_better=higher_is_better)
    return table.mean(axis=0).sort_values().rename("average_rank")


def rank_table(
    frame: pd.DataFrame,
    value: str = "test_roc_auc",
    *,
    by: str = "method",
    dataset: str = "dataset",
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Datasets × methods table of per-dataset ranks (1 = best, ties averaged)."""
    means = frame.groupby([dataset, by])[value].mean().unstack(by).dropna(axis=0, how="any")
    return means.rank(axis=1, ascending=not higher_is_better, method="average")
