""""Does CausalMixFT help on my data?" in one call: a per-dataset comparison with intervals over seeds.

:func:`compare` adds a CSV/parquet file (or takes a named dataset) to a data folder of your choosing,
writes the sweep configuration it will run (``<out>/<name>.yaml``: every setting stated, each one
overridable), prints the plan with a time estimate, runs the sweep with a progress bar and ends with

- :func:`comparison_table`: per method and training size, the mean test ROC-AUC, accuracy and
  log-loss over seeds, and the *paired* differences — the normalized ROC-AUC improvement over the
  pre-trained model on the same split (SPEC's definition, percent) and its difference to default
  fine-tuning's on the same split (percentage points) — each with a 95 % Student-t interval over
  seeds (a seed is a split: training, validation and test rows are redrawn);
- :func:`answers`: one line per method, pooled over training sizes (per seed the mean over sizes,
  then the interval over seeds), with a verdict in the book's vocabulary
  (:func:`causalmix.report.verdicts.direction_verdict`: the claim "improves", without a paper value);
- :func:`write_html`: a self-contained HTML report (tables, figures as inline SVG, the settings).

The unit of the intervals is the seed, not the dataset: they speak about new splits *of this
dataset*, not about datasets like it (the book's intervals resample datasets).

>>> default_sizes(2000), default_sizes(300), default_sizes(60)
([64, 128, 256], [64, 128], [24])
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from causalmix.data import DATA_DIR_ENV, add_dataset, load_dataset, sanitize_name
from causalmix.experiment import run_sweep
from causalmix.model import DEFAULT_MODEL
from causalmix.plan import plan_sweep
from causalmix.records import load_records
from causalmix.report.paper import _method_sort_key, method_label
from causalmix.report.stats import Interval, improvement_frame
from causalmix.report.verdicts import VERDICTS, direction_verdict
from causalmix.study import in_sweep
from causalmix.sweep_config import load_config

__all__ = ["DEFAULTS", "CompareResult", "answers", "compare", "compare_config", "comparison_table", "default_sizes",
           "seed_interval", "write_html"]

#: What :func:`compare` runs unless told otherwise: the question's methods (the pre-trained reference,
#: default fine-tuning, CausalMixFT and two cheap statistical augmentations), 5 seeds, and the quick
#: study's fine-tuning and generator settings (about 5-30 s a run on one CPU core at these sizes).
DEFAULTS: dict[str, Any] = {
    "methods": ["pretrained", "finetune", "causalmix", "smote", "mixup"],
    "seeds": [0, 1, 2, 3, 4],
    "test_cap": 1000,
    "finetune": {"max_steps": 20, "eval_every": 2, "patience": 5, "n_estimators": 2, "n_estimators_eval": 4},
    "generators": {"causalmix": {"n_bootstrap": 3, "n_dags": 2, "max_features": 10}},
}

METRICS = ("roc_auc", "accuracy", "log_loss")


def default_sizes(n_rows: int, candidates: Sequence[int] = (64, 128, 256)) -> list[int]:
    """Training sizes for a dataset of ``n_rows`` rows: the low-data grid's sizes that leave at least
    half of the rows for validation and test; a dataset too small for 64 gets one size, a third of
    its rows (at least 8)."""
    sizes = [n for n in candidates if 2 * n <= n_rows]
    return sizes or [max(8, n_rows * 2 // 5)]


def compare_config(dataset: str, *, out_dir: str | Path, n_train: Sequence[int], methods: Sequence[str] | None = None,
                   seeds: Sequence[int] | None = None, finetune: Mapping[str, Any] | None = None,
                   generators: Mapping[str, Mapping[str, Any]] | None = None, test_cap: int | None = None,
                   model: str | None = None, device: str = "auto", threads: int | None = 1) -> dict[str, Any]:
    """The sweep configuration :func:`compare` runs (a mapping :class:`~causalmix.sweep_config.SweepConfig`
    validates): :data:`DEFAULTS` where an argument is None; ``finetune`` and ``generators`` update
    the defaults key by key."""
    gens = {k: dict(v) for k, v in DEFAULTS["generators"].items()}
    for k, v in (generators or {}).items():
        gens[k] = {**gens.get(k, {}), **dict(v)}
    methods = list(methods or DEFAULTS["methods"])
    return {
        "name": f"{dataset}-compare",
        "model": model or DEFAULT_MODEL,
        "device": device,
        "datasets": [dataset],
        "n_train": [int(n) for n in n_train],
        "n_val": None,
        "seeds": [int(s) for s in (DEFAULTS["seeds"] if seeds is None else seeds)],
        "methods": methods,
        "test_cap": int(DEFAULTS["test_cap"] if test_cap is None else test_cap),
        "finetune": {**DEFAULTS["finetune"], **dict(finetune or {})},
        "generators": {k: v for k, v in gens.items() if k in methods},
        "domain_shift": [],
        "threads": threads,
        "out_dir": str(Path(out_dir).resolve()),
    }


def write_config(config: Mapping[str, Any], path: str | Path, *, data_dir: str | Path | None = None) -> Path:
    """Write ``config`` as the YAML a sweep reads, with a header saying how to rerun it."""
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    env = f"CAUSALMIX_DATA_DIR={Path(data_dir).resolve()} " if data_dir else ""
    header = (f"# Written by `causalmix compare`: the per-dataset comparison of {', '.join(config['datasets'])}.\n"
              f"# Rerun or extend it (finished runs are reused):\n#   {env}causalmix sweep {path}\n"
              f"#   {env}causalmix compare {config['datasets'][0]} --out {Path(config['out_dir'])}\n")
    path.write_text(header + yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=None))
    return path


# --- statistics ---------------------------------------------------------------------------------


def seed_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of per-seed values with its Student-t interval (NaN bounds with fewer than two seeds).

    >>> iv = seed_interval([1.0, 2.0, 3.0]); round(iv.estimate, 3), round(iv.low, 3), round(iv.high, 3)
    (2.0, -0.484, 4.484)
    """
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if not len(x):
        return Interval(float("nan"), float("nan"), float("nan"), level, 0)
    mean = float(x.mean())
    if len(x) < 2:
        return Interval(mean, float("nan"), float("nan"), level, len(x))
    half = float(stats.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return Interval(mean, mean - half, mean + half, level, len(x))


def _paired(records: pd.DataFrame, metric: str = "roc_auc") -> pd.DataFrame:
    """One row per fine-tuning run (ok, in-domain): ``improvement`` over the pre-trained model on its
    split (percent) and ``vs_finetune``: that minus default fine-tuning's on the same split."""
    ok = records[(records["status"] == "ok") & records["domain"].isna()] if "domain" in records else \
        records[records["status"] == "ok"]
    runs = improvement_frame(ok, f"test_{metric}")
    keys = ["dataset", "n_train", "seed"]
    ft = runs[runs["method"] == "finetune"][keys + ["improvement"]].rename(columns={"improvement": "ft_improvement"})
    runs = runs.merge(ft, on=keys, how="left")
    runs["vs_finetune"] = runs["improvement"] - runs["ft_improvement"]
    return runs


def _method_order(methods) -> list[str]:
    return sorted(set(methods), key=_method_sort_key)


def comparison_table(records: pd.DataFrame, *, metric: str = "roc_auc") -> pd.DataFrame:
    """Per (method, n_train): seeds, mean test ROC-AUC / accuracy / log-loss, and the paired
    differences with 95 % intervals over seeds (strings ``+1.23 [+0.40, +2.10]``) plus their numbers
    (``*_mean``, ``*_low``, ``*_high``)."""
    ok = records[records["status"] == "ok"]
    if "domain" in ok:
        ok = ok[ok["domain"].isna()]
    paired = _paired(records, metric)
    rows = []
    for method in _method_order(ok["method"]):
        for n in sorted(ok.loc[ok["method"] == method, "n_train"].unique()):
            runs = ok[(ok["method"] == method) & (ok["n_train"] == n)]
            row: dict[str, Any] = {"method": method_label(method), "n_train": int(n), "seeds": int(runs["seed"].nunique())}
            for m in METRICS:
                row[f"test {m}"] = float(runs[f"test_{m}"].mean())
            p = paired[(paired["method"] == method) & (paired["n_train"] == n)]
            for col, label in (("improvement", f"vs pre-trained (% {metric})"), ("vs_finetune", "vs default FT (pp)")):
                if method == "pretrained" or (col == "vs_finetune" and method == "finetune"):
                    row[label] = "–"
                    iv = Interval(float("nan"), float("nan"), float("nan"))
                else:
                    iv = seed_interval(p.groupby("seed")[col].mean().tolist())
                    row[label] = iv.format(2)
                row.update({f"{col}_mean": iv.estimate, f"{col}_low": iv.low, f"{col}_high": iv.high})
            rows.append(row)
    return pd.DataFrame(rows)


def answers(records: pd.DataFrame, *, metric: str = "roc_auc", dataset: str | None = None) -> list[dict[str, Any]]:
    """One answer per fine-tuning method, pooled over training sizes: per seed the mean over the
    sizes of the paired difference, then the interval over seeds; a verdict for "improves on the
    pre-trained model" and, except for default fine-tuning itself, for "improves more than default
    fine-tuning" (:func:`~causalmix.report.verdicts.direction_verdict`, the book's vocabulary)."""
    paired = _paired(records, metric)
    name = dataset or (", ".join(sorted(records["dataset"].unique())) if len(records) else "?")
    out = []
    for method in _method_order(paired["method"]):
        runs = paired[paired["method"] == method]
        vs_pre = seed_interval(runs.groupby("seed")["improvement"].mean().tolist())
        vs_ft = None if method == "finetune" else seed_interval(runs.groupby("seed")["vs_finetune"].mean().tolist())
        verdict_pre = direction_verdict(vs_pre, ">")
        verdict_ft = None if vs_ft is None else direction_verdict(vs_ft, ">")
        line = (f"{method_label(method)} on {name}: {vs_pre.format(2, ' %')} {metric} vs the pre-trained model "
                f"({vs_pre.n_clusters} seeds) — {verdict_pre}")
        if vs_ft is not None:
            line += f"; vs default fine-tuning {vs_ft.format(2, ' pp')} — {verdict_ft}"
        out.append({"method": method, "label": method_label(method), "vs_pretrained": vs_pre,
                    "verdict_pretrained": verdict_pre, "vs_finetune": vs_ft, "verdict_finetune": verdict_ft,
                    "line": line})
    return out


VERDICT_NOTE = ("Verdicts (the book's vocabulary, for a claim without a paper value): supported = the 95 % interval "
                "over seeds lies above 0; contradicted = it lies below 0; inconclusive = it contains 0; not run = "
                "no runs. Intervals are Student-t over seeds (each seed is a new split of this dataset), so they "
                "speak about this dataset only.")


# --- figures and the HTML report --------------------------------------------------------------


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue().encode()).decode()


