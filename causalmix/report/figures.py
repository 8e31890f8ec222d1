"""The book's figures (matplotlib), drawn to be read at column width.

Rules every figure here follows: at most 7 inches wide (shown at its natural size in the book's column,
so 10-point text stays at least 9 points), at most two panels per row, shared y-axes where curves are
compared, a legend wherever colours carry meaning, and no provenance inside the image — the page's
caption (:class:`causalmix.report.page.Page`) carries it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd

from causalmix.report.paper import (
    PAPER_LABEL,
    PAPER_RESULTS,
    SHORT_LABELS,
    _method_sort_key,
    method_label,
)
from causalmix.report.records import with_pretrained
from causalmix.report.stats import RankTest, cliques, domain_shift_frame, improvement_frame, mean_interval
from causalmix.report.tables import per_dataset_improvement

#: Widest figure (inches): the book's column shows it unscaled.
MAX_WIDTH = 7.0


def _method_axis(ax, methods: Sequence[str]) -> None:
    """Methods down the y-axis, first on top: long names stay horizontal and readable."""
    ax.set_yticks(range(len(methods)), [method_label(m) for m in methods])
    ax.set_ylim(len(methods) - 0.5, -0.5)


def _height(n_methods: int) -> float:
    return 1.3 + 0.42 * n_methods


def _legend_below(fig, handles, labels, ncol: int = 2) -> None:
    fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False, bbox_to_anchor=(0.5, 0.0))


def plot_improvement_strip(records: pd.DataFrame, *, metric: str = "test_roc_auc"):
    """Box per method of the per-dataset normalized improvements, each dataset a dot; the paper's
    medians as black diamonds."""
    import matplotlib.pyplot as plt

    table = per_dataset_improvement(records, metric, labels=False)
    methods = list(table.columns)
    fig, ax = plt.subplots(figsize=(MAX_WIDTH, _height(len(methods)) + 0.4))
    data = [table[m].dropna().to_numpy() for m in methods]
    ax.boxplot(data, positions=range(len(methods)), widths=0.5, showfliers=False, orientation="horizontal")
    rng = np.random.default_rng(0)  # jitter only
    for i, values in enumerate(data):
        ax.scatter(values, i + rng.uniform(-0.15, 0.15, len(values)), s=16, alpha=0.7, color="tab:blue", zorder=3,
                   label="one dataset (mean over seeds and sizes)" if i == 0 else None)
    paper = PAPER_RESULTS["median_improvement"]
    shown = [i for i, m in enumerate(methods) if m in paper]
    for i in shown:
        ax.scatter([paper[methods[i]][0]], [i], marker="D", color="black", s=30, zorder=4,
                   label=f"{PAPER_LABEL}: median" if i == shown[0] else None)
    ax.axvline(0, color="0.5", lw=0.8, ls="--")
    _method_axis(ax, methods)
    name = {"roc_auc": "ROC-AUC", "log_loss": "log-loss"}.get(metric.removeprefix("test_"), metric.removeprefix("test_"))
    ax.set_xlabel(f"{name} improvement over the pre-trained model (%)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    handles, labels = ax.get_legend_handles_labels()
    _legend_below(fig, handles, labels)
    return fig


def plot_cd_diagram(test: RankTest):
    """Critical-difference diagram (Demšar 2006): average ranks on an axis, methods joined by a bar
    when the Nemenyi test finds no significant difference. Labels use the short method names."""
    import matplotlib.pyplot as plt

    avg = test.average_ranks
    k = len(avg)
    lo, hi = 1, max(k, 2)
    half = math.ceil(k / 2)
    groups = cliques(avg, test.critical_difference)
    # Room for the labels beside the axis: about 0.075 in per character at 10 points. Long labels
    # (ablation variants) wrap, so that the rank axis keeps at least 40 % of the width.
    labels = {m: f"{SHORT_LABELS.get(m, m)} ({r:.2f})" for m, r in avg.items()}
    wrap_at = int((0.3 * MAX_WIDTH - 0.1) / 0.075)
    labels = {m: textwrap.fill(t, wrap_at) for m, t in labels.items()}
    lines = max(t.count("\n") + 1 for t in labels.values())
    step = 0.5 * (1 + 0.6 * (lines - 1))  # vertical distance between labels on one side, in axis units
    label_in = 0.1 + 0.075 * max(len(line) for t in labels.values() for line in t.split("\n"))
    margin = label_in * (hi - lo) / (MAX_WIDTH - 2 * label_in)
    fig, ax = plt.subplots(figsize=(MAX_WIDTH, 1.4 + 0.84 * step * half + 0.12 * len(groups)))
    fig.subplots_adjust(left=0, right=1, top=1, bottom=0)
    ax.set_xlim(lo - margin - 0.1, hi + margin + 0.1)
    ax.set_ylim(-(step * half + 0.3 + 0.3 * lines), 1.7)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="black", lw=1)
    for r in range(lo, hi + 1):
        ax.vlines(r, 0, 0.15, color="black", lw=1)
        ax.text(r, 0.25, str(r), ha="center", va="bottom")
    if not math.isnan(test.critical_difference):
        ax.hlines(1.25, lo, lo + test.critical_difference, color="black", lw=2)
        ax.text(lo + test.critical_difference / 2, 1.35, f"CD = {test.critical_difference:.2f}", ha="center", va="bottom")
    for i, (method, rank) in enumerate(avg.items()):
        left = i < half
        row = -(i if left else k - 1 - i) - 1
        x_text = lo - 0.1 if left else hi + 0.1
        y = row * step - 0.3
        ax.plot([rank, rank, x_text], [0, y, y], color="black", lw=0.8)
        ax.text(x_text + (-0.03 if left else 0.03), y, labels[method],
                ha="right" if left else "left", va="center")
    for j, group in enumerate(groups):
        ax.hlines(-0.12 - 0.14 * j, avg[group[0]] - 0.03, avg[group[-1]] + 0.03, color="tab:red", lw=3)
    return fig


def _box_per_method(frame: pd.DataFrame, column: str):
    """A horizontal box per method of the runs' ``column``, each run a jittered dot; returns
    (fig, ax, methods)."""
    import matplotlib.pyplot as plt

    methods = sorted(frame["method"].unique(), key=_method_sort_key)
    data = [frame.loc[frame["method"] == m, column].dropna().to_numpy() for m in methods]
    fig, ax = plt.subplots(figsize=(MAX_WIDTH, _height(len(methods)) + 0.4))
    ax.boxplot(data, positions=range(len(methods)), widths=0.5, showfliers=False, orientation="horizontal")
    rng = np.random.default_rng(0)  # jitter only
    for i, values in enumerate(data):
        ax.scatter(values, i + rng.uniform(-0.15, 0.15, len(values)), s=12, alpha=0.5, color="tab:blue", zorder=3,
                   label="one run" if i == 0 else None)
    _method_axis(ax, methods)
    return fig, ax, methods


def _finish(fig, ax) -> None:
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    handles, labels = ax.get_legend_handles_labels()
    _legend_below(fig, handles, labels)


def plot_correlations(frame: pd.DataFrame):
    """Distribution per method of the runs' validation–test correlations."""
    fig, ax, methods = _box_per_method(frame, "correlation")
    shown = [i for i, m in enumerate(methods) if m in PAPER_RESULTS["correlation_gap"]]
    for i in shown:
        ax.scatter([1 - PAPER_RESULTS["correlation_gap"][methods[i]]], [i], marker="D", color="black", s=30, zorder=4,
                   label=f"{PAPER_LABEL}: 1 − median gap" if i == shown[0] else None)
    ax.axvline(0, color="0.5", lw=0.8, ls="--")
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("Spearman correlation of validation and test ROC-AUC over a run's curve")
    _finish(fig, ax)
    return fig


