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
import json
import math
from collections.abc import Mapping, Sequence
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
    missing_methods,
    rank_table,
    validation_test_correlation,
)
from causalmix.provenance import git_commit

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
    """The sweep configuration as :class:`causalmix.experiment.SweepConfig` validates and completes
    it (``out_dir`` defaults to ``results/<name>``), as a dict."""
    from causalmix.experiment import load_config as load_sweep_config

    return load_sweep_config(resolve_config(config)).to_dict()


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


def in_sweep(records: pd.DataFrame, config: str | Path | Mapping[str, Any]) -> pd.DataFrame:
    """The records of the configuration's own grid (datasets × n_train × seeds × methods and its
    domain-shift blocks) made by the current code, data and weights (run ids cover them), leaving
    out extra runs that share the folder, such as the low-resource extension of notebook 02."""
    from causalmix.experiment import expand_config

    ids = {spec.run_id for spec in expand_config(config if isinstance(config, Mapping) else resolve_config(config))}
    return records[records["run_id"].isin(ids)]


def low_resource_config(config: str | Path, *, dataset: str, n_train: Sequence[int], seeds: Sequence[int],
                        methods: Sequence[str]) -> dict[str, Any]:
    """The configuration restricted to one dataset at extra training sizes (no domain shift): the
    low-resource study of notebook 06. Same model, fine-tuning and generator settings, same
    ``out_dir``, so runs it shares with the main grid are recorded once."""
    cfg = load_config(config)
    return {**cfg, "datasets": [dataset], "n_train": [int(n) for n in n_train], "seeds": [int(s) for s in seeds],
            "methods": list(methods), "domain_shift": []}


def ok_runs(records: pd.DataFrame, *, domain: bool | None = False) -> pd.DataFrame:
    """Successful runs; ``domain=False`` keeps the plain low-data runs, ``True`` the domain-shift
    runs, ``None`` both."""
    out = records[records["status"] == "ok"]
    if domain is not None and "domain" in out:
        has_domain = out["domain"].notna() & (out["domain"].astype(str) != "")
        out = out[has_domain if domain else ~has_domain]
    return out.copy()


# --- provenance ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Provenance:
    """What produced a table or figure."""

    config: str
    models: tuple[str, ...]
    datasets: tuple[str, ...]
    n_runs: int
    commits: tuple[str, ...]
    code_hashes: dict[str, int] = dataclasses.field(default_factory=dict)  # result-code hash -> records

    def caption(self, max_datasets: int = 6) -> str:
        names = ", ".join(self.datasets[:max_datasets]) + (", …" if len(self.datasets) > max_datasets else "")
        commits = ", ".join(self.commits) or "unknown"
        code = ", ".join(f"{h}" + (f" ({n} runs)" if len(self.code_hashes) > 1 else "")
                         for h, n in self.code_hashes.items()) or "unknown"
        mixed = " · WARNING: records of several code versions" if len(self.code_hashes) > 1 else ""
        return (
            f"configuration {self.config} · model {', '.join(self.models) or 'unknown'} · "
            f"{len(self.datasets)} dataset{'s' if len(self.datasets) != 1 else ''} ({names}) · "
            f"{self.n_runs} run{'s' if self.n_runs != 1 else ''} · git {commits} · result code {code}{mixed}"
        )


def provenance(records: pd.DataFrame, *, config: str) -> Provenance:
    """The provenance of a table built from ``records`` (the rows actually used)."""
    def unique(col: str) -> tuple[str, ...]:
        if col not in records:
            return ()
        return tuple(sorted({str(v) for v in records[col].dropna()}))

    commits = tuple(sorted({c[:7] + ("-dirty" if c.endswith("dirty") else "") for c in unique("git_commit")}))
    return Provenance(
        config=str(config),
        models=unique("model"),
        datasets=unique("dataset"),
        n_runs=int(records["run_id"].nunique()) if "run_id" in records else len(records),
        commits=commits or (git_commit(short=True),),
        code_hashes=(records["code_hash"].fillna("unknown").value_counts().to_dict() if "code_hash" in records else {}),
    )


def caption(records: pd.DataFrame, *, config: str) -> str:
    """One line: configuration, model, datasets, number of runs, git commit(s) of the runs."""
    return provenance(records, config=config).caption()


