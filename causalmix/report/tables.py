"""The book's tables: each a DataFrame with readable headers, captioned by :func:`styled`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from causalmix.metrics import aggregate
from causalmix.report.paper import (
    PAPER_LABEL,
    PAPER_RESULTS,
    _method_sort_key,
    method_label,
)
from causalmix.report.records import Provenance, _caption_of, caption, with_pretrained
from causalmix.report.stats import RankTest, domain_shift_frame, improvement_frame


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


def rank_summary_table(test: RankTest) -> pd.DataFrame:
    """Average ranks with the paper's order beside them."""
    paper = {m: i + 1 for i, m in enumerate(PAPER_RESULTS["rank_order"])}
    return pd.DataFrame({
        "average rank": test.average_ranks,
        "our position": range(1, len(test.average_ranks) + 1),
        f"{PAPER_LABEL}: position": [paper.get(m, np.nan) for m in test.average_ranks.index],
    }).rename(index=method_label).rename_axis("method")


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