def plot_regret(frame: pd.DataFrame):
    """Distribution per method of the runs' early-stopping regret (test ROC-AUC)."""
    fig, ax, _ = _box_per_method(frame, "regret")
    ax.set_xlabel("early-stopping regret (best test ROC-AUC − test ROC-AUC at the selected step)")
    _finish(fig, ax)
    return fig


#: How the example-curves figure picks its splits (stated in its caption).
EXAMPLE_RULE = ("one split per training size (up to four sizes, spread over the grid), on the first seed, each "
                "from another dataset: among the datasets whose default fine-tuning test curve is not flat, the one "
                "whose test ROC-AUC range over the curve is the median at that size (a typical curve, not the best "
                "or worst); with fewer sizes than panels, further datasets at the same size")


def example_runs(records: pd.DataFrame, curves: pd.DataFrame, *, methods: Sequence[str] = ("finetune", "causalmix"),
                 max_panels: int = 4) -> pd.DataFrame:
    """The runs of ``methods`` on the splits :data:`EXAMPLE_RULE` picks: what :func:`plot_example_curves` draws."""
    runs = records[records["method"].isin(methods) & records["run_id"].isin(curves["run_id"])]
    if runs.empty:
        return runs
    reference = runs[runs["method"] == methods[0]] if (runs["method"] == methods[0]).any() else runs
    span = curves.groupby("run_id")["test_roc_auc"].agg(lambda v: float(v.max() - v.min()))
    reference = reference.assign(span=reference["run_id"].map(span))
    reference = reference[(reference["span"] > 0) & (reference["seed"] == reference["seed"].min())]
    sizes = sorted(reference["n_train"].unique())
    if len(sizes) > max_panels:
        sizes = [sizes[round(i * (len(sizes) - 1) / (max_panels - 1))] for i in range(max_panels)] if max_panels > 1 else sizes[:1]
    chosen: list[tuple] = []
    used: set[str] = set()
    while len(chosen) < max_panels:
        added = False
        for n_train in sizes:
            if len(chosen) >= max_panels:
                break
            candidates = reference[(reference["n_train"] == n_train) & ~reference["dataset"].isin(used)].sort_values(
                ["span", "dataset"])
            if candidates.empty:
                continue
            row = candidates.iloc[(len(candidates) - 1) // 2]
            chosen.append((row["dataset"], row["n_train"], row["seed"]))
            used.add(row["dataset"])
            added = True
        if not added:
            break
    keys = runs.set_index(["dataset", "n_train", "seed"]).index
    picked = runs[keys.isin(chosen)]
    order = {k: i for i, k in enumerate(chosen)}
    return picked.assign(_order=[order[k] for k in picked.set_index(["dataset", "n_train", "seed"]).index]).sort_values(
        "_order").drop(columns="_order")


def plot_example_curves(records: pd.DataFrame, curves: pd.DataFrame, *,
                        methods: Sequence[str] = ("finetune", "causalmix"), max_panels: int = 4):
    """Validation (dashed) and test (solid) ROC-AUC against the fine-tuning step for a few splits,
    two panels a row with a shared y-axis, the selected (best-validation) step marked."""
    import matplotlib.pyplot as plt

    runs = example_runs(records, curves, methods=methods, max_panels=max_panels)
    splits = list(dict.fromkeys(zip(runs["dataset"], runs["n_train"], runs["seed"])))
    if not splits:
        raise ValueError(f"No curves for methods {list(methods)}.")
    ncols = min(2, len(splits))
    nrows = math.ceil(len(splits) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(MAX_WIDTH, 2.6 * nrows + 0.8), squeeze=False, sharey=True)
    colors = dict(zip(sorted(methods, key=_method_sort_key), ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    for ax, (dataset, n_train, seed) in zip(axes.flat, splits):
        sel = runs[(runs["dataset"] == dataset) & (runs["n_train"] == n_train) & (runs["seed"] == seed)]
        for _, run in sel.iterrows():
            curve = curves[curves["run_id"] == run["run_id"]].sort_values("step")
            color = colors[run["method"]]
            ax.plot(curve["step"], curve["val_roc_auc"], color=color, ls="--", lw=1)
            ax.plot(curve["step"], curve["test_roc_auc"], color=color, lw=1.6)
            ax.axvline(run["best_step"], color=color, lw=0.8, alpha=0.6, ls=":")
        ax.set_title(f"{dataset}, n_train {n_train}, seed {seed}")
    for ax in axes.flat[len(splits):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("ROC-AUC")
    for ax in axes[-1]:
        ax.set_xlabel("fine-tuning step")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[m], lw=2) for m in colors] + [
        Line2D([], [], color="0.3", lw=1.6), Line2D([], [], color="0.3", lw=1, ls="--"),
        Line2D([], [], color="0.3", lw=0.8, ls=":")]
    labels = [method_label(m) for m in colors] + ["test", "validation", "selected step"]
    fig.tight_layout(rect=(0, 0.12 / nrows + 0.04, 1, 1))
    _legend_below(fig, handles, labels, ncol=3)
    return fig


def _mean_ci(values: pd.Series) -> tuple[float, float]:
    """:func:`~causalmix.report.stats.mean_interval` with no error bar (0) where it has no interval."""
    mean, half = mean_interval(values)
    return mean, 0.0 if math.isnan(half) else half


#: The methods the research question compares: in colour on the Adult figure, the others in grey.
RQ_METHODS = ("causalmix", "finetune", "smote", "mixup", "pretrained")


def plot_low_resource(records: pd.DataFrame, *, dataset: str = "adult",
                      metrics: Sequence[str] = ("test_accuracy", "test_roc_auc"),
                      highlight: Sequence[str] = RQ_METHODS):
    """Test metrics against ``n_train`` per method: mean over seeds with a 95 % interval (error bars,
    methods side by side), the majority-class accuracy as a dashed line; the ``highlight`` methods (the
    research question's) in colour, the others in light grey so that nine series stay readable."""
    import matplotlib.pyplot as plt

    runs = with_pretrained(records[records["dataset"] == dataset])
    methods = sorted(runs["method"].unique(), key=_method_sort_key)
    fig, axes = plt.subplots(1, len(metrics), figsize=(MAX_WIDTH, 3.6), squeeze=False)
    sizes = sorted(runs["n_train"].unique())
    offsets = np.linspace(-0.25, 0.25, len(methods)) if len(methods) > 1 else [0.0]
    colours = ("tab:orange", "tab:blue", "tab:green", "tab:purple", "black")
    palette = {m: c for m, c in zip([m for m in highlight if m in methods], colours)}
    handles = []
    for ax, metric in zip(axes[0], metrics):
        for offset, method in zip(offsets, methods):
            part = runs[runs["method"] == method]
            stats = [(_mean_ci(part.loc[part["n_train"] == n, metric]), n) for n in sizes if (part["n_train"] == n).any()]
            x = [sizes.index(n) + offset for _, n in stats]
            style = ({"color": palette[method], "lw": 1.4, "ms": 4.5, "zorder": 3} if method in palette
                     else {"color": "0.72", "lw": 0.8, "ms": 3, "zorder": 2})
            h = ax.errorbar(x, [m for (m, _), _ in stats], yerr=[e for (_, e), _ in stats], marker="o",
                            capsize=2, **style)
            if ax is axes[0][0]:
                handles.append(h)
        if metric == "test_accuracy" and "test_majority_accuracy" in runs:
            base = runs.groupby("n_train")["test_majority_accuracy"].mean()
            ax.hlines(base.reindex(sizes).to_numpy(), np.arange(len(sizes)) - 0.4, np.arange(len(sizes)) + 0.4,
                      colors="black", linestyles="--", lw=1)
        ax.set_xticks(range(len(sizes)), [str(n) for n in sizes])
        ax.set_xlabel("training rows (n_train)")
        ax.set_ylabel(metric.removeprefix("test_").replace("_", " "))
    from matplotlib.lines import Line2D

    labels = [method_label(m) for m in methods]
    if "test_majority_accuracy" in runs:
        handles.append(Line2D([], [], color="black", ls="--", lw=1))
        labels.append("majority class")
    fig.tight_layout(rect=(0, 0.24, 1, 1))
    _legend_below(fig, handles, labels, ncol=3)
    return fig


def plot_domain_shift(records: pd.DataFrame):
    """Per domain split: out-of-domain accuracy and the in-domain → out-of-domain accuracy drop per
    method (mean over runs, 95 % interval); the majority-class accuracy out of domain dashed."""
    import matplotlib.pyplot as plt

    runs = domain_shift_frame(with_pretrained(records))
    methods = sorted(runs["method"].unique(), key=_method_sort_key)
    domains = sorted(runs["domain"].unique())
    fig, axes = plt.subplots(len(domains), 2, figsize=(MAX_WIDTH, 2.9 * len(domains) + 0.6), squeeze=False)
    for row, domain in zip(axes, domains):
        part = runs[runs["domain"] == domain]
        for ax, metric, label in ((row[0], "test_ood_accuracy", "out-of-domain accuracy"),
                                  (row[1], "drop_accuracy", "accuracy drop (in − out)")):
            stats = [_mean_ci(part.loc[part["method"] == m, metric]) for m in methods]
            ax.barh(range(len(methods)), [m for m, _ in stats], xerr=[e for _, e in stats], color="0.75",
                    error_kw={"capsize": 2, "lw": 1})
            ax.set_yticks(range(len(methods)), [method_label(m) for m in methods] if ax is row[0] else [])
            ax.invert_yaxis()
            ax.set_xlabel(label)
            ax.set_title(f"shift by {domain}")
            if metric == "test_ood_accuracy" and "test_ood_majority_accuracy" in part:
                ax.axvline(part["test_ood_majority_accuracy"].mean(), color="black", ls="--", lw=1,
                           label="majority class")
                finite = [m - e for m, e in stats if np.isfinite(m)]
                if finite:
                    ax.set_xlim(max(0.0, min(finite + [part["test_ood_majority_accuracy"].mean()]) - 0.05), None)
    # One legend for the figure, below the panels: inside a panel it covered a bar.
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.05 if handles else 0, 1, 1))
    if handles:
        _legend_below(fig, handles, labels, ncol=1)
    return fig


