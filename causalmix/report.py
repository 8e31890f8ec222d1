"""What the report notebooks share: loading run records, the paper's tables, provenance captions,
and the critical-difference diagram.

The notebooks in ``notebooks/`` stay thin: each table and figure of the book is one call here, and
every one carries a provenance caption (configuration, model, datasets, number of runs, git commit).
Definitions are SPEC.md's and live in :mod:`causalmix.metrics`; this module only applies them.

>>> improvement_frame(records)                       # doctest: +SKIP
>>> median_improvement_table(records)                # doctest: +SKIP
>>> caption(records, config="quick")                 # doctest: +SKIP
'configuration quick · model causalmix-tiny · 2 datasets (diabetes, wdbc) · 8 runs · git 6126b01'
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from causalmix.metrics import (
    HIGHER_IS_BETTER,
    aggregate,
    early_stopping_regret,
    normalized_improvement,
    rank_table,
    validation_test_correlation,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "configs"

# --- the paper's numbers (shown beside ours, always labelled as the paper's) ---------------

PAPER_CITATION = (
    "M. Bühler, L. Purucker, F. Hutter: Causal Data Augmentation for Robust Fine-Tuning of Tabular "
    "Foundation Models. AI for Tabular Data workshop @ EurIPS 2025, arXiv 2601.04110"
)
PAPER_RESULTS: dict[str, Any] = {
    "citation": PAPER_CITATION,
    # method -> (median normalized ROC-AUC improvement over the pre-trained model, variability or None)
    "median_improvement": {
        "causalmix": (0.12, 0.63),
        "finetune": (0.10, 0.98),
        "ctgan": (-0.01, None),
        "tabebm": (-0.04, None),
        "tableaugment": (-0.09, None),
    },
    # best average rank first
    "rank_order": ("causalmix", "finetune"),
    # method -> median validation-test correlation gap (1 - Spearman correlation)
    "correlation_gap": {"finetune": 0.67, "causalmix": 0.30},
    "n_datasets": 33,
    "n_runs": "> 2,300",
}
PAPER_LABEL = "paper (Bühler et al., 2025)"

METHOD_LABELS: dict[str, str] = {
    "pretrained": "pre-trained (no fine-tuning)",
    "finetune": "default fine-tuning",
    "causalmix": "CausalMixFT",
    "smote": "SMOTE-augmented FT",
    "mixup": "Mixup-augmented FT",
    "tableaugment": "TableAugment-augmented FT",
    "gaussian_copula": "Gaussian-copula-augmented FT",
    "ctgan": "CTGAN-augmented FT",
    "tabebm": "TabEBM-augmented FT",
}
METHOD_ORDER = tuple(METHOD_LABELS)


def method_label(method: str) -> str:
    """The reader-facing name of a method (``"causalmix"`` -> ``"CausalMixFT"``)."""
    return METHOD_LABELS.get(method, method)


def _method_sort_key(method: str) -> tuple[int, str]:
    return (METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER), method)


# --- configurations and records ------------------------------------------------------------


def resolve_config(config: str | Path) -> Path:
    """A configuration name (``"quick"``) or path -> the YAML file's path.

    >>> resolve_config("quick").name
    'quick.yaml'
    """
    path = Path(config)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path.resolve()
    named = CONFIG_DIR / f"{config}.yaml"
    if named.is_file():
        return named
    known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
    raise FileNotFoundError(f"No configuration {str(config)!r}: not a YAML file and not one of {known} in {CONFIG_DIR}.")


def load_config(config: str | Path) -> dict[str, Any]:
    """The configuration as a dict, with ``out_dir`` resolved (default ``results/<name>``)."""
    import yaml

    path = resolve_config(config)
    cfg = yaml.safe_load(path.read_text()) or {}
    cfg.setdefault("name", path.stem)
    return cfg


def results_dir(config: str | Path, out_dir: str | Path | None = None) -> Path:
    """Where a configuration's run records live: ``out_dir``, else the config's, else ``results/<name>``.

    Relative paths are taken from the repository root, so notebooks find the same records
    whatever their working directory.
    """
    if out_dir is None:
        cfg = load_config(config)
        out_dir = cfg.get("out_dir") or f"results/{cfg['name']}"
    path = Path(out_dir)
    return path if path.is_absolute() else REPO_ROOT / path


def load_results(config: str | Path, out_dir: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(records, curves)`` of a finished sweep (see :mod:`causalmix.experiment`).

    Raises FileNotFoundError, naming the command to run, when the sweep has no records yet.
    """
    from causalmix.experiment import load_curves, load_records

    where = results_dir(config, out_dir)
    if not (where / "records").is_dir() or not any((where / "records").iterdir()):
        raise FileNotFoundError(
            f"No run records under {where}/records. Run the sweep first: notebook 02_benchmark, "
            f"`make notebooks CONFIG={config}` or `causalmix sweep {config}`."
        )
    return load_records(where), load_curves(where)


