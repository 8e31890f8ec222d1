"""SPEC's hierarchical bootstrap: resample datasets, then seeds within each drawn dataset.

A :class:`Grid` holds a per-run quantity as an array ``datasets × seeds × cells × columns`` (cells: the
training sizes, or (n_train, domain) on Adult; columns: methods, or one paired difference). A dataset's
value is the mean over its runs (its seeds and training sizes: SPEC's *pooled* aggregation); a
statistic maps the ``datasets × columns`` matrix of those values to one number. Methods of one split
share its seed draw, so paired comparisons stay paired (common random numbers).

>>> runs = pd.DataFrame({"dataset": list("aabbcc"), "seed": [0, 1] * 3, "n_train": 64,
...                      "method": "m", "value": [1.0, 3.0, 2.0, 2.0, 5.0, 7.0]})
>>> g = grid(runs, "value")
>>> g.values.shape, dataset_values(g)["m"].tolist()
((3, 2, 1, 1), [2.0, 2.0, 6.0])
>>> iv = hierarchical_bootstrap(g, lambda v: np.nanmedian(v[..., 0], axis=-1), n_resamples=500)
>>> iv.estimate, 1.0 <= iv.low <= iv.high <= 7.0
(2.0, True)
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from causalmix.report.interval import Interval

N_RESAMPLES = 2000  # SPEC: at least 2,000 replicates


@dataclasses.dataclass(frozen=True)
class Grid:
    """Per-run values ``[dataset, seed, cell, column]`` (NaN where a run is missing or a dataset has
    fewer seeds than the widest one); ``n_seeds[d]`` seeds of dataset ``d`` come first on its seed axis."""

    datasets: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    n_seeds: np.ndarray
    seeds: tuple[tuple, ...] = ()

    @property
    def n_runs(self) -> int:
        return int(np.isfinite(self.values).sum())

    def take(self, columns: Sequence[str]) -> Grid:
        """The grid on ``columns``, in that order (a missing one is all NaN)."""
        pos = [self.columns.index(c) if c in self.columns else None for c in columns]
        values = np.stack([self.values[..., i] if i is not None else np.full(self.values.shape[:3], np.nan)
                           for i in pos], axis=-1) if pos else self.values[..., :0]
        return dataclasses.replace(self, columns=tuple(columns), values=values)


def grid(frame: pd.DataFrame, value: str, *, columns: str | None = "method",
         cells: Sequence[str] = ("n_train",)) -> Grid:
    """The :class:`Grid` of ``frame[value]`` by dataset, seed, ``cells`` and ``columns`` (a column of
    ``frame``, or None for a single column named ``value``). Duplicate runs are averaged."""
    frame = frame[frame[value].notna()] if len(frame) else frame
    if columns is None:
        frame = frame.assign(_column=value)
        columns = "_column"
    cells = [c for c in cells if c in frame]
    if frame.empty:
        return Grid((), (), np.full((0, 1, 1, 1), np.nan), np.zeros(0, int))
    frame = frame.assign(_cell=frame[cells].astype(str).agg("|".join, axis=1) if cells else "")
    names = tuple(sorted(frame[columns].unique(), key=str))
    cell_names = sorted(frame["_cell"].unique())
    datasets = tuple(sorted(frame["dataset"].unique()))
    seeds = tuple(tuple(sorted(frame.loc[frame["dataset"] == d, "seed"].unique())) for d in datasets)
    width = max(len(s) for s in seeds)
    values = np.full((len(datasets), width, len(cell_names), len(names)), np.nan)
    means = frame.groupby(["dataset", "seed", "_cell", columns])[value].mean()
    d_pos = {d: i for i, d in enumerate(datasets)}
    c_pos, m_pos = {c: i for i, c in enumerate(cell_names)}, {m: i for i, m in enumerate(names)}
    s_pos = [{s: j for j, s in enumerate(ss)} for ss in seeds]
    for (d, s, c, m), v in means.items():
        i = d_pos[d]
        values[i, s_pos[i][s], c_pos[c], m_pos[m]] = v
    return Grid(datasets, tuple(str(n) for n in names), values, np.array([len(s) for s in seeds]), seeds)


def _nanmean(values: np.ndarray, axis) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def per_dataset(g: Grid) -> np.ndarray:
    """``datasets × columns``: each dataset's mean over its runs (seeds and cells)."""
    return _nanmean(g.values, axis=(1, 2))


def dataset_values(g: Grid) -> pd.DataFrame:
    """:func:`per_dataset` as a frame indexed by dataset."""
    return pd.DataFrame(per_dataset(g), index=pd.Index(g.datasets, name="dataset"), columns=list(g.columns))


def seed_values(g: Grid) -> np.ndarray:
    """``datasets × seeds × columns``: each seed's mean over its cells (NaN past a dataset's seeds)."""
    return _nanmean(g.values, axis=2)


Statistic = Callable[[np.ndarray], np.ndarray]


