"""Run records on disk: one ``records/<run_id>.json`` (and ``<run_id>.curve.csv``) per run, read back
as tables. A foreign or damaged file in a shared folder is skipped, never executed or trusted.

>>> import tempfile; load_records(tempfile.mkdtemp()).empty
True
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.runs import _METRIC_FIELDS, RunRecord

__all__ = ["load_curves", "load_records", "read_json", "warning_summary"]


def read_json(path: Path) -> dict[str, Any] | None:
    """A record file's mapping; None for one that is unreadable, not JSON or not a mapping (a
    foreign or damaged file in a shared folder is not a record)."""
    try:
        d = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return d if isinstance(d, dict) else None


def load_records(out_dir: str | Path) -> pd.DataFrame:
    """One row per run: the record's scalar fields, ``time_<phase>`` per timing, ``ft_<key>`` and
    ``gen_<key>`` per fine-tuning/generator parameter set in the spec, ``versions``, ``warnings``
    and the whole ``spec`` as JSON text.

    Metric columns are NaN where not measured. Empty frame (with the core columns) when nothing
    was recorded yet.
    """
    rows = []
    for path in sorted((Path(out_dir) / "records").glob("*.json")):
        d = read_json(path)
        if d is None:
            continue
        spec = d.pop("spec", {}) or {}
        row = {k: v for k, v in d.items() if not isinstance(v, (dict, list)) and k != "traceback"}
        row.update({f"time_{k}": v for k, v in (d.get("timings") or {}).items()})
        row.update({f"ft_{k}": v for k, v in (spec.get("finetune") or {}).items()})
        row.update({f"gen_{k}": v for k, v in (spec.get("generator") or {}).items()})
        row["versions"] = json.dumps(d.get("versions") or {}, sort_keys=True)
        row["warnings"] = json.dumps(d.get("warnings") or [], sort_keys=True)
        row["spec"] = json.dumps(spec, sort_keys=True)  # the run's spec, to recompute it (causalmix.verify)
        rows.append(row)
    cols = [f.name for f in dataclasses.fields(RunRecord) if f.name not in ("curve", "versions", "timings", "spec", "traceback")]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    for c in _METRIC_FIELDS + ["wall_time_s"]:
        frame[c] = pd.to_numeric(frame.get(c, np.nan), errors="coerce").astype(float)
    first = [c for c in cols if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def load_curves(out_dir: str | Path, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy curves of every successful run: ``run_id, dataset, method, n_train, seed, domain`` plus
    the curve columns (``step``, ``train_loss``, ``val_*``, ``test_*``, ...). ``records``: the
    folder's :func:`load_records`, when the caller has it already."""
    records = load_records(out_dir) if records is None else records
    frames = []
    root = Path(out_dir) / "records"
    for rec in records.itertuples(index=False):
        path = root / f"{rec.run_id}.curve.csv"
        if rec.status != "ok" or not path.is_file():
            continue
        curve = pd.read_csv(path)
        for i, key in enumerate(("run_id", "dataset", "method", "n_train", "seed", "domain")):
            curve.insert(i, key, getattr(rec, key))
        frames.append(curve)
    if not frames:
        return pd.DataFrame(columns=["run_id", "dataset", "method", "n_train", "seed", "domain", "step"])
    return pd.concat(frames, ignore_index=True)


def warning_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per warning category and message: the runs that raised it and how often, most frequent first."""
    rows = []
    for rec in records.itertuples(index=False):
        for w in json.loads(getattr(rec, "warnings", None) or "[]"):
            rows.append({"category": w["category"], "message": w["message"], "run_id": rec.run_id, "count": w["count"]})
    if not rows:
        return pd.DataFrame(columns=["category", "message", "runs", "count"])
    frame = pd.DataFrame(rows).groupby(["category", "message"]).agg(runs=("run_id", "nunique"), count=("count", "sum"))
    return frame.reset_index().sort_values(["count", "category"], ascending=[False, True], ignore_index=True)