def plot_forest(forest: pd.DataFrame, pooled=None, *, paper: float | None = None,
                what: str = "CausalMixFT − default FT"):
    """Forest plot of per-dataset paired differences (:func:`causalmix.report.evidence.forest_frame`):
    each dataset's mean with its seed-resampling 95 % interval, the pooled median with its
    hierarchical interval (``pooled``, an :class:`~causalmix.report.stats.Interval`) as a band, and the
    paper's value (``paper``) as a dashed line."""
    import matplotlib.pyplot as plt

    rows = forest.reset_index(drop=True)
    legend_in = 0.25 * 3 + 0.1  # room below the axes for the legend's (up to) three lines, in inches
    height = 1.4 + 0.28 * len(rows) + legend_in
    fig, ax = plt.subplots(figsize=(MAX_WIDTH, height))
    y = np.arange(len(rows))
    ax.errorbar(rows["difference"], y, xerr=[rows["difference"] - rows["low"], rows["high"] - rows["difference"]],
                fmt="o", color="tab:blue", ms=4, capsize=2, label="one dataset: mean over seeds and sizes, 95 % interval (seeds)")
    if pooled is not None and not math.isnan(pooled.estimate):
        ax.axvspan(pooled.low, pooled.high, color="tab:orange", alpha=0.2,
                   label=f"median across datasets {pooled.format(2)} (hierarchical)")
        ax.axvline(pooled.estimate, color="tab:orange", lw=1.2)
    if paper is not None:
        ax.axvline(paper, color="black", lw=1, ls="--", label=f"{PAPER_LABEL}: {paper:+.2f}")
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(y, rows["dataset"])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(f"{what}\n(difference of normalized ROC-AUC improvement, percentage points)")
    fig.tight_layout(rect=(0, legend_in / height, 1, 1))
    handles, labels = ax.get_legend_handles_labels()
    _legend_below(fig, handles, labels, ncol=1)
    return fig


