"""Configurations, run records and their provenance: what every table and figure is built from."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.provenance import git_commit
from causalmix.report.paper import _method_sort_key, method_label
from causalmix.sweep_config import CONFIG_DIR, expand_config, resolve_config  # noqa: F401 - CONFIG_DIR: part of this module's API
from causalmix.sweep_config import load_config as load_sweep_config

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_config(config: str | Path) -> dict[str, Any]:
    """The sweep configuration as :class:`causalmix.sweep_config.SweepConfig` validates and completes
    it (``out_dir`` defaults to ``results/<name>``), as a dict."""
    return load_sweep_config(resolve_config(config)).to_dict()


def results_dir(config: str | Path, out_dir: str | Path | None = None) -> Path:
    """Where a configuration's run records live: ``out_dir``, else the config's, else ``results/<name>``.

    Relative paths are taken from the working folder, as on the command line (``causalmix sweep``,
    ``causalmix results``); the book's notebooks run in the repository root (:mod:`causalmix.reproduce`).
    """
    if out_dir is None:
        cfg = load_config(config)
        out_dir = cfg.get("out_dir") or f"results/{cfg['name']}"
    path = Path(out_dir).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


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
    from causalmix.experiment import load_curves, load_records
    from causalmix.publish import load_published, uses_published

    if uses_published(config, out_dir):
        return load_published(config)
    where = results_dir(config, out_dir)
    if not (where / "records").is_dir() or not any((where / "records").iterdir()):
        raise FileNotFoundError(
            f"No run records under {where}/records. Run the sweep first: notebook 02_benchmark, "
            f"`make notebooks CONFIG={config}` or `causalmix sweep {config}`."
        )
    records = load_records(where)
    curves = load_curves(where, records)
    if current:
        n_all = len(records)
        records = with_current_settings(current_records(records, load_config(config)["model"]), config)
        records.attrs["ignored"] = n_all - len(records)
        curves = curves[curves["run_id"].isin(records["run_id"])] if "run_id" in curves else curves
    return records, curves


def with_current_settings(records: pd.DataFrame, config: str | Path | Mapping[str, Any]) -> pd.DataFrame:
    """The records made with the configuration's current settings (model, fine-tuning, generator,
    test cap, variants), data, weights and result version: a record is kept when the run of its own
    dataset, training size, seed, validation size and domain under the configuration's settings has
    its run id. Records of an earlier sweep with other settings in the same folder are left out; runs
    outside the grid made with the same settings (the low-resource extension) are kept
    (:func:`in_sweep` keeps the grid only). ``attrs["ignored"]`` counts those left out.

    Published records (with a ``part``) are returned as they are: their settings are checked at load."""
    if records.empty or "part" in records or "spec" not in records:
        return records
    from causalmix.runs import RunSpec
    from causalmix.sweep_config import load_config as sweep_config

    cfg = sweep_config(config if isinstance(config, Mapping) else resolve_config(config))
    common = dict(model=cfg.model, device=cfg.device, test_cap=cfg.test_cap)
    keep = []
    for rec in records.itertuples(index=False):
        try:
            spec = json.loads(rec.spec) if isinstance(rec.spec, str) else dict(rec.spec or {})
            name = spec.get("variant") or spec["method"]
            variant = cfg.variants.get(name)
            method = variant["method"] if variant else name
            generator = {**(cfg.generators.get(method) or {}), **((variant or {}).get("generator") or {})}
            finetune = {**cfg.finetune, **((variant or {}).get("finetune") or {})}
            mine = RunSpec(dataset=spec["dataset"], n_train=spec["n_train"], seed=spec["seed"], n_val=spec.get("n_val"),
                           domain=spec.get("domain"), target=spec.get("target"), method=method,
                           variant=name if variant else None, generator=generator, finetune=finetune, **common)
            keep.append(mine.run_id == rec.run_id)
        except Exception:  # noqa: BLE001 - a record this configuration cannot describe is not one of its runs
            keep.append(False)
    kept = records[keep]
    kept.attrs["ignored"] = len(records) - len(kept)
    return kept


def ignored_text(records: pd.DataFrame) -> str:
    """``"(N other records in the folder ignored: other settings, code or weights)"``, or ``""``."""
    n = int(records.attrs.get("ignored", 0) or 0)
    return f"({n} other records in the folder ignored: other settings, model weights or result version)" if n else ""


def current_records(records: pd.DataFrame, model: str) -> pd.DataFrame:
    """The records made by ``model``'s current weights (sha256) and the current result version
    (:data:`causalmix.runs.RESULT_VERSION`): the only ones a page may mix (run ids cover the rest of
    what determines a run)."""
    from causalmix.model import model_fingerprint
    from causalmix.runs import RESULT_VERSION

    version = records["result_version"] if "result_version" in records else pd.Series(math.nan, index=records.index)
    keep = (records["model"] == str(model)) & (version == RESULT_VERSION)
    if "model_sha256" in records:
        sha = model_fingerprint(model)
        keep &= records["model_sha256"].fillna(sha) == sha
    return records[keep]


def in_sweep(records: pd.DataFrame, config: str | Path | Mapping[str, Any]) -> pd.DataFrame:
    """The records of the configuration's own grid (datasets × n_train × seeds × methods and its
    domain-shift blocks) made by the current code, data and weights (run ids cover them), leaving
    out extra runs that share the folder, such as the low-resource extension of notebook 02.
    Published records say which grid they belong to (their ``part``, fixed at publication)."""
    if "part" in records:
        return records[records["part"] != "extra"]
    ids = {spec.run_id for spec in expand_config(config if isinstance(config, Mapping) else resolve_config(config))}
    return records[records["run_id"].isin(ids)]


def _with_methods_and_seeds(cfg: dict[str, Any], methods: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    """``cfg`` on other methods and seeds, its ``seeds_by_method`` kept for the methods that remain,
    on the seeds that remain (a method left with none of its seeds is dropped)."""
    seeds = [int(s) for s in seeds]
    by_method = {m: [s for s in v if s in seeds] for m, v in (cfg.get("seeds_by_method") or {}).items() if m in methods}
    return {**cfg, "methods": [m for m in methods if by_method.get(m, True)], "seeds": seeds,
            "seeds_by_method": {m: v for m, v in by_method.items() if v}}


def low_resource_config(config: str | Path, *, dataset: str, n_train: Sequence[int], seeds: Sequence[int],
                        methods: Sequence[str]) -> dict[str, Any]:
    """The configuration restricted to one dataset at extra training sizes (no domain shift): the
    low-resource study of notebook 06. Same model, fine-tuning and generator settings, same
    ``out_dir``, so runs it shares with the main grid are recorded once; a method the configuration
    runs on fewer seeds (``seeds_by_method``) keeps them."""
    cfg = _with_methods_and_seeds(load_config(config), list(methods), seeds)
    return {**cfg, "datasets": [dataset], "n_train": [int(n) for n in n_train], "domain_shift": []}


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
        "failed by design": g["error"].apply(lambda e: int(e.fillna("").astype(str).str.contains(
            "fewer than n_train + n_val + 1", regex=False).sum())) if "error" in records else 0,
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
                     "by design": "yes" if "fewer than n_train + n_val + 1" in error else "no", "error": error})
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
                    n_train: Sequence[int] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The ablation sweep of a configuration: its datasets and training sizes (``n_train`` picks
    some; no domain shift), its first seed unless ``seeds`` say otherwise, CausalMixFT as configured plus one variant per value
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
    sweep = {**_with_methods_and_seeds(cfg, ["causalmix", *variants], list(seeds) if seeds else cfg["seeds"][:1]),
             "variants": variants, "domain_shift": [], "out_dir": str(folder),
             "n_train": [int(n) for n in n_train] if n_train else cfg["n_train"]}
    return sweep, labels


def ablation_records(records: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The ablation runs with ``method`` set to their variant's label (so every table of the main
    results applies unchanged)."""
    out = records.copy()
    key = out["variant"].fillna(out["method"]) if "variant" in out else out["method"]
    out["method"] = key.map(labels).fillna(key)
    return out


