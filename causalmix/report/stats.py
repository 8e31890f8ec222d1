"""The statistics behind the book: per-run frames (improvement, reliability, domain shift), ranks with
the Friedman test and the Nemenyi critical difference, paired Wilcoxon tests with Holm's correction,
and bootstrap intervals that resample datasets."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from causalmix.metrics import (
    HIGHER_IS_BETTER,
    early_stopping_regret,
    normalized_improvement,
    validation_test_correlation,
)
from causalmix.report.aggregation import missing_methods, rank_table
from causalmix.report.hierarchical import grid, hierarchical_bootstrap, median_of
from causalmix.report.interval import Interval  # noqa: F401 - part of this module's API
from causalmix.report.paper import method_label


def improvement_frame(records: pd.DataFrame, metric: str = "test_roc_auc") -> pd.DataFrame:
    """One row per fine-tuning run with ``improvement``: the SPEC's normalized improvement (percent)
    of ``metric`` over the pre-trained model on the same split (the run's step 0).

    The ``pretrained`` method is left out (its improvement is 0 by definition).
    """
    base = metric.removeprefix("test_ood_").removeprefix("test_")
    higher = HIGHER_IS_BETTER.get(base, True)
    runs = records[records["method"] != "pretrained"].copy()
    runs["improvement"] = normalized_improvement(runs[metric], runs[f"{metric}_step0"], higher_is_better=higher)
    return runs


def improvement_cells(records: pd.DataFrame, method: str, metric: str = "test_roc_auc") -> pd.DataFrame:
    """One row per (dataset, n_train) of ``method``: its normalized improvement, mean over seeds."""
    frame = improvement_frame(records, metric)
    frame = frame[frame["method"] == method]
    return frame.groupby(["dataset", "n_train"], as_index=False)["improvement"].mean()


def per_dataset(frame: pd.DataFrame, value: str) -> list[np.ndarray]:
    """``frame[value]`` split by dataset: the clusters :func:`cluster_bootstrap` resamples."""
    return [g[value].dropna().to_numpy() for _, g in frame.groupby("dataset")]


def pooled_median(clusters: Sequence[np.ndarray]) -> float:
    """The median of all clusters' values together (NaN when there are none)."""
    values = np.concatenate(clusters) if len(clusters) else np.array([])
    return float(np.median(values)) if len(values) else float("nan")


def median_interval(frame: pd.DataFrame, value: str, *, seed: int = 0) -> Interval:
    """The median of ``frame[value]`` pooled over all rows, with a 95 % bootstrap interval that
    resamples datasets (each dataset's rows together)."""
    return cluster_bootstrap(per_dataset(frame, value), pooled_median, seed=seed)


def median_improvement_interval(records: pd.DataFrame, method: str, metric: str = "test_roc_auc", *,
                                seed: int = 0) -> Interval | None:
    """SPEC's pooled median improvement of ``method`` (per dataset the mean over its seeds and training
    sizes, then the median across datasets) with a 95 % hierarchical bootstrap interval (datasets, then
    seeds within each drawn dataset); None when the method has no runs."""
    frame = improvement_frame(records, metric)
    frame = frame[frame["method"] == method]
    if frame.empty:
        return None
    return hierarchical_bootstrap(grid(frame, "improvement", columns=None), median_of(0), seed=seed)


SPLIT_KEYS = ("dataset", "n_train", "seed", "domain")  # what a split is (SPEC: common random numbers)


def _split_ids(records: pd.DataFrame) -> pd.Series:
    keys = [k for k in SPLIT_KEYS if k in records]
    return records[keys].apply(lambda column: column.map(str)).agg("|".join, axis=1)


def on_shared_splits(records: pd.DataFrame) -> pd.DataFrame:
    """The runs on the splits (dataset, n_train, seed[, domain]) on which every method of ``records``
    ran: a comparison of methods' means over runs needs the same splits on every side.

    >>> runs = pd.DataFrame({"dataset": "d", "n_train": 64, "seed": [0, 1, 0], "method": ["a", "a", "b"]})
    >>> on_shared_splits(runs)["seed"].tolist()
    [0, 0]
    """
    if records.empty:
        return records
    split = _split_ids(records)
    methods = records.groupby(split)["method"].nunique()
    return records[split.map(methods).eq(records["method"].nunique()).to_numpy()]


def fewer_seeds(records: pd.DataFrame) -> dict[str, list[int]]:
    """The methods run on fewer seeds than the others (e.g. TabEBM under a configuration's
    ``seeds_by_method``), with their seeds. Ranking them together with the rest would restrict
    every method to those seeds; :func:`fully_seeded` leaves them out instead.

    >>> fewer_seeds(pd.DataFrame({"seed": [0, 1, 0], "method": ["a", "a", "b"]}))
    {'b': [0]}
    """
    seeds = records.groupby("method")["seed"].unique()
    every = set(records["seed"].unique())
    return {m: sorted(int(x) for x in s) for m, s in seeds.items() if set(s) != every}


def fully_seeded(records: pd.DataFrame) -> pd.DataFrame:
    """The runs of the methods that ran on every seed (:func:`fewer_seeds` names the others), on
    the splits all of them share: the frame the main ranking compares."""
    return on_shared_splits(records[~records["method"].isin(fewer_seeds(records))])


@dataclasses.dataclass(frozen=True)
class RankTest:
    """Average ranks, the Friedman test over datasets and the Nemenyi critical difference."""

    average_ranks: pd.Series  # method -> average rank (1 = best), sorted
    n_datasets: int
    friedman_statistic: float
    friedman_pvalue: float
    critical_difference: float
    alpha: float
    unranked: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # dataset -> methods lacking there

    def summary(self) -> str:
        k = len(self.average_ranks)
        text = (
            f"Friedman test over {self.n_datasets} datasets and {k} methods: chi² = {self.friedman_statistic:.2f}, "
            f"p = {self.friedman_pvalue:.3g}. Nemenyi post-hoc critical difference at α = {self.alpha}: "
            f"{self.critical_difference:.2f} ranks (two methods whose average ranks differ by less are not "
            "significantly different)."
        )
        if self.unranked:
            text += (f" Not ranked: {len(self.unranked)} dataset(s) with no split that every method ran (lacking: "
                     + "; ".join(f"{d}: {', '.join(map(method_label, m))}" for d, m in self.unranked.items()) + ").")
        return text


def nemenyi_critical_difference(k: int, n_datasets: int, alpha: float = 0.05) -> float:
    """Demšar (2006): ``q_α / √2 · √(k(k+1) / (6N))``, ``q_α`` from the studentized range (df = ∞).

    >>> round(nemenyi_critical_difference(5, 33), 3)
    1.062
    """
    if k < 2 or n_datasets < 1:
        return float("nan")
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n_datasets)))