def plot_scores(table: pd.DataFrame, metric: str = "roc_auc"):
    """Mean test score per method against the training size."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, rows in table.groupby("method", sort=False):
        ax.plot(rows["n_train"], rows[f"test {metric}"], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(table["n_train"].unique()), [str(n) for n in sorted(table["n_train"].unique())])
    ax.set_xlabel("training rows (n_train)")
    ax.set_ylabel(f"test {metric} (mean over seeds)")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return fig


def plot_differences(table: pd.DataFrame, column: str = "improvement", ylabel: str = "improvement over pre-trained (%)"):
    """The paired difference per method and training size with its 95 % interval over seeds."""
    import matplotlib.pyplot as plt

    rows = table[np.isfinite(table[f"{column}_mean"])]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    sizes = sorted(rows["n_train"].unique())
    labels = list(dict.fromkeys(rows["method"]))
    width = 0.8 / max(1, len(labels))
    for i, label in enumerate(labels):
        r = rows[rows["method"] == label].set_index("n_train").reindex(sizes)
        x = np.arange(len(sizes)) + (i - (len(labels) - 1) / 2) * width
        low = (r[f"{column}_mean"] - r[f"{column}_low"]).fillna(0).to_numpy()
        high = (r[f"{column}_high"] - r[f"{column}_mean"]).fillna(0).to_numpy()
        ax.errorbar(x, r[f"{column}_mean"], yerr=[low, high], fmt="o", capsize=3, label=label)
    ax.axhline(0, color="grey", lw=1, ls="--")
    ax.set_xticks(np.arange(len(sizes)), [str(n) for n in sizes])
    ax.set_xlabel("training rows (n_train)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3, axis="y")
    return fig


def write_html(path: str | Path, *, table: pd.DataFrame, lines: Sequence[dict[str, Any]], config: Mapping[str, Any],
               notes: Sequence[str] = (), metric: str = "roc_auc") -> Path:
    """A self-contained HTML page (no network): the answers, the table, two figures and the settings."""
    import yaml

    shown = table[[c for c in table.columns if not c.endswith(("_mean", "_low", "_high"))]]
    figures = []
    if not table.empty:
        figures.append(("Mean test score per method against the training size (mean over seeds).",
                        _svg(plot_scores(table, metric))))
        if np.isfinite(table["improvement_mean"]).any():
            figures.append((f"Normalized {metric} improvement over the pre-trained model on the same split, "
                            "with 95 % intervals over seeds.", _svg(plot_differences(table))))
        if np.isfinite(table["vs_finetune_mean"]).any():
            figures.append(("Difference to default fine-tuning's improvement on the same split (percentage points), "
                            "with 95 % intervals over seeds.",
                            _svg(plot_differences(table, "vs_finetune", "vs default fine-tuning (pp)"))))
    dataset = ", ".join(config.get("datasets", []))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>CausalMixFT on {html.escape(dataset)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:0.2em 0.5em;text-align:right}"
        "figure{margin:1em 0}pre{background:#f6f6f6;padding:0.6em;overflow-x:auto}</style></head><body>",
        f"<h1>Does fine-tuning with augmentation help on {html.escape(dataset)}?</h1>",
        "<h2>Answers</h2><ul>",
        *[f"<li>{html.escape(a['line'])}</li>" for a in lines],
        "</ul>",
        f"<p><small>{html.escape(VERDICT_NOTE)}</small></p>",
        "<h2>Per method and training size</h2>",
        shown.to_html(index=False, float_format=lambda v: f"{v:.4f}", border=0),
        *[f"<figure><img alt='{html.escape(cap)}' src='data:image/svg+xml;base64,{svg}' style='max-width:100%'>"
          f"<figcaption>Figure {i}. {html.escape(cap)}</figcaption></figure>" for i, (cap, svg) in enumerate(figures, 1)],
        *[f"<p>{html.escape(n)}</p>" for n in notes],
        "<h2>Settings</h2><pre>", html.escape(yaml.safe_dump(dict(config), sort_keys=False)), "</pre>",
        "</body></html>",
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path


# --- the command --------------------------------------------------------------------------------


@dataclasses.dataclass
class CompareResult:
    """What :func:`compare` made: the configuration (and its YAML), the plan, the sweep's summary,
    the table, the answers and the HTML report."""

    config: dict[str, Any]
    config_path: Path
    data_dir: Path | None
    plan: Any
    summary: Any = None
    table: pd.DataFrame | None = None
    answers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    report: Path | None = None
    ignored: int = 0

    def __str__(self) -> str:
        if self.table is None:
            return str(self.plan)
        shown = self.table[[c for c in self.table.columns if not c.endswith(("_mean", "_low", "_high"))]]
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            lines = [shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"), ""]
        lines += [a["line"] for a in self.answers]
        lines.append("")
        lines.append(VERDICT_NOTE)
        if self.ignored:
            lines.append(f"{self.ignored} records in {self.config['out_dir']} outside this configuration were ignored.")
        lines.append(f"report: {self.report}")
        lines.append(f"configuration: {self.config_path}" +
                     (f" (datasets from CAUSALMIX_DATA_DIR={self.data_dir})" if self.data_dir else ""))
        return "\n".join(lines)


def results_of(config: Mapping[str, Any], *, metric: str = "roc_auc") -> tuple[pd.DataFrame, list[dict[str, Any]], int]:
    """``(table, answers, ignored)`` from the records under the configuration's ``out_dir``: only the
    configuration's own runs (:func:`causalmix.report.in_sweep`); ``ignored`` counts the others."""
    records = load_records(config["out_dir"])
    if records.empty:
        return pd.DataFrame(), [], 0
    mine = in_sweep(records, config)
    return comparison_table(mine, metric=metric), answers(mine, metric=metric, dataset=config["datasets"][0]), \
        len(records) - len(mine)


