"""A study's run records as the pages read them (published or from its results folder) and their
provenance: what every table and figure is built from. Which records belong to a study, and its
settings, are :mod:`causalmix.study`'s."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.provenance import REPO_ROOT, git_commit  # noqa: F401 - REPO_ROOT: part of this module's API
from causalmix.publish import load_published, uses_published
from causalmix.records import load_curves, load_records
from causalmix.report.paper import _method_sort_key, method_label
from causalmix.study import (  # noqa: F401 - the study's names the notebooks use through `report`
    ABLATION_FACTORS,
    BASELINE_VARIANT,
    ablation_config,
    current_records,
    in_sweep,
    results_dir,
    settings,
    with_current_settings,
)
from causalmix.sweep_config import CONFIG_DIR, resolve_config  # noqa: F401 - part of this module's API


def load_results(config: str | Path, out_dir: str | Path | None = None, *,
                 current: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(records, curves)`` of a finished sweep (see :mod:`causalmix.experiment`); with ``current``
    only the records the configuration's model, weights and result version make now
    (:func:`current_records`: a folder can also hold records of an earlier model or code).
    A published configuration without an explicit ``out_dir`` gives its published records
    (:func:`causalmix.publish.load_published`, whatever code made them: :mod:`causalmix.verify`
    checks that the current code still does).

    Raises FileNotFoundError, naming the command to run, when the sweep has no records yet.
    """
    if uses_published(config, out_dir):
        return load_published(config)
    where = results_dir(config, out_dir)
    if not (where / "records").is_dir() or not any((where / "records").iterdir()):
        raise FileNotFoundError(
            f"No run records under {where}/records. Run the study first: `causalmix study run {config}` "
            f"(or `make reproduce CONFIG={config}`)."
        )
    records = load_records(where)
    curves = load_curves(where, records)
    if current:
        n_all = len(records)
        records = with_current_settings(current_records(records, settings(config)["model"]), config)
        records.attrs["ignored"] = n_all - len(records)
        curves = curves[curves["run_id"].isin(records["run_id"])] if "run_id" in curves else curves
    return records, curves


def ignored_text(records: pd.DataFrame) -> str:
    """``"(N other records in the folder ignored: other settings, code or weights)"``, or ``""``."""
    n = int(records.attrs.get("ignored", 0) or 0)
    return f"({n} other records in the folder ignored: other settings, model weights or result version)" if n else ""


def ok_runs(records: pd.DataFrame, *, domain: bool | None = False) -> pd.DataFrame:
    """Successful runs; ``domain=False`` keeps the plain low-data runs, ``True`` the domain-shift
    runs, ``None`` both."""
    out = records[records["status"] == "ok"]
    if domain is not None and "domain" in out:
        has_domain = out["domain"].notna() & (out["domain"].astype(str) != "")
        out = out[has_domain if domain else ~has_domain]
    return out.copy()


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
class Provenance:
    """What produced a table or figure."""

    config: str
    models: tuple[str, ...]
    datasets: tuple[str, ...]
    n_runs: int
    commits: tuple[str, ...]
    result_versions: dict[str, int] = dataclasses.field(default_factory=dict)  # result version -> records

    def caption(self, max_datasets: int = 6) -> str:
        """One short provenance line: configuration, model, result version, runs (and datasets) and the
        commit this book was built from. The commits the runs were computed at are listed once, in the
        benchmark page's provenance table (:func:`run_commits_table`), not under every table."""
        names = ", ".join(self.datasets[:max_datasets]) + (", …" if len(self.datasets) > max_datasets else "")
        version = ", ".join(f"{v}" + (f" ({n:,} runs)" if len(self.result_versions) > 1 else "")
                            for v, n in self.result_versions.items()) or "unknown"
        mixed = " · WARNING: records of several result versions" if len(self.result_versions) > 1 else ""
        return (
            f"configuration {self.config} · model {', '.join(self.models) or 'unknown'} · result version {version} · "
            f"{self.n_runs:,} run{'s' if self.n_runs != 1 else ''} on {len(self.datasets)} "
            f"dataset{'s' if len(self.datasets) != 1 else ''} ({names}) · built from git {_build_commit()}{mixed}"
        )


@functools.cache
def _build_commit() -> str:
    """The commit this build runs at (once per process: every caption names it)."""
    return git_commit(short=True)


#: What "-dirty" after a commit means, said once where the commits are listed.
DIRTY_NOTE = ("A commit marked “-dirty” means the run was computed from that commit with uncommitted changes in "
              "tracked files of the checkout (the record keeps the hash of the code that computes results, "
              "`code_hash`, so such runs stay identifiable; the published check recomputes runs of every commit).")


