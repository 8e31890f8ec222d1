"""The book's tables: each a DataFrame with readable headers, captioned by :func:`styled`."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from causalmix.report.aggregation import aggregate
from causalmix.report.paper import (
    PAPER_RESULTS,
    _method_sort_key,
    method_label,
)
from causalmix.report.records import Provenance, _caption_of, caption, with_pretrained
from causalmix.report.stats import (
    RankTest,
    domain_shift_frame,
    fewer_seeds,
    improvement_frame,
    mean_interval,
    median_improvement_interval,
    median_interval,
    on_shared_splits,
    paired_tests,
    rank_test,
)
from causalmix.study import BASELINE_VARIANT


def format_number(value: Any, *, precision: int = 3, p_value: bool = False) -> str:
    """A number as a table shows it: ``precision`` decimals, but at least three significant digits for
    small values (never "-0.000": -0.000412 shows as "-0.000412"); p-values below 0.001 in scientific
    notation ("3.2e-05"); missing as "–".

    >>> format_number(-0.000412), format_number(0.1234), format_number(2.5, precision=1)
    ('-0.000412', '0.123', '2.5')
    >>> format_number(0.0000321, p_value=True), format_number(0.0123, p_value=True)
    ('3.2e-05', '0.012')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        return str(value)
    v = float(value)
    if p_value:
        return f"{v:.1e}" if 0 < v < 0.001 else f"{v:.2g}"  # two significant digits, scientific below 0.001
    if v == 0:
        return f"{0:.{precision}f}"  # never "-0.000"
    if abs(v) >= 1 or math.isinf(v):
        return f"{v:.{precision}f}"
    decimals = max(precision, min(8, -math.floor(math.log10(abs(v))) + 2))
    return f"{v:.{decimals}f}"


def _keep_together(value: Any) -> str:
    """A short text cell that may wrap only between its parts: "0.222 ± 0.008" and "[+0.14, +0.69]" stay
    whole (non-breaking spaces), "+0.33% [+0.14, +0.69]" may break before the bracket.

    >>> _keep_together("0.222 ± 0.008") == "0.222\u00a0±\u00a00.008"
    True
    """
    if not isinstance(value, str):
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return re.sub(r"\[([^\]]*)\]", lambda m: "[" + m.group(1).replace(", ", ",\u00a0") + "]",
                  value.replace(" ± ", "\u00a0±\u00a0"))


def is_p_column(column: Any) -> bool:
    """A column of p-values, by its header ("p", "p (Holm)", "p-value", "Friedman p", …)."""
    words = str(column).replace("(", " ").replace(")", " ").replace(":", " ").split()
    return "p" in words or any(w.startswith("p-value") or w == "p_value" for w in words)


def styled(table: pd.DataFrame, title: str, what: pd.DataFrame | Provenance | str, *, config: str | None = None, precision: int = 3):
    """A table for display, captioned with its title and the provenance of ``what`` (the records
    it was built from, a :class:`Provenance`, or a ready caption). Numbers keep ``precision`` decimals
    and at least three significant digits (:func:`format_number`); p-values go scientific below 0.001."""
    cap = f"<b>{title}</b><br><small>{_caption_of(what, config)}</small>"
    counts = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
              and table[c].dropna().apply(lambda v: not math.isfinite(v) or float(v).is_integer()).all()
              and (str(c).split()[-1] in _COUNT_WORDS or str(c).startswith("datasets needed"))]
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])
            and table[c].map(lambda v: isinstance(v, str) and len(v) > _WRAP_CHARS).any()]
    style = table.style
    for column in table.columns:
        if column in counts:
            style = style.format(lambda v: "∞" if math.isinf(v) else f"{v:,.0f}", subset=[column], na_rep="–")
        elif column not in text and not pd.api.types.is_numeric_dtype(table[column]):
            style = style.format(_keep_together, subset=[column], na_rep="–")
        else:
            if str(column).startswith("paper"):  # the paper's numbers at the paper's precision
                style = style.format(lambda v: format_number(v, precision=2) if isinstance(v, str) or pd.isna(v)
                                     else f"{float(v):.2f}", subset=[column])
                continue
            style = style.format(lambda v, p=is_p_column(column): format_number(v, precision=precision, p_value=p),
                                 subset=[column])
    if text:  # prose cells wrap; numbers (and short strings such as "0.222 ± 0.008") stay on one line
        style = style.set_td_classes(pd.DataFrame({c: ["causalmix-text" if c in text else "" for _ in range(len(table))]
                                                   for c in table.columns}, index=table.index))
    if isinstance(table.index, pd.RangeIndex):  # row numbers say nothing: no index column
        style = style.hide(axis="index")
    return (style.set_caption(cap)
            .set_table_styles([{"selector": "th, td", "props": "padding: 2px 8px;"},
                               {"selector": "caption", "props": "caption-side: top; text-align: left;"}]))