def published_text(config: str | Path) -> str:
    """Markdown: where the published records of a configuration come from, and this build's
    re-verification of them (or that there was none, e.g. on GitHub Pages without the datasets)."""
    from causalmix.publish import published_dir, read_provenance
    from causalmix.report.page import relative_to_repo

    from causalmix.report.page import source_url
    from causalmix.report.vocabulary import study_counts

    prov = read_provenance(config)
    folder = relative_to_repo(published_dir(config))
    files = " · ".join(f"[{name}]({source_url(f'{folder}/{name}')})" for name in (*prov.get("files", {}), "provenance.json"))
    text = (f"These are the **published records** of the `{prov['configuration']}` configuration "
            f"(`{folder}`: {files}): {study_counts(config).sentence()} Computed on {', '.join(prov['hardware'])}, "
            f"model `{prov['model']}` (sha256 {', '.join(s[:12] for s in prov['model_sha256'])}…), result version "
            f"{', '.join(map(str, prov.get('result_version', ['unknown'])))}, published {prov['published_at']} from "
            f"commit {prov['published_from_commit'][:12]}.\n\n")
    return text + verification_notice(config)


def verification_notice(config: str | Path) -> str:
    """Markdown for the landing and benchmark pages: this build's check of the published records as a
    coloured box — passed (green), FAILED with the runs' names (red), or not run (grey)."""
    import html as _html

    def box(kind: str, title: str, body: str) -> str:
        # HTML, not a MyST directive: notebook outputs are rendered as CommonMark, where a directive is a code block.
        return (f'\n<div class="admonition {kind}"><p class="admonition-title">{title}</p><p>{body}</p></div>\n')

    check = current_check(config)
    if check is None:
        return box("note", "Not re-verified in this build",
                   "It had no shared datasets to recompute runs from (the GitHub Pages build) or skipped the check "
                   "(<code>VERIFY_RUNS=0</code>). <code>make reproduce</code> checks every published record against its "
                   "curve and recomputes a stratified sample of the runs from scratch before it builds the book.")
    if check["ok"] and check["counts"].get("diverged"):
        return box("warning", f"This build's check passed; {check['counts']['diverged']} recomputed run(s) diverged",
                   _html.escape(str(check["summary"])) + " A diverged run agrees at step 0 (same split, weights and "
                   "evaluation), but its generator (CausalMix or TabEBM) turned this CPU's float rounding into other "
                   "synthetic rows, so its curve leaves the published one; on the publishing CPU model it must agree.")
    if check["ok"]:
        return box("tip", "This build's check passed", _html.escape(str(check["summary"])))
    failed = ", ".join(f"<code>{_html.escape(str(run))}</code>" for run in check.get("failed_runs", []))
    return box("error", "This build's check FAILED",
               f"{failed}. {_html.escape(str(check['summary']))} <code>make reproduce</code> exits with an error after "
               "building this book.")