def run_commits_table(records: pd.DataFrame) -> pd.DataFrame:
    """Per git commit the runs were computed at: the runs, their parts, methods and datasets, and the
    code hash of the result-computing code (one table on the benchmark page, not under every table)."""
    if "git_commit" not in records:
        return pd.DataFrame()
    frame = records.assign(git_commit=records["git_commit"].fillna("unknown").astype(str))
    rows = {}
    for commit, group in frame.groupby("git_commit"):
        rows[commit[:12] + ("-dirty" if commit.endswith("dirty") else "")] = {
            "runs": len(group),
            "parts": ", ".join(sorted(group["part"].dropna().astype(str).unique())) if "part" in group else "–",
            "methods": group["method"].nunique(),
            "datasets": group["dataset"].nunique(),
            "code hash": ", ".join(sorted(group["code_hash"].dropna().astype(str).unique())) if "code_hash" in group else "–",
        }
    return pd.DataFrame(rows).T.rename_axis("git commit of the runs").sort_values("runs", ascending=False)


def result_version_counts(records: pd.DataFrame) -> dict[str, int]:
    """Records per result version (``"unknown"``: records made before versions were recorded).

    >>> result_version_counts(pd.DataFrame({"result_version": [1, 1, None]}))
    {'1': 2, 'unknown': 1}
    """
    if "result_version" not in records:
        return {"unknown": len(records)} if len(records) else {}
    versions = records["result_version"].map(lambda v: "unknown" if pd.isna(v) or v == "" else str(int(v)))
    return {str(k): int(n) for k, n in versions.value_counts().items()}


#: A failure that follows from the configuration and the data (not a defect): the dataset is too small.
BY_DESIGN = "fewer than n_train + n_val + 1"


def failed_by_design(records: pd.DataFrame) -> pd.Series:
    """Per record, whether it failed by design (:data:`BY_DESIGN`)."""
    errors = records.get("error", pd.Series("", index=records.index)).fillna("").astype(str)
    return (records["status"] != "ok") & errors.str.contains(BY_DESIGN, regex=False)


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
        result_versions=result_version_counts(records),
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


def sweep_overview(records: pd.DataFrame) -> pd.DataFrame:
    """Runs per method: ok and failed counts, datasets, median wall time and best step."""
    g = records.groupby("method")
    table = pd.DataFrame({
        "runs": g.size(),
        "ok": g["status"].apply(lambda s: int((s == "ok").sum())),
        "failed by design": failed_by_design(records).groupby(records["method"]).sum().astype(int),
        "failed": g["status"].apply(lambda s: int((s != "ok").sum())),
        "datasets": g["dataset"].nunique(),
        "median wall time (s)": g["wall_time_s"].median(),
        "median best step": g["best_step"].median(),
    })
    table["failed"] -= table["failed by design"]  # the vocabulary: "failed" is any other error
    table = table.loc[sorted(table.index, key=_method_sort_key)]
    return table.rename(index=method_label).rename_axis("method")


def failures_table(records: pd.DataFrame) -> pd.DataFrame:
    """The failed runs grouped by dataset, training size and error: one line per group with its count,
    methods and seeds (36 identical failures of one too-small dataset are one line, not 36)."""
    failed = records[records["status"] != "ok"].copy()
    if failed.empty:
        return pd.DataFrame()
    failed["error"] = failed["error"].fillna("").astype(str)
    rows = []
    for (dataset, n_train, error), group in failed.groupby(["dataset", "n_train", "error"], sort=True):
        rows.append({"dataset": dataset, "n_train": int(n_train), "runs": len(group),
                     "methods": group["method"].nunique(), "seeds": group["seed"].nunique(),
                     "by design": "yes" if BY_DESIGN in error else "no", "error": error})
    return pd.DataFrame(rows)


def sweep_summary_text(summary: Any) -> str:
    """A finished sweep's summary (``SweepSummary``: counts, wall time, failure reasons) as markdown."""
    return f"\n\n```text\n{summary}\n```\n"


#: Packages a reader needs to know the versions of (the records keep every version).
KEY_PACKAGES = ("python", "torch", "tabpfn", "dowhy", "causal-learn", "scikit-learn", "numpy", "pandas")


def environment_table(records: pd.DataFrame) -> pd.DataFrame:
    """What a reader needs of where the runs ran: devices, hardware, models, commits, the versions of
    the packages that decide the numbers and the total wall time (the records keep the rest)."""
    rows: dict[str, str] = {}
    for col, label in (("device", "device"), ("hardware", "hardware"), ("model", "model"),
                       ("git_commit", "git commit")):
        if col in records:
            values = sorted({str(v) for v in records[col].dropna()})
            rows[label] = ", ".join(values[:4]) + (f" and {len(values) - 4} more" if len(values) > 4 else "")
    if "versions" in records:
        versions: dict[str, set[str]] = {}
        for entry in records["versions"].dropna():
            entry = json.loads(entry) if isinstance(entry, str) else entry
            for name, version in (entry.items() if isinstance(entry, dict) else []):
                versions.setdefault(str(name), set()).add(str(version))
        for name in [n for n in KEY_PACKAGES if n in versions]:
            rows[name] = ", ".join(sorted(versions[name]))
    return pd.DataFrame({"value": rows}).rename_axis("recorded")


def ablation_records(records: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The ablation runs with ``method`` set to their variant's label (so every table of the main
    results applies unchanged)."""
    out = records.copy()
    key = out["variant"].fillna(out["method"]) if "variant" in out else out["method"]
    out["method"] = key.map(labels).fillna(key)
    return out