def ok_runs(records: pd.DataFrame, *, domain: bool | None = False) -> pd.DataFrame:
    """Successful runs; ``domain=False`` keeps the plain low-data runs, ``True`` the domain-shift
    runs, ``None`` both."""
    out = records[records["status"] == "ok"]
    if domain is not None and "domain" in out:
        has_domain = out["domain"].notna() & (out["domain"].astype(str) != "")
        out = out[has_domain if domain else ~has_domain]
    return out.copy()


# --- provenance ----------------------------------------------------------------------------


def current_commit(short: bool = True) -> str:
    """The repository's HEAD commit (``+dirty`` if tracked files changed), or ``"unknown"``."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short" if short else "--verify", "HEAD"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


@dataclasses.dataclass(frozen=True)
class Provenance:
    """What produced a table or figure."""

    config: str
    models: tuple[str, ...]
    datasets: tuple[str, ...]
    n_runs: int
    commits: tuple[str, ...]

    def caption(self, max_datasets: int = 6) -> str:
        names = ", ".join(self.datasets[:max_datasets]) + (", …" if len(self.datasets) > max_datasets else "")
        commits = ", ".join(self.commits) or "unknown"
        return (
            f"configuration {self.config} · model {', '.join(self.models) or 'unknown'} · "
            f"{len(self.datasets)} dataset{'s' if len(self.datasets) != 1 else ''} ({names}) · "
            f"{self.n_runs} run{'s' if self.n_runs != 1 else ''} · git {commits}"
        )


def provenance(records: pd.DataFrame, *, config: str) -> Provenance:
    """The provenance of a table built from ``records`` (the rows actually used)."""
    def unique(col: str) -> tuple[str, ...]:
        if col not in records:
            return ()
        return tuple(sorted({str(v) for v in records[col].dropna()}))

    commits = tuple(sorted({c.split("+")[0][:7] + ("+dirty" if "+dirty" in c else "") for c in unique("git_commit")}))
    return Provenance(
        config=str(config),
        models=unique("model"),
        datasets=unique("dataset"),
        n_runs=int(records["run_id"].nunique()) if "run_id" in records else len(records),
        commits=commits or (current_commit(),),
    )


def caption(records: pd.DataFrame, *, config: str) -> str:
    """One line: configuration, model, datasets, number of runs, git commit(s) of the runs."""
    return provenance(records, config=config).caption()


def styled(table: pd.DataFrame, title: str, records: pd.DataFrame, *, config: str, precision: int = 3):
    """A table for display, captioned with its title and provenance."""
    cap = f"{title}<br><small>{caption(records, config=config)}</small>"
    return table.style.format(precision=precision, na_rep="–").set_caption(cap)


def stamp(fig, records: pd.DataFrame, *, config: str):
    """Write the provenance caption into a matplotlib figure (bottom left) and return it."""
    fig.text(0.01, 0.005, caption(records, config=config), fontsize=7, color="0.35", ha="left", va="bottom")
    fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.14))
    return fig


# --- normalized improvement (SPEC) -------------------------------------------------------


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


def median_improvement_table(records: pd.DataFrame, metric: str = "test_roc_auc", *, with_paper: bool = True) -> pd.DataFrame:
    """Per method: median normalized improvement across datasets (per dataset the mean over seeds
    and sizes), the standard deviation across datasets (the paper's "variability"), the IQR, and
    the numbers of datasets and runs; the paper's median and variability beside them.
    """
    frame = improvement_frame(records, metric)
    table = aggregate(frame, "improvement")
    table["n_runs"] = frame.groupby("method")["improvement"].size()
    if with_paper:
        paper = PAPER_RESULTS["median_improvement"]
        for method in paper:
            if method not in table.index:
                table.loc[method] = np.nan
        table[f"{PAPER_LABEL}: median"] = [paper.get(m, (np.nan, None))[0] for m in table.index]
        table[f"{PAPER_LABEL}: variability"] = [
            (paper.get(m, (np.nan, None))[1] if paper.get(m, (np.nan, None))[1] is not None else np.nan) for m in table.index
        ]
    table = table.loc[sorted(table.index, key=lambda m: (math.isnan(table.at[m, "median"]), -np.nan_to_num(table.at[m, "median"], nan=0)))]
    table.index = pd.Index([method_label(m) for m in table.index], name="method")
    return table[["median", "std", "q25", "q75", "iqr", "n_datasets", "n_runs", *[c for c in table if c.startswith(PAPER_LABEL)]]]


def per_dataset_improvement(records: pd.DataFrame, metric: str = "test_roc_auc") -> pd.DataFrame:
    """Datasets × methods: the mean normalized improvement over seeds (and sizes) per dataset."""
    frame = improvement_frame(records, metric)
    table = frame.groupby(["dataset", "method"])["improvement"].mean().unstack("method")
    return table[sorted(table.columns, key=_method_sort_key)]


def plot_improvement_strip(records: pd.DataFrame, *, config: str, metric: str = "test_roc_auc"):
    """Box plot per method of the per-dataset normalized improvements, each dataset a dot."""
    import matplotlib.pyplot as plt

    table = per_dataset_improvement(records, metric)
    methods = list(table.columns)
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(methods), 4.2))
    data = [table[m].dropna().to_numpy() for m in methods]
    ax.boxplot(data, positions=range(len(methods)), widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only
    for i, values in enumerate(data):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=18, alpha=0.7, zorder=3)
    paper = PAPER_RESULTS["median_improvement"]
    for i, m in enumerate(methods):
        if m in paper:
            ax.scatter([i], [paper[m][0]], marker="D", color="black", s=30, zorder=4,
                       label=f"{PAPER_LABEL}: median" if i == min(j for j, mm in enumerate(methods) if mm in paper) else None)
    ax.axhline(0, color="0.5", lw=0.8, ls="--")
    ax.set_xticks(range(len(methods)), [method_label(m) for m in methods], rotation=25, ha="right")
    ax.set_ylabel(f"normalized {metric} improvement (%)\nover the pre-trained model")
    ax.set_title("Per-dataset normalized improvement (mean over seeds)")
    if any(m in paper for m in methods):
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return stamp(fig, improvement_frame(records, metric), config=config)


# --- ranks, Friedman test, Nemenyi critical difference ----------------------------------


def with_pretrained(records: pd.DataFrame, metric: str = "test_roc_auc") -> pd.DataFrame:
    """``records`` plus ``pretrained`` rows taken from step 0 of the fine-tuning runs, when the
    sweep ran no ``pretrained`` method (step 0 *is* the pre-trained model on the same split)."""
    if (records["method"] == "pretrained").any():
        return records
    keys = [k for k in ("dataset", "n_train", "seed", "domain") if k in records]
    first = records.sort_values("method").drop_duplicates(keys).copy()
    first["method"] = "pretrained"
    for col in [c for c in records if c.endswith("_step0")]:
        first[col.removesuffix("_step0")] = first[col]
    return pd.concat([records, first], ignore_index=True)


@dataclasses.dataclass(frozen=True)
class RankTest:
    """Average ranks, the Friedman test over datasets and the Nemenyi critical difference."""

    average_ranks: pd.Series  # method -> average rank (1 = best), sorted
    n_datasets: int
    friedman_statistic: float
    friedman_pvalue: float
    critical_difference: float
    alpha: float

    def summary(self) -> str:
        k = len(self.average_ranks)
        return (
            f"Friedman test over {self.n_datasets} datasets and {k} methods: chi² = {self.friedman_statistic:.2f}, "
            f"p = {self.friedman_pvalue:.3g}. Nemenyi post-hoc critical difference at α = {self.alpha}: "
            f"{self.critical_difference:.2f} ranks (two methods whose average ranks differ by less are not "
            "significantly different)."
        )


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
    """Rank methods per dataset by mean ``value`` (SPEC), then the Friedman test and Nemenyi CD.

    The Friedman statistic is NaN with fewer than 3 methods or 2 datasets (the test needs them).
    """
    ranks = rank_table(records, value, higher_is_better=higher_is_better)
    avg = ranks.mean(axis=0).sort_values().rename("average_rank")
    n, k = ranks.shape
    stat = pval = float("nan")
    if k >= 3 and n >= 2:
        means = records.groupby(["dataset", "method"])[value].mean().unstack("method").loc[ranks.index, ranks.columns]
        if means.nunique(axis=1).gt(1).any():
            res = stats.friedmanchisquare(*[means[c].to_numpy() for c in means.columns])
            stat, pval = float(res.statistic), float(res.pvalue)
    return RankTest(avg, n, stat, pval, nemenyi_critical_difference(k, n, alpha), alpha)


def rank_summary_table(test: RankTest) -> pd.DataFrame:
    """Average ranks with the paper's order beside them."""
    paper = {m: i + 1 for i, m in enumerate(PAPER_RESULTS["rank_order"])}
    return pd.DataFrame({
        "average rank": test.average_ranks,
        "our position": range(1, len(test.average_ranks) + 1),
        f"{PAPER_LABEL}: position": [paper.get(m, np.nan) for m in test.average_ranks.index],
    }).rename(index=method_label).rename_axis("method")


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


def plot_cd_diagram(test: RankTest, *, records: pd.DataFrame | None = None, config: str | None = None):
    """Critical-difference diagram (Demšar 2006): average ranks on an axis, methods joined by a bar
    when the Nemenyi test finds no significant difference."""
    import matplotlib.pyplot as plt

    avg = test.average_ranks
    k = len(avg)
    lo, hi = 1, max(k, 2)
    half = math.ceil(k / 2)
    fig_h = 1.6 + 0.32 * half + 0.22 * max(len(cliques(avg, test.critical_difference)), 1)
    fig, ax = plt.subplots(figsize=(8, fig_h))
    ax.set_xlim(lo - 0.9, hi + 0.9)
    ax.set_ylim(-(half + 2.2), 1.6)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="black", lw=1)
    for r in range(lo, hi + 1):
        ax.vlines(r, 0, 0.15, color="black", lw=1)
        ax.text(r, 0.25, str(r), ha="center", va="bottom", fontsize=9)
    if not math.isnan(test.critical_difference):
        ax.hlines(1.15, lo, lo + test.critical_difference, color="black", lw=2)
        ax.text(lo + test.critical_difference / 2, 1.25, f"CD = {test.critical_difference:.2f}", ha="center", va="bottom", fontsize=9)
    for i, (method, rank) in enumerate(avg.items()):
        left = i < half
        row = -(i if left else k - 1 - i) - 1
        x_text = lo - 0.3 if left else hi + 0.3
        ax.plot([rank, rank, x_text], [0, row * 0.5 - 0.3, row * 0.5 - 0.3], color="black", lw=0.8)
        ax.text(x_text + (-0.05 if left else 0.05), row * 0.5 - 0.3, f"{method_label(method)} ({rank:.2f})",
                ha="right" if left else "left", va="center", fontsize=9)
    for j, group in enumerate(cliques(avg, test.critical_difference)):
        y = -0.12 - 0.14 * j
        ax.hlines(y, avg[group[0]] - 0.03, avg[group[-1]] + 0.03, color="tab:red", lw=3)
    ax.set_title("Average rank across datasets (1 = best); bars join methods not significantly different", fontsize=9)
    if records is not None and config is not None:
        stamp(fig, records, config=config)
    return fig