def rank_test(records: pd.DataFrame, value: str = "test_roc_auc", *, alpha: float = 0.05, higher_is_better: bool = True) -> RankTest:
    """Rank methods per dataset by mean ``value`` (SPEC) over the splits all of them ran
    (:func:`on_shared_splits`), then the Friedman test and Nemenyi CD.

    The Friedman statistic is NaN with fewer than 3 methods or 2 datasets (the test needs them).
    """
    unranked = missing_methods(records, value)
    scored = records[records[value].notna()]
    records = on_shared_splits(scored)
    ranks = rank_table(records, value, higher_is_better=higher_is_better)
    for dataset in sorted(set(scored["dataset"]) - set(ranks.index) - set(unranked)):  # no split shared by all
        runs = scored[scored["dataset"] == dataset].assign(split=lambda r: _split_ids(r))
        splits = runs.groupby("method")["split"].nunique()
        unranked[dataset] = sorted(splits.index[splits < runs["split"].nunique()])
    avg = ranks.mean(axis=0).sort_values().rename("average_rank")
    n, k = ranks.shape
    stat = pval = float("nan")
    if k >= 3 and n >= 2:
        means = records.groupby(["dataset", "method"])[value].mean().unstack("method").loc[ranks.index, ranks.columns]
        if means.nunique(axis=1).gt(1).any():
            res = stats.friedmanchisquare(*[means[c].to_numpy() for c in means.columns])
            stat, pval = float(res.statistic), float(res.pvalue)
    return RankTest(avg, n, stat, pval, nemenyi_critical_difference(k, n, alpha), alpha, unranked)


def cliques(average_ranks: pd.Series, cd: float) -> list[tuple[str, ...]]:
    """Maximal groups of methods (in rank order) whose average ranks lie within ``cd`` of each
    other: the bars of a critical-difference diagram. Single methods are not reported."""
    names, values = list(average_ranks.index), average_ranks.to_numpy()
    groups: list[tuple[int, int]] = []
    for i in range(len(values)):
        j = i
        while j + 1 < len(values) and values[j + 1] - values[i] < cd:
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in groups):
            groups.append((i, j))
    return [tuple(names[a:b + 1]) for a, b in groups]


def reliability_frame(records: pd.DataFrame, curves: pd.DataFrame, *, val: str = "val_roc_auc", test: str = "test_roc_auc") -> pd.DataFrame:
    """Per fine-tuning run: the SPEC's validation–test Spearman correlation over its curve, the gap
    (1 − correlation), and the early-stopping regret (best test score minus the test score at the
    validation-selected step), with the number of evaluation steps."""
    keep = records[records["method"] != "pretrained"].set_index("run_id")
    rows = []
    for run_id, curve in curves[curves["run_id"].isin(keep.index)].groupby("run_id", sort=False):
        curve = curve.sort_values("step")
        best = keep.at[run_id, "best_step"]
        hit = np.flatnonzero(curve["step"].to_numpy() == best)
        corr = validation_test_correlation(curve[val], curve[test])
        rows.append({
            "run_id": run_id,
            "dataset": keep.at[run_id, "dataset"],
            "method": keep.at[run_id, "method"],
            "n_train": keep.at[run_id, "n_train"],
            "seed": keep.at[run_id, "seed"],
            "n_points": len(curve),
            "correlation": corr,
            "gap": 1 - corr,
            "regret": early_stopping_regret(curve[test], int(hit[0])) if len(hit) else np.nan,
        })
    return pd.DataFrame(rows, columns=["run_id", "dataset", "method", "n_train", "seed", "n_points", "correlation", "gap", "regret"])