def sample_reach_text(config: str | Path, *, seeds: int = 100) -> str:
    """Markdown: how likely the default check recomputes one given published run (by simulation over
    ``seeds`` sample seeds), and which runs it cannot reach (their recorded time exceeds the budget)."""
    from causalmix.publish import load_published
    from causalmix.verify import DEFAULT_BUDGET_S, draw_probabilities

    records, _ = load_published(config, ("main", "extra", "ablation"))
    ok = records[records["status"] == "ok"].drop_duplicates("run_id")
    p = draw_probabilities(ok, budget_s=DEFAULT_BUDGET_S, seeds=range(seeds))
    out = int((ok["wall_time_s"] > DEFAULT_BUDGET_S).sum())
    return (f"**Reach of the check.** Every one of the {len(ok)} successful records is checked against its curve in "
            f"every build. Of the runs, a default sample (32 runs, {DEFAULT_BUDGET_S:.0f} recorded seconds) recomputes a "
            f"given one with probability {p.mean():.2%} on average (median {p.median():.2%}, at most {p.max():.0%}; "
            f"estimated over {seeds} sample seeds); {out} run(s) whose recorded time exceeds the budget are reached "
            "only by `causalmix verify --all` or a larger `--budget`.")


def machines_table(config: str | Path) -> pd.DataFrame | None:
    """The publishing machines (from the records) beside this build's verifying machine (None
    without a check): CPU, vendor, cores, instruction sets, torch's kernel choice, oneDNN, threads."""
    from causalmix.publish import read_provenance

    check = current_check(config)
    if check is None:
        return None
    prov = read_provenance(config)
    published = prov.get("machine") or {"cpu": ", ".join(prov.get("hardware", [])) or "unknown"}
    here = check.get("machine_details") or {"cpu": check.get("machine", "unknown")}
    rows = {"published runs": published, "this build's check": here}
    keys = ["cpu", "vendor", "cores", "cpu_flags", "torch_cpu_capability", "onednn", "torch_threads", "torch"]
    table = pd.DataFrame({who: {k: (", ".join(v) if isinstance(v, list) else v) for k, v in m.items() if k in keys}
                          for who, m in rows.items()})
    return table.reindex([k for k in keys if k in table.index]).fillna("not recorded").rename_axis("machine")


def current_check(config: str | Path) -> dict[str, Any] | None:
    """This machine's last re-verification of the published records as they are now (None when there
    was none, or it checked an earlier publication)."""
    from causalmix.provenance import file_sha256
    from causalmix.publish import published_dir
    from causalmix.verify import verification_path

    path = verification_path(config)
    check = json.loads(path.read_text()) if path.is_file() else None
    if check is None or check.get("published_sha256") != file_sha256(published_dir(config) / "runs.csv.gz"):
        return None
    return check


def verification_table(config: str | Path) -> pd.DataFrame | None:
    """The runs the last re-verification recomputed (None when there was none for these records)."""
    check = current_check(config)
    if check is None:
        return None
    table = pd.DataFrame(check["runs"]).rename(columns={"max_abs_diff": "largest |difference|"})
    return table.drop(columns=["detail"]).set_index("run_id")