# --- validation reliability --------------------------------------------------------------


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


def reliability_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per method: median correlation and gap over runs (SPEC), median and mean regret, the runs
    with a defined correlation, and the paper's median gap beside ours."""
    grouped = frame.groupby("method")
    table = pd.DataFrame({
        "median correlation": grouped["correlation"].median(),
        "median gap": grouped["gap"].median(),
        "median regret": grouped["regret"].median(),
        "mean regret": grouped["regret"].mean(),
        "runs with a correlation": grouped["correlation"].count(),
        "runs": grouped.size(),
    })
    table[f"{PAPER_LABEL}: median gap"] = [PAPER_RESULTS["correlation_gap"].get(m, np.nan) for m in table.index]
    table = table.loc[sorted(table.index, key=_method_sort_key)]
    return table.rename(index=method_label).rename_axis("method")


def plot_correlations(frame: pd.DataFrame, *, records: pd.DataFrame, config: str):
    """Distribution per method of the runs' validation–test correlations."""
    import matplotlib.pyplot as plt

    methods = sorted(frame["method"].unique(), key=_method_sort_key)
    data = [frame.loc[frame["method"] == m, "correlation"].dropna().to_numpy() for m in methods]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(methods), 4))
    ax.boxplot(data, positions=range(len(methods)), widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only
    for i, values in enumerate(data):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=14, alpha=0.6, zorder=3)
    for i, m in enumerate(methods):
        if m in PAPER_RESULTS["correlation_gap"]:
            ax.scatter([i], [1 - PAPER_RESULTS["correlation_gap"][m]], marker="D", color="black", s=30, zorder=4)
    ax.axhline(0, color="0.5", lw=0.8, ls="--")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xticks(range(len(methods)), [method_label(m) for m in methods], rotation=25, ha="right")
    ax.set_ylabel("Spearman(validation, test) ROC-AUC\nover a run's fine-tuning curve")
    ax.set_title(f"Validation–test correlation per run (◆ = {PAPER_LABEL}: 1 − median gap)", fontsize=10)
    fig.tight_layout()
    return stamp(fig, records, config=config)