def compare(data: str | Path, *, target: str | None = None, name: str | None = None, out_dir: str | Path | None = None,
            data_dir: str | Path | None = None, n_train: Sequence[int] | None = None, methods: Sequence[str] | None = None,
            seeds: Sequence[int] | None = None, finetune: Mapping[str, Any] | None = None,
            generators: Mapping[str, Mapping[str, Any]] | None = None, test_cap: int | None = None,
            model: str | None = None, device: str = "auto", jobs: int = 1, plan_only: bool = False,
            progress: bool = True, metric: str = "roc_auc", echo=print) -> CompareResult:
    """Add ``data`` (a CSV/parquet file, with ``target``; or a dataset name) to ``data_dir``, run the
    comparison under ``out_dir`` and write ``out_dir/report.html``.

    Relative folders are taken from the working folder. Defaults: ``out_dir`` = ``compare-<name>``,
    ``data_dir`` = ``<out_dir>/data``; sizes :func:`default_sizes`; the rest :data:`DEFAULTS`.
    Nothing outside ``out_dir`` and ``data_dir`` is written. ``plan_only`` stops after the plan.
    """
    is_file = Path(str(data)).suffix.lower() in {".csv", ".gz", ".parquet", ".pq"} or Path(str(data)).is_file()
    previous_env = os.environ.get(DATA_DIR_ENV)
    if is_file:
        if not target:
            raise ValueError(f"{data} is a file: name its label column (--target COLUMN).")
        name = name or sanitize_name(Path(str(data)).name.split(".")[0])
        out = Path(out_dir or f"compare-{name}").resolve()
        folder = Path(data_dir or out / "data").resolve()
        ds = add_dataset(data, target=target, data_dir=folder, name=name)
        name = ds.name
        echo(f"dataset {name!r}: {len(ds.X)} rows, {ds.X.shape[1]} features, classes {list(ds.classes)}; "
             f"added to {folder}")
        os.environ[DATA_DIR_ENV] = str(folder)
    else:
        folder = Path(previous_env).resolve() if previous_env else None
        ds = load_dataset(str(data))
        name = ds.name
        out = Path(out_dir or f"compare-{name}").resolve()
    try:
        sizes = list(n_train) if n_train else default_sizes(len(ds.X))
        cfg = compare_config(name, out_dir=out, n_train=sizes, methods=methods, seeds=seeds, finetune=finetune,
                             generators=generators, test_cap=test_cap, model=model, device=device)

        load_config(cfg)  # validate (keys, types, generator parameters) before writing more
        config_path = write_config(cfg, out / f"{cfg['name']}.yaml", data_dir=folder if is_file else None)
        plan = plan_sweep(cfg, jobs=jobs)
        result = CompareResult(cfg, config_path, folder, plan)
        echo(f"settings: n_train {cfg['n_train']}" + ("" if n_train else " (default: sizes leaving half the rows "
             "for validation and test)") + f", seeds {cfg['seeds']}, methods {cfg['methods']}, test_cap "
             f"{cfg['test_cap']}, fine-tuning {cfg['finetune']}; written to {config_path}")
        echo(str(plan))
        minutes = float(plan.table["est_hours"].sum()) * 60
        if minutes == minutes:
            echo(f"estimate: about {minutes:.1f} min of compute, {minutes / jobs:.1f} min with --jobs {jobs}")
        if plan_only:
            return result
        result.summary = run_sweep(cfg, jobs=jobs, progress=progress)
        echo(str(result.summary))
        result.table, result.answers, result.ignored = results_of(cfg, metric=metric)
        notes = [f"{result.summary.n_failed} runs failed: see `causalmix results {out}`."] if result.summary.n_failed else []
        if result.table is not None and not result.table.empty:
            result.report = write_html(out / "report.html", table=result.table, lines=result.answers, config=cfg,
                                       notes=notes, metric=metric)
        return result
    finally:
        if is_file:
            if previous_env is None:
                os.environ.pop(DATA_DIR_ENV, None)
            else:
                os.environ[DATA_DIR_ENV] = previous_env


def answers_json(result: CompareResult) -> str:
    """The answers as JSON (intervals as ``[estimate, low, high]``)."""
    def iv(x):
        return None if x is None else [x.estimate, x.low, x.high]

    return json.dumps([{**{k: v for k, v in a.items() if k not in ("vs_pretrained", "vs_finetune")},
                        "vs_pretrained": iv(a["vs_pretrained"]), "vs_finetune": iv(a["vs_finetune"])}
                       for a in result.answers], indent=1)


assert set(VERDICTS) >= {"supported", "contradicted", "inconclusive", "not run"}