# Text cells longer than this wrap; shorter ones (numbers, intervals) do not.
_WRAP_CHARS = 28

# Columns that hold counts: shown without decimals.
_COUNT_WORDS = {"n_datasets", "n_runs", "runs", "rows", "ok", "failed", "datasets", "seeds", "correlation", "n_real",
                "n_synthetic", "edges", "n_points", "position", "wins", "ties", "losses", "higher", "lower", "methods",
                "registered", "run"}


def median_improvement_table(records: pd.DataFrame, metric: str = "test_roc_auc", *, with_paper: bool = True,
                             seed: int = 0) -> pd.DataFrame:
    """Per method (SPEC aggregation): the median across datasets of the normalized improvement (%) —
    pooled (per dataset the mean over its seeds and training sizes) with its 95 % hierarchical bootstrap
    interval and, with several sizes, per n_train (per (dataset, n_train) the mean over seeds,
    :func:`causalmix.report.aggregation.aggregate`) — the standard deviation across the per-dataset values (the
    paper's "variability"), their IQR and median absolute deviation, and the numbers of datasets and
    runs; the paper's median and variability beside them (``with_paper``).
    """
    frame = improvement_frame(records, metric)
    table = aggregate(frame, "improvement")
    per_dataset = frame.groupby(["method", "dataset"])["improvement"].mean().groupby(level="method")
    table["median"] = per_dataset.median()  # SPEC pooled: per dataset over seeds and sizes, then across datasets
    table["std"] = per_dataset.std(ddof=1)
    table["iqr"] = per_dataset.quantile(0.75) - per_dataset.quantile(0.25)
    table["MAD"] = per_dataset.apply(lambda v: float(np.median(np.abs(v - np.median(v)))))
    table["runs"] = frame.groupby("method")["improvement"].size()
    intervals = {m: median_improvement_interval(records, m, metric, seed=seed) for m in table.index}
    table["95 % interval"] = pd.Series(
        {m: f"[{iv.low:+.2f}, {iv.high:+.2f}]" if iv is not None and not math.isnan(iv.low) else "–"
         for m, iv in intervals.items()}, index=table.index, dtype=object)
    if with_paper:
        paper = PAPER_RESULTS["median_improvement"]
        table = table.reindex([*table.index, *[m for m in paper if m not in table.index]])
        table["95 % interval"] = table["95 % interval"].astype(object).where(table["95 % interval"].notna(), "not run")
        table["paper: median"] = [paper.get(m, (np.nan, None))[0] for m in table.index]
        table["paper: variability"] = [
            (paper.get(m, (np.nan, None))[1] if paper.get(m, (np.nan, None))[1] is not None else np.nan) for m in table.index
        ]
    table = table.loc[sorted(table.index, key=lambda m: (math.isnan(table.at[m, "median"]), -np.nan_to_num(table.at[m, "median"], nan=0)))]
    table.index = pd.Index([method_label(m) for m in table.index], name="method")
    per_size = {c: f"median, n_train {c.removeprefix('median_n')}" for c in table if c.startswith("median_n")}
    table = table.rename(columns={**per_size, "std": "variability (std)", "iqr": "IQR", "n_datasets": "datasets"})
    return table[["median", "95 % interval", *per_size.values(), "variability (std)", "IQR", "MAD", "datasets", "runs",
                  *[c for c in table if c.startswith("paper")]]]


def improvement_by_n_train(records: pd.DataFrame, metric: str = "test_roc_auc", *, seed: int = 0) -> pd.DataFrame:
    """Methods × training sizes: the median normalized improvement (%) across datasets at each
    n_train with its 95 % hierarchical bootstrap interval (datasets, then seeds), as ``median [low, high]``."""
    table = {}
    for n_train, part in records.groupby("n_train"):
        column = {}
        for method in sorted(set(part["method"]) - {"pretrained"}, key=_method_sort_key):
            iv = median_improvement_interval(part, method, metric, seed=seed)
            column[method_label(method)] = "–" if iv is None else iv.format(2)
        table[f"n_train {n_train}"] = column
    return pd.DataFrame(table).rename_axis("method")


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
        "paper: position": [paper.get(m, np.nan) for m in test.average_ranks.index],
    }).rename(index=method_label).rename_axis("method")