def plot_example_curves(records: pd.DataFrame, curves: pd.DataFrame, *, config: str, methods: Sequence[str] = ("finetune", "causalmix"), max_panels: int = 4):
    """Validation and test ROC-AUC against the fine-tuning step for a few splits, the selected
    (best-validation) step marked."""
    import matplotlib.pyplot as plt

    runs = records[records["method"].isin(methods) & records["run_id"].isin(curves["run_id"])]
    splits = runs.groupby(["dataset", "n_train", "seed"]).size().index[:max_panels]
    if len(splits) == 0:
        raise ValueError(f"No curves for methods {list(methods)}.")
    fig, axes = plt.subplots(1, len(splits), figsize=(4 * len(splits), 3.4), squeeze=False)
    for ax, (dataset, n_train, seed) in zip(axes[0], splits):
        sel = runs[(runs["dataset"] == dataset) & (runs["n_train"] == n_train) & (runs["seed"] == seed)]
        for color, (_, run) in zip(("tab:blue", "tab:orange", "tab:green", "tab:red"), sel.sort_values("method").iterrows()):
            curve = curves[curves["run_id"] == run["run_id"]].sort_values("step")
            label = method_label(run["method"])
            ax.plot(curve["step"], curve["val_roc_auc"], color=color, ls="--", lw=1, label=f"{label}: validation")
            ax.plot(curve["step"], curve["test_roc_auc"], color=color, lw=1.5, label=f"{label}: test")
            ax.axvline(run["best_step"], color=color, lw=0.8, alpha=0.6)
        ax.set_title(f"{dataset}, n_train={n_train}, seed {seed}", fontsize=9)
        ax.set_xlabel("fine-tuning step")
    axes[0][0].set_ylabel("ROC-AUC")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return stamp(fig, runs, config=config)


