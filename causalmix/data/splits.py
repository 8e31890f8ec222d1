"""The split protocol: stratified low-data train / validation / test splits, and domain-shift
splits drawn inside one subgroup and tested in and out of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from causalmix.data.names import DatasetError
from causalmix.data.registry import Dataset

#: Most test rows per split (stratified): one default for the library, `causalmix run` and sweeps.
DEFAULT_TEST_CAP = 5000


def check_classes(y: pd.Series, classes: Sequence[str], where: str) -> None:
    """Every class needs two rows (one for training, one for validation): the check a run applies."""
    counts = y.value_counts()
    missing = sorted(set(classes) - set(counts.index)) or sorted(counts.index[counts < 2])
    if missing:
        raise DatasetError(
            f"Classes {missing} of {where} have fewer than 2 rows; each must appear in train and validation. "
            "Add rows of these classes, or remove or merge them."
        )


def check_splittable(dataset: Dataset) -> None:
    """The checks every run applies to a dataset: two rows per class and room for a test row."""
    check_classes(dataset.y, dataset.classes, repr(dataset.name))
    smallest = 2 * len(dataset.classes) + 1
    if len(dataset.y) < smallest:
        raise DatasetError(
            f"{dataset.name!r} has {len(dataset.y)} rows; the smallest split (one training and one validation "
            f"row per class, one test row) needs {smallest}."
        )



# --- the low-data split protocol ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """Stratified train / validation / test rows of one dataset for one seed.

    ``X_test_ood``/``y_test_ood`` hold the out-of-domain test rows of a domain-shift split.
    """

    dataset: str
    seed: int
    X_train: pd.DataFrame
    y_train: pd.Series
    X_val: pd.DataFrame
    y_val: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    X_test_ood: pd.DataFrame | None = None
    y_test_ood: pd.Series | None = None
    domain: str | None = None


def allocate(n: int, weights) -> np.ndarray:
    """Split ``n`` into integer parts proportional to ``weights`` (largest remainder), summing to ``n``.

    >>> allocate(10, [1, 1, 1]).tolist()
    [4, 3, 3]
    """
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    rest = n - counts.sum()
    if rest:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:rest]] += 1
    return counts


def _allocate(counts: pd.Series, n: int, minimum: int) -> pd.Series:
    """Per-class sizes summing to ``n``: ``minimum`` each (as far as a class has rows), the rest in
    proportion to the rows each class has left."""
    base = np.minimum(counts.to_numpy(), minimum)
    room = counts.to_numpy() - base
    rest = n - base.sum()
    extra = allocate(rest, room) if rest else np.zeros_like(base)
    return pd.Series(base + extra, index=counts.index)


def _draw(y: pd.Series, n: int, minimum: int, rng: np.random.Generator) -> np.ndarray:
    sizes = _allocate(y.value_counts().sort_index(), n, minimum)
    picked = [rng.choice(y.index[y == label].to_numpy(), size=k, replace=False) for label, k in sizes.items()]
    return np.sort(np.concatenate(picked))


def default_n_val(n_train: int, n_classes: int) -> int:
    """SPEC: ``n_train / 4``, at least two rows per class."""
    return max(n_train // 4, 2 * n_classes)


def low_data_split(
    dataset: Dataset,
    *,
    n_train: int,
    n_val: int | None = None,
    seed: int,
    test_cap: int = DEFAULT_TEST_CAP,
    rows: pd.Index | None = None,
) -> Split:
    """Draw the SPEC's low-data split: stratified train and validation sets, the rest as test.

    Every class is present in train and validation (or a clear error). The test set is the
    remaining rows, stratified-capped at ``test_cap``. Deterministic in ``seed``.

    Args:
        dataset: the loaded dataset.
        n_train: training rows.
        n_val: validation rows; default ``max(n_train // 4, 2 * n_classes)``.
        seed: the split seed.
        test_cap: most test rows (stratified subsample of the rest).
        rows: restrict the draw to these row labels (used by the domain-shift split).
    """
    y = dataset.y if rows is None else dataset.y.loc[rows]
    k = len(dataset.classes)
    n_val = default_n_val(n_train, k) if n_val is None else n_val
    where = f"{dataset.name!r}" + ("" if rows is None else " (in-domain rows)")
    if n_train < k or n_val < k:
        raise DatasetError(f"n_train={n_train} and n_val={n_val} must each be at least the {k} classes of {where}.")
    if n_train + n_val >= len(y):
        raise DatasetError(
            f"{where} has {len(y)} rows, fewer than n_train + n_val + 1 = {n_train + n_val + 1}; "
            "ask for fewer training/validation rows."
        )
    check_classes(y, dataset.classes, where)
    rng = np.random.default_rng(seed)
    train = _draw(y, n_train, 1, rng)
    rest = y.drop(index=train)
    val = _draw(rest, n_val, 1, rng)
    rest = rest.drop(index=val)
    test = rest.index.to_numpy() if len(rest) <= test_cap else _draw(rest, test_cap, 1, rng)
    X = dataset.X
    return Split(
        dataset=dataset.name,
        seed=seed,
        X_train=X.loc[train].reset_index(drop=True),
        y_train=dataset.y.loc[train].reset_index(drop=True),
        X_val=X.loc[val].reset_index(drop=True),
        y_val=dataset.y.loc[val].reset_index(drop=True),
        X_test=X.loc[test].reset_index(drop=True),
        y_test=dataset.y.loc[test].reset_index(drop=True),
    )


def domain_mask(
    dataset: Dataset, column: str, *, values: Sequence[Any] | None = None, between: Sequence[float] | None = None
) -> pd.Series:
    """Rows in the domain: ``column`` takes one of ``values`` or lies in ``[low, high)``."""
    if column not in dataset.X.columns:
        raise DatasetError(f"Domain column {column!r} not in {dataset.name!r}; columns: {list(dataset.X.columns)}.")
    if (values is None) == (between is None):
        raise DatasetError("Give exactly one of values=[...] (categorical) or between=[low, high) (numeric).")
    col = dataset.X[column]
    if values is not None:
        unknown = sorted(set(map(str, values)) - set(col.astype(str).unique()))
        if unknown:
            raise DatasetError(f"Values {unknown} never occur in {column!r}; it has {sorted(col.dropna().unique())[:20]}.")
        return col.astype(str).isin(set(map(str, values)))
    low, high = between
    return (col >= low) & (col < high)


def domain_shift_split(
    dataset: Dataset,
    *,
    column: str,
    values: Sequence[Any] | None = None,
    between: Sequence[float] | None = None,
    n_train: int,
    n_val: int | None = None,
    seed: int,
    test_cap: int = DEFAULT_TEST_CAP,
) -> Split:
    """A low-data split drawn inside one subgroup, tested in-domain and out-of-domain.

    >>> split = domain_shift_split(load_dataset("adult"), column="sex", values=["Male"],
    ...                            n_train=256, seed=0)      # doctest: +SKIP
    """
    mask = domain_mask(dataset, column, values=values, between=between)
    inside = dataset.y.index[mask]
    outside = dataset.y.index[~mask]
    if len(outside) == 0:
        raise DatasetError(f"Every row of {dataset.name!r} is in the domain {column}; nothing is out of domain.")
    split = low_data_split(dataset, n_train=n_train, n_val=n_val, seed=seed, test_cap=test_cap, rows=inside)
    rng = np.random.default_rng([seed, 1])
    y_out = dataset.y.loc[outside]
    ood = y_out.index.to_numpy() if len(y_out) <= test_cap else _draw(y_out, test_cap, 0, rng)
    label = f"{column} in {list(values)}" if values is not None else f"{between[0]} <= {column} < {between[1]}"
    return dataclasses.replace(
        split,
        X_test_ood=dataset.X.loc[ood].reset_index(drop=True),
        y_test_ood=dataset.y.loc[ood].reset_index(drop=True),
        domain=label,
    )