def _caption_of(what: pd.DataFrame | Provenance | str, config: str | None) -> str:
    if isinstance(what, str):
        return what
    if isinstance(what, Provenance):
        return what.caption()
    if config is None:
        raise TypeError("config= is needed to caption a records frame.")
    return caption(what, config=config)


def styled(table: pd.DataFrame, title: str, what: pd.DataFrame | Provenance | str, *, config: str | None = None, precision: int = 3):
    """A table for display, captioned with its title and the provenance of ``what`` (the records
    it was built from, a :class:`Provenance`, or a ready caption)."""
    cap = f"<b>{title}</b><br><small>{_caption_of(what, config)}</small>"
    counts = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
              and table[c].dropna().apply(lambda v: float(v).is_integer()).all() and str(c).split()[-1] in _COUNT_WORDS]
    return (table.style.format(precision=precision, na_rep="–")
            .format("{:.0f}", subset=counts, na_rep="–")
            .set_caption(cap)
            .set_table_styles([{"selector": "th, td", "props": "padding: 2px 8px;"},
                               {"selector": "caption", "props": "caption-side: top; text-align: left;"}]))


# Columns that hold counts: shown without decimals.
_COUNT_WORDS = {"n_datasets", "n_runs", "runs", "ok", "failed", "datasets", "seeds", "correlation", "n_real",
                "n_synthetic", "edges", "n_points", "position"}


def stamp(fig, what: pd.DataFrame | Provenance | str, *, config: str | None = None):
    """Write the provenance caption of ``what`` into a matplotlib figure (bottom left); return it."""
    # Grow the figure by a strip at the bottom and keep the axes where they were, so the caption
    # never overlaps tick labels whatever the layout.
    height, extra = fig.get_figheight(), 0.3
    fig.set_figheight(height + extra)
    for ax in fig.axes:
        box = ax.get_position()
        ax.set_position([box.x0, (box.y0 * height + extra) / (height + extra), box.width, box.height * height / (height + extra)])
    for text in fig.texts:
        x, y = text.get_position()
        text.set_position((x, (y * height + extra) / (height + extra)))
    fig.text(0.01, 0.08 * extra / (height + extra), _caption_of(what, config), fontsize=7, color="0.35", ha="left", va="bottom")
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
    """Per method (SPEC aggregation, :func:`causalmix.metrics.aggregate`): the mean normalized
    improvement over seeds per (dataset, n_train), then the median across datasets — pooled over
    every (dataset, n_train) cell and, with several sizes, per n_train (``median_n<N>``) — the
    standard deviation across the cells (the paper's "variability"), the IQR, and the numbers
    of datasets and runs; the paper's median and variability beside them.
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
    per_size = [c for c in table if c.startswith("median_n")]
    return table[["median", *per_size, "std", "q25", "q75", "iqr", "n_datasets", "n_runs",
                  *[c for c in table if c.startswith(PAPER_LABEL)]]]


def per_dataset_improvement(records: pd.DataFrame, metric: str = "test_roc_auc", *, labels: bool = True) -> pd.DataFrame:
    """Datasets × methods: the mean normalized improvement over seeds (and sizes) per dataset."""
    frame = improvement_frame(records, metric)
    table = frame.groupby(["dataset", "method"])["improvement"].mean().unstack("method")
    table = table[sorted(table.columns, key=_method_sort_key)]
    return table.rename(columns=method_label) if labels else table


def plot_improvement_strip(records: pd.DataFrame, *, config: str, metric: str = "test_roc_auc"):
    """Box plot per method of the per-dataset normalized improvements, each dataset a dot."""
    import matplotlib.pyplot as plt

    table = per_dataset_improvement(records, metric, labels=False)
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
    unranked: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # dataset -> methods it lacks

    def summary(self) -> str:
        k = len(self.average_ranks)
        text = (
            f"Friedman test over {self.n_datasets} datasets and {k} methods: chi² = {self.friedman_statistic:.2f}, "
            f"p = {self.friedman_pvalue:.3g}. Nemenyi post-hoc critical difference at α = {self.alpha}: "
            f"{self.critical_difference:.2f} ranks (two methods whose average ranks differ by less are not "
            "significantly different)."
        )
        if self.unranked:
            text += (f" Not ranked: {len(self.unranked)} dataset(s) lacking a method ("
                     + "; ".join(f"{d}: no {', '.join(map(method_label, m))}" for d, m in self.unranked.items()) + ").")
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
    return RankTest(avg, n, stat, pval, nemenyi_critical_difference(k, n, alpha), alpha,
                    missing_methods(records, value))


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
    bars = len(cliques(avg, test.critical_difference))
    fig, ax = plt.subplots(figsize=(8, 1.3 + 0.3 * half + 0.1 * bars))
    ax.set_xlim(lo - 0.9, hi + 0.9)
    ax.set_ylim(-(0.5 * half + 0.5), 1.6)
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
    with a defined correlation and the flat curves (validation or test constant over the curve,
    so no correlation: counted here, left out of the medians), and the paper's median gap."""
    grouped = frame.groupby("method")
    table = pd.DataFrame({
        "median correlation": grouped["correlation"].median(),
        "median gap": grouped["gap"].median(),
        "median regret": grouped["regret"].median(),
        "mean regret": grouped["regret"].mean(),
        "runs with a correlation": grouped["correlation"].count(),
        "flat curves (no correlation)": grouped["correlation"].apply(lambda c: int(c.isna().sum())),
        "runs": grouped.size(),
    })
    table[f"{PAPER_LABEL}: median gap"] = [PAPER_RESULTS["correlation_gap"].get(m, np.nan) for m in table.index]
    table = table.loc[sorted(table.index, key=_method_sort_key)]
    return table.rename(index=method_label).rename_axis("method")