# --- Adult: low resource and domain shift ---------------------------------------------


def low_resource_table(records: pd.DataFrame, *, dataset: str = "adult", metrics: Sequence[str] = ("test_accuracy", "test_roc_auc")) -> pd.DataFrame:
    """Per method and ``n_train``: mean and standard deviation over seeds of the test metrics,
    with the number of seeds (plain low-data runs of ``dataset``)."""
    runs = with_pretrained(records[records["dataset"] == dataset])
    if runs.empty:
        raise ValueError(f"No runs on {dataset!r} in these records.")
    agg = runs.groupby(["method", "n_train"])[list(metrics)].agg(["mean", "std"])
    agg.columns = [f"{m} {s}" for m, s in agg.columns]
    agg["seeds"] = runs.groupby(["method", "n_train"])["seed"].nunique()
    agg = agg.reindex(sorted(agg.index, key=lambda t: (_method_sort_key(t[0]), t[1])))
    agg.index = agg.index.set_levels([method_label(m) for m in agg.index.levels[0]], level=0)
    return agg


def plot_low_resource(records: pd.DataFrame, *, config: str, dataset: str = "adult", metrics: Sequence[str] = ("test_accuracy", "test_roc_auc")):
    """Test metrics against ``n_train`` per method (mean over seeds, ± standard deviation band)."""
    import matplotlib.pyplot as plt

    runs = with_pretrained(records[records["dataset"] == dataset])
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for method in sorted(runs["method"].unique(), key=_method_sort_key):
            g = runs[runs["method"] == method].groupby("n_train")[metric]
            mean, std = g.mean(), g.std().fillna(0)
            ax.plot(mean.index, mean.to_numpy(), marker="o", label=method_label(method))
            ax.fill_between(mean.index, mean - std, mean + std, alpha=0.12)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training rows (n_train)")
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(f"{dataset}: {metric.removeprefix('test_')} vs training size", fontsize=10)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return stamp(fig, runs, config=config)


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