# --- what each figure shows, in words (its caption and alt text state the finding) -------------------------

def _overlap_sizes(runs: pd.DataFrame, a: str, b: str, metric: str) -> tuple[list, list]:
    """Training sizes where the 95 % intervals over seeds of methods ``a`` and ``b`` overlap / do not."""
    overlap, apart = [], []
    for n_train, part in runs.groupby("n_train"):
        (ma, ea), (mb, eb) = (_mean_ci(part.loc[part["method"] == m, metric]) for m in (a, b))
        if not (np.isfinite(ma) and np.isfinite(mb)):
            continue
        (overlap if abs(ma - mb) <= (np.nan_to_num(ea) + np.nan_to_num(eb)) else apart).append(int(n_train))
    return overlap, apart


def low_resource_finding(records: pd.DataFrame, *, metric: str = "test_accuracy", a: str = "causalmix",
                         b: str = "finetune") -> str:
    """E.g. "CausalMixFT and default fine-tuning overlap at every training size" (95 % intervals over seeds)."""
    overlap, apart = _overlap_sizes(records, a, b, metric)
    what = metric.removeprefix("test_").replace("_", " ")
    if not overlap and not apart:
        return f"{method_label(a)} or {method_label(b)} has no runs here"
    if not apart:
        return f"{method_label(a)} and {method_label(b)} overlap in {what} at every training size"
    return (f"{method_label(a)} and {method_label(b)} differ in {what} at n_train {', '.join(map(str, apart))}"
            + (f" and overlap at n_train {', '.join(map(str, overlap))}" if overlap else ""))