def replicates(g: Grid, statistic: Statistic, *, n_resamples: int = N_RESAMPLES, seed: int = 0,
               datasets: bool = True) -> tuple[float, np.ndarray]:
    """``(estimate, replicate values)`` of ``statistic`` under the two-stage bootstrap: draw datasets
    with replacement, then, inside each drawn dataset, its seeds with replacement (all cells of a seed
    together); ``datasets=False`` keeps the datasets and resamples seeds only. NaN replicates are
    dropped; there are none with one dataset and one seed (nothing to resample).

    ``statistic`` is vectorised: it maps an array ``(..., datasets, columns)`` of per-dataset values to
    ``(...)``.
    """
    n_d = len(g.datasets)
    if n_d == 0:
        return float("nan"), np.array([])
    estimate = float(np.asarray(statistic(per_dataset(g)[None]))[0])
    if (n_d < 2 or not datasets) and g.n_seeds.max() < 2:
        return estimate, np.array([])
    rng = np.random.default_rng(seed)
    width = g.values.shape[1]
    values = np.empty(n_resamples)
    chunk = max(1, int(2e7 // max(1, g.values[0].size * n_d)))  # bound the memory of one gather
    for start in range(0, n_resamples, chunk):
        r = min(chunk, n_resamples - start)
        drawn = rng.integers(0, n_d, size=(r, n_d)) if datasets else np.broadcast_to(np.arange(n_d), (r, n_d))
        n_s = g.n_seeds[drawn]
        picks = (rng.random((r, n_d, width)) * n_s[..., None]).astype(int)
        sample = g.values[drawn[..., None], picks]  # (r, datasets, seeds, cells, columns)
        sample[np.arange(width) >= n_s[..., None]] = np.nan
        values[start:start + r] = statistic(_nanmean(sample, axis=(2, 3)))
    return estimate, values[np.isfinite(values)]


def hierarchical_bootstrap(g: Grid, statistic: Statistic, *, n_resamples: int = N_RESAMPLES, level: float = 0.95,
                           seed: int = 0, datasets: bool = True) -> Interval:
    """The percentile interval (``level``) of ``statistic`` over :func:`replicates`; NaN bounds when
    there is nothing to resample."""
    estimate, values = replicates(g, statistic, n_resamples=n_resamples, seed=seed, datasets=datasets)
    if not len(values):
        return Interval(estimate, float("nan"), float("nan"), level, len(g.datasets))
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return Interval(estimate, float(low), float(high), level, len(g.datasets))


def percentile_p(values: np.ndarray, against: float) -> float:
    """The p-value that inverts the percentile interval: the smallest ``1 − level`` at which the
    interval of ``values`` excludes ``against`` (two-sided); NaN without replicates.

    >>> percentile_p(np.arange(100.0), 2.5), percentile_p(np.arange(100.0), 200.0)
    (0.06, 0.0)
    """
    if not len(values):
        return float("nan")
    return float(min(1.0, 2 * min(np.mean(values <= against), np.mean(values >= against))))


# --- vectorised statistics -------------------------------------------------------------------


def median_of(column: int = 0) -> Statistic:
    """The median across datasets of one column."""
    def statistic(v: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(v[..., column], axis=-1)
    return statistic


def spread_difference(spread: str = "std") -> Statistic:
    """Column 0's spread across datasets minus column 1's: ``std`` (ddof 1), ``iqr`` or ``mad``
    (median absolute deviation, unscaled); datasets missing either column are left out.

    >>> v = np.array([[[0.0, 0.0], [2.0, 1.0], [4.0, 2.0]]])
    >>> spread_difference()(v).tolist(), spread_difference("iqr")(v).tolist()
    ([1.0], [1.0])
    """
    def one(x: np.ndarray) -> np.ndarray:
        if spread == "std":
            return np.nanstd(x, axis=-1, ddof=1)
        if spread == "iqr":
            q = np.nanquantile(x, [0.25, 0.75], axis=-1)
            return q[1] - q[0]
        return np.nanmedian(np.abs(x - np.nanmedian(x, axis=-1, keepdims=True)), axis=-1)

    def statistic(v: np.ndarray) -> np.ndarray:
        both = np.isfinite(v[..., 0]) & np.isfinite(v[..., 1])
        a, b = np.where(both, v[..., 0], np.nan), np.where(both, v[..., 1], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return one(a) - one(b)
    return statistic


def rank_lead(ours: int) -> Statistic:
    """The best average rank among the other columns minus column ``ours``'s (ranks per dataset,
    1 = highest value, ties averaged; datasets missing a column are left out)."""
    from scipy.stats import rankdata

    def statistic(v: np.ndarray) -> np.ndarray:
        complete = np.isfinite(v).all(axis=-1, keepdims=True)
        ranks = np.where(complete, rankdata(-np.nan_to_num(v, nan=0.0), axis=-1), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(ranks, axis=-2)
        others = np.delete(mean, ours, axis=-1)
        return np.min(others, axis=-1) - mean[..., ours]
    return statistic


def variance_components(g: Grid, column: int = 0) -> tuple[float, float, float]:
    """``(between, within, seeds)``: the variance of the true per-dataset values, the variance of one
    seed's value around its dataset's (pooled over datasets), and the mean number of seeds, from the
    one-way random-effects decomposition of the per-seed values. The observed variance of the
    per-dataset values is ``between + within / seeds``.

    >>> g = Grid(("a", "b"), ("m",), np.array([[[[1.0]], [[3.0]]], [[[5.0]], [[7.0]]]]), np.array([2, 2]))
    >>> variance_components(g)
    (7.0, 2.0, 2.0)
    """
    x = seed_values(g)[..., column]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        within = float(np.nanmean(np.nanvar(x, axis=1, ddof=1))) if g.n_seeds.max() > 1 else 0.0
        means = np.nanmean(x, axis=1)
    means = means[np.isfinite(means)]
    total = float(np.var(means, ddof=1)) if len(means) > 1 else float("nan")
    n_seeds = float(np.mean(g.n_seeds)) if len(g.n_seeds) else float("nan")
    within = 0.0 if math.isnan(within) else within
    return max(0.0, total - within / n_seeds), within, n_seeds
