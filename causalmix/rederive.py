"""A record's selected-step numbers are a pure function of its curve: derive them, check them, re-derive them.

A run records its whole fine-tuning curve (every evaluation's validation and test metrics). What
it reports — the stopping point, the validation-selected step and the metrics there — follows
from that curve by the rules of :mod:`causalmix.selection`. So

- :func:`from_curve` gives those fields for a recorded curve and the run's settings;
- :func:`inconsistent_records` lists published records whose fields do not follow from their
  published curve (a tampered or half-written table; :mod:`causalmix.verify` checks every run);
- :func:`rederive_published` rewrites a published study under the current rules and run identity
  without recomputing any run, when only the selection rule changed (as from result version 0,
  the first publication, to 1: tie-proof selection), and logs the change in its provenance.

>>> curve = pd.DataFrame({"step": [0, 2, 4], "val_roc_auc": [0.7, 0.8, 0.8], "val_log_loss": [0.6, 0.5, 0.5],
...                       "test_roc_auc": [0.71, 0.79, 0.78]})
>>> fields, kept = from_curve(curve, {"patience": 1}, method="finetune")
>>> fields["best_step"], fields["n_steps"], fields["stopped_early"], fields["test_roc_auc"]
(2, 4, True, 0.79)
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.finetune_config import FinetuneConfig
from causalmix.io import atomic_write
from causalmix.provenance import file_sha256, git_commit, machine, result_versions
from causalmix.runs import RESULT_VERSION, RunSpec
from causalmix.selection import EPSILON, selected_step, stopping_index

__all__ = ["CURVE_METRICS", "from_curve", "inconsistent_records", "rederive_published"]

#: Curve columns that become record fields (at the selected step, and ``..._step0``).
CURVE_METRICS = tuple(f"{s}_{m}" for s in ("val", "test", "test_ood")
                      for m in ("roc_auc", "accuracy", "balanced_accuracy", "log_loss"))


def from_curve(curve: pd.DataFrame, finetune: Mapping[str, Any], *, method: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """``(fields, kept_curve)``: ``best_step``, ``n_steps``, ``stopped_early`` and the metrics at the
    selected step and at step 0, for a run of ``method`` with fine-tuning settings ``finetune``;
    ``kept_curve`` is the curve up to where patience runs out (the whole curve if it never does)."""
    config = FinetuneConfig.from_dict({**dict(finetune), "max_steps": 0} if method == "pretrained" else finetune)
    curve = curve.sort_values("step").reset_index(drop=True)
    rule = {"metric": config.early_stopping_metric}
    stop = None if config.max_steps == 0 else stopping_index(curve, patience=config.patience,
                                                             min_delta=config.min_delta, **rule)
    kept = curve if stop is None else curve.iloc[: stop + 1]
    best = selected_step(kept, **rule)
    row, first = kept[kept["step"] == best].iloc[0], kept.iloc[0]
    fields: dict[str, Any] = {"best_step": best, "n_steps": int(kept["step"].iloc[-1]) if config.max_steps else 0,
                              "stopped_early": stop is not None}
    for col in CURVE_METRICS:
        if col in kept:
            fields[col], fields[f"{col}_step0"] = float(row[col]), float(first[col])
    return fields, kept


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return str(a).lower() == str(b).lower()
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


def _curves_by_run(curves: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {run: c for run, c in curves.drop(columns="part", errors="ignore").drop_duplicates(["run_id", "step"])
            .groupby("run_id")}


def inconsistent_records(records: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """The successful records whose selected step, stopping point or metrics are not what their
    curve gives (exactly), or that have no curve: ``run_id`` and ``detail``.

    Cheap (no model is run), so it covers every published run, not a sample.
    """
    by_run, rows = _curves_by_run(curves), []
    for rec in records[records["status"] == "ok"].itertuples(index=False):
        curve = by_run.get(rec.run_id)
        if curve is None:
            rows.append({"run_id": rec.run_id, "detail": "no curve"})
            continue
        fields, kept = from_curve(curve, json.loads(rec.spec)["finetune"], method=rec.method)
        if len(kept) != len(curve):
            rows.append({"run_id": rec.run_id, "detail": f"curve goes on after patience ran out (step {fields['n_steps']})"})
            continue
        bad = [k for k, v in fields.items() if not _same(getattr(rec, k), v)]
        if bad:
            rows.append({"run_id": rec.run_id, "detail": f"{bad[0]} {getattr(rec, bad[0])} recorded, {fields[bad[0]]} "
                                                         f"from its curve" + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else "")})
    return pd.DataFrame(rows, columns=["run_id", "detail"])


def rederive_published(folder: str | Path, *, reason: str) -> dict[str, Any]:
    """Rewrite ``folder/runs.csv.gz``, ``curves.csv.gz`` and ``provenance.json`` under the current
    selection rule and run identity (:data:`causalmix.runs.RESULT_VERSION`), from the published
    curves alone; returns the change log entry added to the provenance (``changes``).

    Refuses when a run's recorded inputs (dataset and weights sha256, package versions) are not
    this environment's: its new run id would then describe another run.
    """
    folder = Path(folder)
    records = pd.read_csv(folder / "runs.csv.gz", low_memory=False, keep_default_na=False, na_values=[""])
    curves = pd.read_csv(folder / "curves.csv.gz", low_memory=False)
    provenance = json.loads((folder / "provenance.json").read_text())
    by_run, new_ids, changed, rows, kept_curves = _curves_by_run(curves), {}, [], [], []
    here = result_versions()
    for rec in records.to_dict("records"):
        spec = RunSpec(**json.loads(rec["spec"]))
        identity = spec.identity()
        recorded = {k: json.loads(rec["versions"]).get(k) for k in here}
        if (identity["dataset_sha256"], identity["model_sha256"], here) != (rec["dataset_sha256"], rec["model_sha256"],
                                                                            recorded):
            raise ValueError(f"{rec['run_id']}: its dataset, weights or package versions are not this environment's; "
                             "re-derive where the study's inputs are installed (CAUSALMIX_DATA_DIR, requirements.lock).")
        old_id, new_id = rec["run_id"], spec.run_id
        new_ids[old_id] = new_id
        rec.update(run_id=new_id, config_hash=spec.config_hash, result_version=RESULT_VERSION)
        if rec["status"] == "ok":
            fields, kept = from_curve(by_run[old_id], spec.finetune, method=spec.method)
            if fields["best_step"] != rec["best_step"] or fields["n_steps"] != rec["n_steps"]:
                changed.append({"run_id": new_id, "best_step": [int(rec["best_step"]), fields["best_step"]],
                                "n_steps": [int(rec["n_steps"]), fields["n_steps"]]})
            rec.update(fields)
            kept_curves.append(kept.assign(run_id=new_id))
        rows.append(rec)
    out = pd.DataFrame(rows, columns=[*records.columns, *(["result_version"] if "result_version" not in records else [])])
    steps = pd.concat(kept_curves, ignore_index=True)[["run_id", "step"]].drop_duplicates()
    curves = curves.assign(run_id=curves["run_id"].map(new_ids)).merge(steps, on=["run_id", "step"])
    unique_changes = {c["run_id"]: c for c in changed}
    entry = {
        "at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": git_commit(),
        "machine": machine(),
        "result_version": RESULT_VERSION, "what": reason, "recomputed_runs": 0,
        "selection_epsilon": EPSILON, "runs_with_other_selected_step": sum(
            c["best_step"][0] != c["best_step"][1] for c in unique_changes.values()),
        "runs_stopped_earlier": sum(c["n_steps"][0] != c["n_steps"][1] for c in unique_changes.values()),
        "changed": sorted(unique_changes.values(), key=lambda c: c["run_id"]),
    }
    gz = {"method": "gzip", "mtime": 0}
    atomic_write(folder / "runs.csv.gz", lambda p: out.sort_values("run_id").to_csv(p, index=False, compression=gz))
    atomic_write(folder / "curves.csv.gz", lambda p: curves.sort_values(["run_id", "part", "step"]).to_csv(
        p, index=False, compression=gz))
    provenance.update(result_version=[RESULT_VERSION], changes=[*provenance.get("changes", []), entry],
                      files={name: file_sha256(folder / name) for name in ("runs.csv.gz", "curves.csv.gz")})
    atomic_write(folder / "provenance.json", lambda p: p.write_text(json.dumps(provenance, indent=1) + "\n"))
    return entry

