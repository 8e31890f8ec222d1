"""The book's figures (matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from causalmix.report.paper import (
    PAPER_LABEL,
    PAPER_RESULTS,
    _method_sort_key,
    method_label,
)
from causalmix.report.records import Provenance, _caption_of, with_pretrained
from causalmix.report.stats import (
    RankTest,
    cliques,
    domain_shift_frame,
    improvement_frame,
)
from causalmix.report.tables import per_dataset_improvement


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


def plot_regret(frame: pd.DataFrame, *, records: pd.DataFrame, config: str):
    """Distribution per method of the runs' early-stopping regret (test ROC-AUC points)."""
    fig, ax, methods = _box_per_method(frame, "regret", height=3.6)
    ax.set_xticks(range(len(methods)), [method_label(m) for m in methods], rotation=25, ha="right")
    ax.set_ylabel("best test ROC-AUC − test ROC-AUC\nat the validation-selected step")
    ax.set_title("Early-stopping regret per run", fontsize=10)
    fig.tight_layout()
    return stamp(fig, records, config=config)