def median_finding(frame: pd.DataFrame, column: str, *, what: str, digits: int = 2,
                   methods: Sequence[str] = ("finetune", "causalmix")) -> str:
    """E.g. "median validation–test correlation 0.33 for default fine-tuning, 0.41 for CausalMixFT"."""
    medians = frame.groupby("method")[column].median()
    parts = [f"{medians[m]:.{digits}f} for {method_label(m)}" for m in methods if m in medians and np.isfinite(medians[m])]
    return f"median {what} " + ", ".join(parts) if parts else f"no {what}"


def improvement_finding(records: pd.DataFrame) -> str:
    """The method with the highest and lowest median per-dataset improvement, and CausalMixFT's."""
    per_dataset = improvement_frame(records).groupby(["method", "dataset"])["improvement"].mean().groupby("method").median()
    if per_dataset.empty:
        return "no improvements"
    best, worst = per_dataset.idxmax(), per_dataset.idxmin()
    text = (f"{method_label(best)} has the highest median per-dataset improvement ({per_dataset[best]:+.2f} %), "
            f"{method_label(worst)} the lowest ({per_dataset[worst]:+.2f} %)")
    if "causalmix" in per_dataset and best != "causalmix":
        text += f"; CausalMixFT {per_dataset['causalmix']:+.2f} %"
    return text


def domain_shift_finding(records: pd.DataFrame) -> str:
    """Per domain split, the method with the highest out-of-domain accuracy and with the smallest drop."""
    runs = domain_shift_frame(with_pretrained(records))
    parts = []
    for domain, part in runs.groupby("domain"):
        ood = part.groupby("method")["test_ood_accuracy"].mean()
        drop = part.groupby("method")["drop_accuracy"].mean()
        parts.append(f"shift by {domain}: highest out-of-domain accuracy {method_label(ood.idxmax())} "
                     f"({ood.max():.3f}), smallest drop {method_label(drop.idxmin())} ({drop.min():+.3f})")
    return "; ".join(parts)