def domain_shift_table(records: pd.DataFrame) -> pd.DataFrame:
    """Per domain and method (mean over seeds and sizes): out-of-domain accuracy and ROC-AUC,
    the in-domain − out-of-domain drop, and its change against the pre-trained model."""
    runs = domain_shift_frame(with_pretrained(records))
    cols = {
        "test_accuracy": "in-domain accuracy",
        "test_ood_accuracy": "out-of-domain accuracy",
        "drop_accuracy": "accuracy drop",
        "drop_accuracy_change": "accuracy drop change vs pre-trained",
        "test_roc_auc": "in-domain ROC-AUC",
        "test_ood_roc_auc": "out-of-domain ROC-AUC",
        "drop_roc_auc": "ROC-AUC drop",
        "drop_roc_auc_change": "ROC-AUC drop change vs pre-trained",
    }
    table = runs.groupby(["domain", "method"])[list(cols)].mean().rename(columns=cols)
    table["runs"] = runs.groupby(["domain", "method"]).size()
    table = table.reindex(sorted(table.index, key=lambda t: (t[0], _method_sort_key(t[1]))))
    return table.rename(index=method_label, level=1)


def plot_domain_shift(records: pd.DataFrame, *, config: str):
    """Out-of-domain accuracy and ROC-AUC per method (bars: mean over runs; dots: runs)."""
    import matplotlib.pyplot as plt

    runs = domain_shift_frame(with_pretrained(records))
    methods = sorted(runs["method"].unique(), key=_method_sort_key)
    metrics = ("test_ood_accuracy", "test_ood_roc_auc", "drop_roc_auc")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        means = [runs.loc[runs["method"] == m, metric].mean() for m in methods]
        ax.bar(range(len(methods)), means, color="0.8")
        for i, m in enumerate(methods):
            vals = runs.loc[runs["method"] == m, metric].to_numpy()
            ax.scatter(np.full(len(vals), i), vals, s=12, zorder=3)
        ax.set_xticks(range(len(methods)), [method_label(m) for m in methods], rotation=30, ha="right", fontsize=8)
        ax.set_title(metric.replace("test_ood_", "out-of-domain ").replace("drop_roc_auc", "ROC-AUC drop (in − out)").replace("_", " "), fontsize=10)
        lo = np.nanmin(runs[metric])
        if metric != "drop_roc_auc" and np.isfinite(lo):
            ax.set_ylim(max(0, lo - 0.05), None)
    fig.tight_layout()
    return stamp(fig, runs, config=config)


# --- the sweep itself ------------------------------------------------------------------


def sweep_overview(records: pd.DataFrame) -> pd.DataFrame:
    """Runs per method: ok and failed counts, datasets, median wall time and best step."""
    g = records.groupby("method")
    table = pd.DataFrame({
        "runs": g.size(),
        "ok": g["status"].apply(lambda s: int((s == "ok").sum())),
        "failed": g["status"].apply(lambda s: int((s != "ok").sum())),
        "datasets": g["dataset"].nunique(),
        "median wall time (s)": g["wall_time_s"].median(),
        "median best step": g["best_step"].median(),
    })
    table = table.loc[sorted(table.index, key=_method_sort_key)]
    return table.rename(index=method_label).rename_axis("method")