def shared_split_ranking(records: pd.DataFrame, value: str = "test_roc_auc", *, alpha: float = 0.05,
                         higher_is_better: bool = True) -> tuple[str, RankTest, pd.DataFrame] | None:
    """When some method ran on fewer seeds than the others (:func:`fewer_seeds`, left out of the
    main ranking): a sentence naming them, the rank test of every method on the splits all of them
    ran, and those runs. None when every method ran on every seed.

    >>> runs = pd.DataFrame({"dataset": "d", "n_train": 64, "seed": [0, 1, 0], "method": ["a", "a", "tabebm"],
    ...                      "test_roc_auc": [0.8, 0.9, 0.7]})
    >>> shared_split_ranking(runs)[0]
    'Run on fewer seeds than the others: TabEBM-augmented FT (seed 0). Every method ranked on the splits all of them ran (seed 0):'
    """
    partial = fewer_seeds(records)
    if not partial:
        return None
    shared = on_shared_splits(records)
    names = "; ".join(f"{method_label(m)} (seed {', '.join(map(str, s))})" for m, s in partial.items())
    seeds = ", ".join(map(str, sorted(shared["seed"].unique())))
    text = (f"Run on fewer seeds than the others: {names}. Every method ranked on the splits all of them ran "
            f"(seed {seeds}):")
    return text, rank_test(shared, value, alpha=alpha, higher_is_better=higher_is_better), shared