def domain_shift_frame(records: pd.DataFrame) -> pd.DataFrame:
    """Per domain-shift run: in-domain and out-of-domain accuracy and ROC-AUC, the drop
    (in-domain − out-of-domain), and the change of the drop against the pre-trained model on the
    same split (step 0): negative = the method shrinks the drop."""
    runs = records.copy()
    for metric in ("accuracy", "roc_auc"):
        runs[f"drop_{metric}"] = runs[f"test_{metric}"] - runs[f"test_ood_{metric}"]
        runs[f"drop_{metric}_step0"] = runs[f"test_{metric}_step0"] - runs[f"test_ood_{metric}_step0"]
        runs[f"drop_{metric}_change"] = runs[f"drop_{metric}"] - runs[f"drop_{metric}_step0"]
    return runs


# --- intervals and paired tests ------------------------------------------------------------


def mean_interval(values: pd.Series) -> tuple[float, float]:
    """Mean over runs and the half-width of its normal 95 % interval (1.96 standard errors); the
    half-width is NaN with fewer than two values, the mean NaN with none.

    >>> tuple(round(v, 3) for v in mean_interval(pd.Series([1.0, 3.0])))
    (2.0, 1.96)
    """
    values = values.dropna()
    mean = float(values.mean()) if len(values) else float("nan")
    half = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return mean, half


def cluster_bootstrap(clusters: Sequence[Any], statistic: Callable[[Sequence[Any]], float], *,
                      n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> Interval:
    """Percentile bootstrap interval of ``statistic`` resampling whole clusters with replacement.

    ``clusters`` are per-dataset payloads (arrays of that dataset's cells or runs, seeds already
    averaged inside); ``statistic`` maps a list of payloads to a number. Resampling datasets, not
    runs, is what makes the interval speak about datasets like these rather than these datasets.
    Replicates whose statistic is NaN are dropped; with fewer than two clusters the interval is
    NaN (nothing to resample).

    >>> iv = cluster_bootstrap([np.array([1.0]), np.array([2.0]), np.array([3.0])],
    ...                        lambda cs: float(np.median(np.concatenate(cs))), n_resamples=200)
    >>> iv.estimate, 1.0 <= iv.low <= iv.high <= 3.0
    (2.0, True)
    """
    clusters = list(clusters)
    estimate = float(statistic(clusters)) if clusters else float("nan")
    if len(clusters) < 2:
        return Interval(estimate, float("nan"), float("nan"), level, len(clusters))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(clusters), size=(n_resamples, len(clusters)))
    values = np.array([statistic([clusters[i] for i in row]) for row in draws], dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return Interval(estimate, float("nan"), float("nan"), level, len(clusters))
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return Interval(estimate, float(low), float(high), level, len(clusters))


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (:func:`statsmodels.stats.multitest.multipletests`); NaN stays NaN and
    is not counted in the family.

    >>> holm([0.01, 0.04, float("nan"), 0.03]).round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def paired_tests(records: pd.DataFrame, value: str = "test_roc_auc", *, reference: str = "causalmix",
                 alpha: float = 0.05) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank tests of ``reference`` against every other method over datasets
    (per dataset the mean over the seeds and sizes both ran: :func:`on_shared_splits`),
    Holm-corrected over the comparisons.

    Columns: datasets, the median per-dataset difference (reference − other), wins/ties/losses of
    the reference, the two-sided p-value, the Holm-adjusted p-value and ``significant`` at ``alpha``.
    """
    if reference not in set(records["method"]):
        return pd.DataFrame()
    rows = {}
    for method in sorted(set(records["method"]) - {reference}):
        both = on_shared_splits(records[records["method"].isin([reference, method])])
        pair = both.groupby(["dataset", "method"])[value].mean().unstack("method").reindex(
            columns=[reference, method]).dropna()
        diff = (pair[reference] - pair[method]).to_numpy()
        p = float("nan")
        if len(diff) >= 2 and np.any(diff != 0):
            p = float(stats.wilcoxon(diff, zero_method="zsplit").pvalue)
        rows[method] = {"datasets": len(diff), "median difference": float(np.median(diff)) if len(diff) else np.nan,
                        "wins": int((diff > 0).sum()), "ties": int((diff == 0).sum()), "losses": int((diff < 0).sum()),
                        "p": p}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["p (Holm)"] = holm(table["p"])
    table["significant"] = np.where(table["p (Holm)"] < alpha, "yes", "no")
    return table