def _box_per_method(frame: pd.DataFrame, column: str, *, height: float):
    """A box per method of the runs' ``column``, each run a jittered dot; returns (fig, ax, methods)."""
    import matplotlib.pyplot as plt

    methods = sorted(frame["method"].unique(), key=_method_sort_key)
    data = [frame.loc[frame["method"] == m, column].dropna().to_numpy() for m in methods]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(methods), height))
    ax.boxplot(data, positions=range(len(methods)), widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only
    for i, values in enumerate(data):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=14, alpha=0.6, zorder=3)
    return fig, ax, methods


def plot_correlations(frame: pd.DataFrame, *, records: pd.DataFrame, config: str):
    """Distribution per method of the runs' validation–test correlations."""
    fig, ax, methods = _box_per_method(frame, "correlation", height=4)
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
    """Per domain and method (mean over seeds and sizes): in-domain ("in") and out-of-domain
    ("out") accuracy and ROC-AUC, the drop (in − out), and its change Δ against the pre-trained
    model on the same split (negative: the method shrinks the drop)."""
    runs = domain_shift_frame(with_pretrained(records))
    cols = {
        "test_accuracy": "accuracy in",
        "test_ood_accuracy": "accuracy out",
        "drop_accuracy": "accuracy drop",
        "drop_accuracy_change": "accuracy drop Δ",
        "test_roc_auc": "ROC-AUC in",
        "test_ood_roc_auc": "ROC-AUC out",
        "drop_roc_auc": "ROC-AUC drop",
        "drop_roc_auc_change": "ROC-AUC drop Δ",
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


def plot_regret(frame: pd.DataFrame, *, records: pd.DataFrame, config: str):
    """Distribution per method of the runs' early-stopping regret (test ROC-AUC points)."""
    fig, ax, methods = _box_per_method(frame, "regret", height=3.6)
    ax.set_xticks(range(len(methods)), [method_label(m) for m in methods], rotation=25, ha="right")
    ax.set_ylabel("best test ROC-AUC − test ROC-AUC\nat the validation-selected step")
    ax.set_title("Early-stopping regret per run", fontsize=10)
    fig.tight_layout()
    return stamp(fig, records, config=config)


def sweep_summary_text(summary: Any) -> str:
    """A finished sweep's summary (``SweepSummary``: counts, wall time, failure reasons) as markdown."""
    return f"\n\n```text\n{summary}\n```\n"


def environment_table(records: pd.DataFrame) -> pd.DataFrame:
    """The distinct devices, hardware, models, commits and package versions the runs recorded."""
    rows: dict[str, str] = {}
    for col in ("device", "hardware", "model", "git_commit", "config_hash"):
        if col in records:
            rows[col] = ", ".join(sorted({str(v) for v in records[col].dropna()}))
    if "versions" in records:
        versions: dict[str, set[str]] = {}
        for entry in records["versions"].dropna():
            entry = json.loads(entry) if isinstance(entry, str) else entry
            for name, version in (entry.items() if isinstance(entry, dict) else []):
                versions.setdefault(str(name), set()).add(str(version))
        for name in sorted(versions):
            rows[f"version: {name}"] = ", ".join(sorted(versions[name]))
    if "wall_time_s" in records:
        rows["total wall time of the runs (min)"] = f"{records['wall_time_s'].sum() / 60:.1f}"
    return pd.DataFrame({"value": rows}).rename_axis("recorded")


def domain_shift_description(cfg: dict[str, Any]) -> str:
    """Markdown list of the configuration's domain-shift experiments (subgroup, sizes, methods)."""
    entries = cfg.get("domain_shift") or []
    if not entries:
        return "This configuration defines no domain-shift experiment (`domain_shift` is empty)."
    lines = []
    for e in entries:
        if e.get("values") is not None:
            where = f"`{e['column']}` in {list(e['values'])}"
        else:
            low, high = e["between"]
            where = f"{low} ≤ `{e['column']}` < {high}"
        lines.append(
            f"- **{e['dataset']}**: train and validate on rows with {where} (in-domain); test in-domain on held-out "
            f"rows of that subgroup and out-of-domain on all other rows. n_train {e.get('n_train')}, seeds "
            f"{e.get('seeds')}, methods {', '.join(method_label(m) for m in e.get('methods', []))}."
            + (f" Why this subgroup: {e['why']}" if e.get("why") else "")
        )
    return "\n".join(lines)


def domain_shift_verdict(records: pd.DataFrame, *, config: str) -> str:
    """Per domain and metric: the best out-of-domain method and the method that shrinks the drop most."""
    if records.empty:
        return "No domain-shift runs in these records."
    runs = domain_shift_frame(with_pretrained(records))
    lines = []
    for domain, part in runs.groupby("domain"):
        means = part.groupby("method")[[
            "test_ood_accuracy", "test_ood_roc_auc", "drop_accuracy_change", "drop_roc_auc_change"]].mean()
        for metric, name in (("accuracy", "accuracy"), ("roc_auc", "ROC-AUC")):
            best = means[f"test_ood_{metric}"].idxmax()
            tuned = means.drop(index="pretrained", errors="ignore")[f"drop_{metric}_change"]
            shrink = tuned.idxmin() if len(tuned) else None
            text = (f"- *{domain}*, {name}: highest out-of-domain {name} **{method_label(best)}** "
                    f"({means.at[best, f'test_ood_{metric}']:.3f} vs pre-trained {means.at['pretrained', f'test_ood_{metric}']:.3f})")
            if shrink is not None and tuned[shrink] < 0:
                text += (f"; the in-domain − out-of-domain drop shrinks most with **{method_label(shrink)}** "
                         f"({tuned[shrink]:+.3f} against the pre-trained model's drop)")
            elif shrink is not None:
                text += (f"; no method shrinks the in-domain − out-of-domain drop, it grows least with "
                         f"**{method_label(shrink)}** ({tuned[shrink]:+.3f} against the pre-trained model's drop)")
            lines.append(text + ".")
    lines.append(f"\n({caption(runs, config=config)}; means over runs — with few seeds, differences "
                 "of a few thousandths are within noise.)")
    return "\n".join(lines)


# --- the SCM anatomy notebook (01) --------------------------------------------------------


def held_out(split, n: int, *, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Up to ``n`` random test rows of a split: the real rows synthetic ones are compared with."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.permutation(len(split.X_test))[:n])
    return split.X_test.iloc[rows].reset_index(drop=True), split.y_test.iloc[rows].reset_index(drop=True)


def fit_causalmix(split, params: dict[str, Any] | None = None):
    """A :class:`causalmix.scm.CausalMixGenerator` fitted on a split's training rows."""
    from causalmix.generators import make_generator

    return make_generator("causalmix", **(params or {})).fit(split.X_train, split.y_train)


def plot_edge_probabilities(gen):
    """Heatmap of the fitted generator's edge probabilities (row = source, column = target)."""
    import matplotlib.pyplot as plt

    P = gen.edge_probabilities_
    k = len(P)
    fig, ax = plt.subplots(figsize=(2.5 + 0.35 * k, 1.8 + 0.32 * k))
    im = ax.imshow(P.to_numpy(), vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(k), P.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), P.index, fontsize=8)
    ax.set_xlabel("target (effect)")
    ax.set_ylabel("source (cause)")
    if k <= 14:
        for i in range(k):
            for j in range(k):
                if P.iat[i, j] > 0:
                    ax.text(j, i, f"{P.iat[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="white" if P.iat[i, j] < 0.6 else "black")
    fig.colorbar(im, ax=ax, label="edge probability P[source → target]", shrink=0.8)
    ax.set_title(f"Edge probabilities from {sum(gen.n_discovery_runs_.values())} discovery runs "
                 f"({', '.join(f'{a.upper()} × {n}' for a, n in gen.n_discovery_runs_.items())})", fontsize=9)
    fig.tight_layout()
    return fig


def plot_dags(gen, n: int = 3):
    """The first ``n`` sampled DAGs, on a shared circular layout; label node in red, edge width
    proportional to the edge probability."""
    import matplotlib.pyplot as plt
    import networkx as nx

    dags = gen.dags_[:n]
    nodes = list(gen.edge_probabilities_.index)
    pos = nx.circular_layout(nodes)
    P = gen.edge_probabilities_
    fig, axes = plt.subplots(1, len(dags), figsize=(4.6 * len(dags), 4.6), squeeze=False)
    for i, (ax, dag) in enumerate(zip(axes[0], dags)):
        colors = ["tab:red" if v == gen.label_node_ else "tab:blue" for v in dag.nodes]
        widths = [0.5 + 2.5 * float(P.at[u, v]) for u, v in dag.edges]
        nx.draw_networkx_nodes(dag, pos, ax=ax, node_color=colors, node_size=260, alpha=0.85)
        nx.draw_networkx_edges(dag, pos, ax=ax, width=widths, arrowsize=12, alpha=0.7, node_size=260)
        nx.draw_networkx_labels(dag, pos, ax=ax, font_size=7)
        ax.set_title(f"DAG {i + 1}: {dag.number_of_edges()} edges", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def dag_summary(gen) -> pd.DataFrame:
    """One row per sampled DAG: edges, the label's parents and children, whether it is acyclic."""
    import networkx as nx

    rows = []
    for i, dag in enumerate(gen.dags_, 1):
        label = gen.label_node_
        rows.append({
            "DAG": i,
            "edges": dag.number_of_edges(),
            "acyclic": nx.is_directed_acyclic_graph(dag),
            "label parents": ", ".join(map(str, dag.predecessors(label))) or "–",
            "label children": ", ".join(map(str, dag.successors(label))) or "–",
        })
    return pd.DataFrame(rows).set_index("DAG")


def _encoded(X: pd.DataFrame, y: pd.Series, classes: Sequence) -> pd.DataFrame:
    """Numbers for correlations: numeric as is, categorical as level codes, the label as its class index."""
    out = {}
    for c in X.columns:
        s = X[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s.cat.codes.where(s.notna()).astype(float)
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out[c] = s.astype(float)
        else:
            out[c] = s.astype("category").cat.codes.astype(float)
    index = {c: i for i, c in enumerate(classes)}
    out[y.name or "label"] = y.map(index).astype(float)
    return pd.DataFrame(out)


def plot_marginals(real: tuple[pd.DataFrame, pd.Series], synthetic: tuple[pd.DataFrame, pd.Series], *, label: str = "label", max_columns: int = 8):
    """Real vs synthetic marginals: histograms (numeric) or level shares (categorical), label last."""
    import matplotlib.pyplot as plt

    Xr, yr = real
    Xs, ys = synthetic
    cols = list(Xr.columns[:max_columns])
    n_panels = len(cols) + 1
    ncols = min(3, n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.8 * nrows), squeeze=False)
    panels = [(c, Xr[c], Xs[c]) for c in cols] + [(f"{label} (label)", yr.astype(str), ys.astype(str))]
    for ax, (name, r, s) in zip(axes.flat, panels):
        if pd.api.types.is_numeric_dtype(r.dtype) and not isinstance(r.dtype, pd.CategoricalDtype):
            both = pd.concat([r, s]).dropna().astype(float)
            bins = np.histogram_bin_edges(both, bins=20) if both.nunique() > 1 else 5
            ax.hist(r.dropna().astype(float), bins=bins, alpha=0.55, density=True, label="real (held out)")
            ax.hist(s.dropna().astype(float), bins=bins, alpha=0.55, density=True, label="CausalMix")
        else:
            shares = pd.DataFrame({"real (held out)": r.astype(str).value_counts(normalize=True),
                                   "CausalMix": s.astype(str).value_counts(normalize=True)}).fillna(0)
            shares = shares.sort_values("real (held out)", ascending=False).head(8)
            x = np.arange(len(shares))
            ax.bar(x - 0.2, shares["real (held out)"], width=0.4, label="real (held out)")
            ax.bar(x + 0.2, shares["CausalMix"], width=0.4, label="CausalMix")
            ax.set_xticks(x, [str(v)[:12] for v in shares.index], rotation=30, ha="right", fontsize=7)
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[n_panels:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_pairwise(real: tuple[pd.DataFrame, pd.Series], synthetic: tuple[pd.DataFrame, pd.Series], *, max_columns: int = 15):
    """Spearman correlation matrices of the real and synthetic rows, and their difference."""
    import matplotlib.pyplot as plt

    Xr, yr = real
    Xs, ys = synthetic
    classes = sorted(set(yr.astype(str)) | set(ys.astype(str)))
    cols = list(Xr.columns[:max_columns])
    cr = _encoded(Xr[cols], yr.astype(str), classes).corr(method="spearman")
    cs = _encoded(Xs[cols], ys.astype(str), classes).corr(method="spearman")
    k = len(cr)
    fig, axes = plt.subplots(1, 3, figsize=(3 * (2.2 + 0.3 * k), 1.5 + 0.3 * k))
    for ax, (title, m, cmap, lim) in zip(axes, (("real (held out)", cr, "RdBu_r", 1), ("CausalMix", cs, "RdBu_r", 1),
                                                ("CausalMix − real", cs - cr, "PuOr_r", 1))):
        im = ax.imshow(m.to_numpy(), vmin=-lim, vmax=lim, cmap=cmap)
        ax.set_xticks(range(k), m.columns, rotation=70, ha="right", fontsize=7)
        ax.set_yticks(range(k), m.index if ax is axes[0] else [""] * k, fontsize=7)
        ax.set_title(f"{title}\nmean |diff| {np.nanmean(np.abs((cs - cr).to_numpy())):.3f}" if "−" in title else title, fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.7)
    fig.tight_layout()
    return fig


def fidelity_table(split, real: tuple[pd.DataFrame, pd.Series], cfg: dict[str, Any], *, n: int, seed: int,
                   causalmix=None, generators: Sequence[str] | None = None) -> tuple[pd.DataFrame, str]:
    """Every generator of the configuration's methods (or ``generators``) fitted on the split's
    training rows, ``n`` rows drawn, scored against the held-out ``real`` rows with
    :func:`causalmix.fidelity.fidelity_report`.

    Returns the table (one row per generator) and a markdown note naming the generators that
    could not run, with the reason. ``causalmix`` reuses an already fitted CausalMix generator.
    """
    import time

    from causalmix import fidelity
    from causalmix.generators import make_generator
    from causalmix.runs import METHODS

    names = list(generators) if generators else list(dict.fromkeys(
        METHODS[m] for m in cfg.get("methods", METHODS) if METHODS.get(m)))
    params = cfg.get("generators") or {}
    rows, notes = {}, []
    # Reference: the real training rows scored like a generator's output (what "as close as real
    # data" looks like on these measures).
    reference = fidelity.fidelity_report(real, (split.X_train, split.y_train), random_state=seed)
    rows["real training rows (reference)"] = {**reference.summary(), "fit (s)": np.nan}
    for name in names:
        try:
            t0 = time.perf_counter()
            if name == "causalmix" and causalmix is not None:
                gen = causalmix
            else:
                gen = make_generator(name, **params.get(name, {})).fit(split.X_train, split.y_train)
            fit_s = time.perf_counter() - t0
            synthetic = gen.sample(n, random_state=seed)
        except ImportError as err:
            notes.append(f"- **{method_label(name)}** not run: {err}")
            continue
        scores = fidelity.fidelity_report(real, synthetic, random_state=seed)
        rows[method_label(name)] = {**scores.summary(), "fit (s)": fit_s}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("generator")
    note = "\n".join(notes) if notes else "Every generator of the configuration ran."
    legend = (
        "Columns: `marginal_mean`/`marginal_max` — mean/max over columns of the Kolmogorov–Smirnov "
        "statistic (numeric) or total-variation distance (categorical) between real and synthetic "
        "marginals (0 = identical); `association_diff` — mean absolute difference of the pairwise "
        "association matrices (Spearman, Cramér's V, correlation ratio); `c2st_auc` — ROC-AUC of a "
        "classifier telling real from synthetic rows (0.5 = indistinguishable); `tstr_auc` — ROC-AUC on "
        "the held-out real rows of a logistic regression trained on the synthetic rows; `fit (s)` — "
        "fitting time. CausalMix's fit time is that of the fit above."
    )
    return table, f"{note}\n\n{legend}"


# --- ablations (notebook 07) ---------------------------------------------------------------

#: One factor at a time around the configuration's CausalMixFT settings: (section, key, values).
ABLATION_FACTORS: dict[str, tuple[str, str, tuple[Any, ...]]] = {
    "synthetic ratio": ("finetune", "synthetic_ratio", (0.0, 0.5, 2.0)),
    "synthetic rows in the query": ("finetune", "synthetic_query", (True,)),
    "DAGs": ("generator", "n_dags", (1, 5)),
    "bootstraps per algorithm": ("generator", "n_bootstrap", (1, 5)),
    "SCM feature cap (rest: side columns)": ("generator", "max_features", (5, None)),
    "mechanism quality": ("generator", "quality", ("better",)),
    "nominal variables in discovery": ("generator", "nominal_coding", ("ordinal",)),
}
BASELINE_VARIANT = "CausalMixFT as configured"


def ablation_config(config: str | Path, *, out_dir: str | Path | None = None, seeds: Sequence[int] | None = None,
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """The ablation sweep of a configuration: its datasets and training sizes (no domain shift), its
    first seed unless ``seeds`` say otherwise, CausalMixFT as configured plus one variant per value
    of :data:`ABLATION_FACTORS` that differs from the configured one. Records go to
    ``<results folder>/ablation``. Returns the sweep configuration and variant -> label."""
    from causalmix.finetuning import FinetuneConfig
    from causalmix.generators import make_generator

    cfg = load_config(config)
    current = {"generator": make_generator("causalmix", **(cfg["generators"].get("causalmix") or {})).get_params(),
               "finetune": FinetuneConfig.from_dict(cfg["finetune"]).to_dict()}
    variants, labels = {}, {"causalmix": BASELINE_VARIANT}
    for factor, (section, key, values) in ABLATION_FACTORS.items():
        for value in values:
            if current[section].get(key) == value:
                continue
            name = f"cm-{key}-{value}".replace("_", "-")
            variants[name] = {"method": "causalmix", section: {key: value}}
            labels[name] = f"{factor}: {value}"
    folder = results_dir(config, out_dir) / "ablation"
    sweep = {**cfg, "name": cfg["name"], "methods": ["causalmix", *variants], "variants": variants,
             "domain_shift": [], "seeds": list(seeds) if seeds else cfg["seeds"][:1], "out_dir": str(folder)}
    return sweep, labels


def ablation_records(records: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The ablation runs with ``method`` set to their variant's label (so every table of the main
    results applies unchanged)."""
    out = records.copy()
    key = out["variant"].fillna(out["method"]) if "variant" in out else out["method"]
    out["method"] = key.map(labels).fillna(key)
    return out