def reliability_table(frame: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Per method: median correlation and gap over runs (SPEC) with the gap's 95 % bootstrap interval
    (resampling datasets), median and mean regret, the runs with a defined correlation and the flat
    curves (validation or test constant over the curve, so no correlation: counted here, left out of
    the medians), and the paper's median gap."""
    grouped = frame.groupby("method")
    gaps = {m: median_interval(g, "gap", seed=seed) for m, g in grouped}
    table = pd.DataFrame({
        "median correlation": grouped["correlation"].median(),
        "median gap": grouped["gap"].median(),
        "gap: 95 % interval": pd.Series({m: f"[{iv.low:.2f}, {iv.high:.2f}]" if not math.isnan(iv.low) else "–"
                                         for m, iv in gaps.items()}),
        "median regret": grouped["regret"].median(),
        "mean regret": grouped["regret"].mean(),
        "runs with a correlation": grouped["correlation"].count(),
        "flat curves": grouped["correlation"].apply(lambda c: int(c.isna().sum())),
        "runs": grouped.size(),
    })
    table["paper: median gap"] = [PAPER_RESULTS["correlation_gap"].get(m, np.nan) for m in table.index]
    table = table.loc[sorted(table.index, key=_method_sort_key)]
    return table.rename(index=method_label).rename_axis("method")


def _mean_pm(values: pd.Series, digits: int = 3) -> str:
    """``mean ± half-width`` of the normal 95 % interval over runs (``mean`` alone for one run)."""
    mean, half = mean_interval(values)
    if math.isnan(mean):
        return "–"
    return f"{mean:.{digits}f}" if math.isnan(half) else f"{mean:.{digits}f} ± {half:.{digits}f}"


def low_resource_table(records: pd.DataFrame, *, dataset: str = "adult") -> pd.DataFrame:
    """Per method and ``n_train`` (plain low-data runs of ``dataset``): test accuracy, balanced accuracy
    and ROC-AUC as mean ± 95 % interval over seeds, the seeds, the test rows and the standard error
    of one run's accuracy (binomial, from the test size); the majority-class baseline first."""
    runs = with_pretrained(records[records["dataset"] == dataset])
    if runs.empty:
        raise ValueError(f"No runs on {dataset!r} in these records.")
    rows = []
    for n_train, part in runs.groupby("n_train"):
        first = part.drop_duplicates("seed")
        majority = _mean_pm(first["test_majority_accuracy"]) if "test_majority_accuracy" in first else "–"
        rows.append({"method": "majority class", "n_train": n_train, "accuracy": majority,
                     "balanced accuracy": "–", "ROC-AUC": "–", "seeds": first["seed"].nunique()})
        for method in sorted(part["method"].unique(), key=_method_sort_key):
            m = part[part["method"] == method]
            acc = m["test_accuracy"].mean()
            n_test = m["n_test"].mean() if "n_test" in m else np.nan
            rows.append({
                "method": method_label(method), "n_train": n_train, "accuracy": _mean_pm(m["test_accuracy"]),
                "balanced accuracy": _mean_pm(m["test_balanced_accuracy"]) if "test_balanced_accuracy" in m else "–",
                "ROC-AUC": _mean_pm(m["test_roc_auc"]), "seeds": m["seed"].nunique(),
                "test rows": n_test, "SE of one run's accuracy": math.sqrt(acc * (1 - acc) / n_test) if n_test else np.nan,
            })
    return pd.DataFrame(rows).set_index(["n_train", "method"])


def domain_shift_table(records: pd.DataFrame) -> pd.DataFrame:
    """Per domain split and method (mean ± 95 % interval over runs): in-domain and out-of-domain
    accuracy, the drop (in − out), worst-group accuracy (the lower of the two per run), out-of-domain
    balanced accuracy and ROC-AUC; the majority-class baseline (the training set's most frequent
    class: its accuracy is that class's share in each group) first."""
    runs = domain_shift_frame(with_pretrained(records))
    runs["worst_group_accuracy"] = runs[["test_accuracy", "test_ood_accuracy"]].min(axis=1)
    rows = []
    for domain, part in runs.groupby("domain"):
        first = part.drop_duplicates(["n_train", "seed"])
        rows.append({"split": domain, "method": "majority class",
                     "accuracy in": _mean_pm(first["test_majority_accuracy"]) if "test_majority_accuracy" in first else "–",
                     "accuracy out": _mean_pm(first["test_ood_majority_accuracy"]) if "test_ood_majority_accuracy" in first else "–",
                     "runs": len(first)})
        for method in sorted(part["method"].unique(), key=_method_sort_key):
            m = part[part["method"] == method]
            rows.append({
                "split": domain, "method": method_label(method),
                "accuracy in": _mean_pm(m["test_accuracy"]), "accuracy out": _mean_pm(m["test_ood_accuracy"]),
                "drop (in − out)": _mean_pm(m["drop_accuracy"]),
                "worst-group accuracy": _mean_pm(m["worst_group_accuracy"]),
                "balanced accuracy out": _mean_pm(m["test_ood_balanced_accuracy"]) if "test_ood_balanced_accuracy" in m else "–",
                "ROC-AUC out": _mean_pm(m["test_ood_roc_auc"]), "runs": len(m),
            })
    return pd.DataFrame(rows).set_index(["split", "method"]).fillna("–")


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


def _interval(values: pd.Series) -> tuple[float, float, float]:
    mean, half = mean_interval(values)
    return mean, mean - half, mean + half


def separated_comparison(runs: pd.DataFrame, value: str, *, higher_is_better: bool = True, what: str = "") -> str:
    """The best method by mean ``value`` and the methods whose 95 % interval (over runs) lies entirely
    below (or above, for lower-is-better) the best one's: only those it is called better than."""
    stats = {m: _interval(g[value]) for m, g in runs.groupby("method") if g[value].notna().any()}
    if not stats:
        return f"no runs with {what or value}"
    best = (max if higher_is_better else min)(stats, key=lambda m: stats[m][0])
    mean, low, high = stats[best]
    if all(abs(s[0] - mean) < 1e-9 for s in stats.values()):
        return f"every method has the same {what or value} ({mean:.3f}): no method is better"
    beaten = [m for m, (_, lo, hi) in stats.items() if m != best and (hi < low if higher_is_better else lo > high)]
    tied = [m for m in stats if m != best and m not in beaten]
    text = f"**{method_label(best)}** has the {'highest' if higher_is_better else 'lowest'} {what or value} ({mean:.3f}"
    text += f", 95 % interval [{low:.3f}, {high:.3f}])" if not math.isnan(low) else ")"
    if beaten:
        text += "; its interval excludes " + ", ".join(method_label(m) for m in sorted(beaten, key=_method_sort_key))
    if tied:
        text += ("; its interval overlaps those of " + ", ".join(method_label(m) for m in sorted(tied, key=_method_sort_key))
                 + " (unpaired intervals over runs: an overlap does not decide a comparison; the paired differences on "
                   "the same splits are the research question's rows of the table above)")
    return text


def domain_shift_verdict(records: pd.DataFrame, *, config: str) -> str:
    """Per domain split: which method is best out of domain and with the smallest drop, called better
    than another only where their 95 % intervals (over runs) do not overlap."""
    if records.empty:
        return "No domain-shift runs in these records."
    runs = domain_shift_frame(with_pretrained(records))
    lines = []
    for domain, part in runs.groupby("domain"):
        lines.append(f"- *shift by {domain}*: " + separated_comparison(part, "test_ood_accuracy",
                                                                       what="out-of-domain accuracy") + ".")
        lines.append(f"- *shift by {domain}*: " + separated_comparison(part, "drop_accuracy", higher_is_better=False,
                                                                       what="accuracy drop (in − out)") + ".")
    lines.append(f"\n({caption(runs, config=config)}; intervals are mean ± 1.96 standard errors over runs.)")
    return "\n".join(lines)


#: Labels of the zero-shot benchmark's baselines (benchmarks/tiny_model.py).
BASELINE_LABELS = {"logreg": "logistic regression", "random_forest": "random forest", "hist_gb": "gradient boosting"}


def zero_shot_table(path, *, model: str | None = None) -> pd.DataFrame:
    """The model benchmark's medians per n_train (``benchmarks/results/*.csv`` of
    ``benchmarks/tiny_model.py``): the model's zero-shot ROC-AUC beside logistic regression, random
    forest and gradient boosting on the same splits, with the datasets and seeds behind each median."""
    runs = pd.read_csv(path)
    if model is not None:
        runs = runs[runs["model"].isin([model, *BASELINE_LABELS])]
    cells = runs.groupby(["n_train", "dataset", "model"])["roc_auc"].mean().unstack("model")
    table = cells.groupby(level="n_train").median()
    table = table[[c for c in table.columns if c not in BASELINE_LABELS] + [c for c in BASELINE_LABELS if c in table]]
    table = table.rename(columns={**BASELINE_LABELS, **{c: f"{c} (zero-shot)" for c in table.columns
                                                        if c not in BASELINE_LABELS}})
    table["datasets"] = cells.groupby(level="n_train").size()
    table["seeds"] = runs.groupby("n_train")["seed"].nunique()
    return table.rename_axis("n_train")


def ablation_pairs(records: pd.DataFrame, value: str = "test_roc_auc", *, reference: str | None = None,
                   alpha: float = 0.05) -> pd.DataFrame:
    """Each ablation variant paired with CausalMixFT as configured on the same splits: per dataset the
    mean over the splits both ran of variant − configured ``value``; the median across datasets, the
    datasets where the variant is ahead / behind, a two-sided Wilcoxon signed-rank test over datasets
    and Holm's correction over the variants (:func:`causalmix.report.stats.paired_tests`)."""
    reference = reference or BASELINE_VARIANT
    tests = paired_tests(records[records["method"] != "pretrained"], value, reference=reference, alpha=alpha)
    if tests.empty:
        return tests
    table = pd.DataFrame({
        "median difference (variant − configured)": -tests["median difference"],
        "datasets higher": tests["losses"], "ties": tests["ties"], "datasets lower": tests["wins"],
        "datasets": tests["datasets"], "p": tests["p"], "p (Holm)": tests["p (Holm)"], "significant": tests["significant"],
    })
    return table.sort_values("p (Holm)").rename_axis("variant")


def ablation_conclusion(pairs: pd.DataFrame, *, alpha: float = 0.05, what: str = "test ROC-AUC",
                        higher_is_better: bool = True) -> str:
    """What changed significantly against CausalMixFT as configured (Holm-adjusted), in words."""
    if pairs.empty:
        return "No variant ran on the same splits as CausalMixFT as configured: nothing to compare."
    changed = pairs[pairs["p (Holm)"] < alpha]
    if changed.empty:
        return (f"**No variant changed {what} significantly** against CausalMixFT as configured (paired over datasets, "
                f"Holm-adjusted over the {len(pairs)} variants, α = {alpha}): at this study's size the method is "
                "insensitive to each of these settings, or the differences are too small to detect.")
    parts = [f"**{name}** ({'better' if (row.iloc[0] > 0) == higher_is_better else 'worse'}: median difference "
             f"{format_number(row.iloc[0])}, higher on {int(row['datasets higher'])} and lower on "
             f"{int(row['datasets lower'])} of {int(row['datasets'])} datasets, "
             f"Holm-adjusted p {format_number(row['p (Holm)'], p_value=True)})" for name, row in changed.iterrows()]
    rest = len(pairs) - len(changed)
    return (f"**What changed {what} significantly** against CausalMixFT as configured (paired over datasets, "
            f"Holm-adjusted over the {len(pairs)} variants, α = {alpha}): " + "; ".join(parts)
            + f". The other {rest} variant{'s' if rest != 1 else ''} did not change it significantly.")
