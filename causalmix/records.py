"""A run's record: what it holds (:class:`RunRecord`) and how it is kept on disk — one
``records/<run_id>.json`` (and ``<run_id>.curve.csv``) per run, each written atomically, read back
as tables. A foreign or damaged file in a shared folder is skipped, never executed or trusted.

>>> import tempfile; load_records(tempfile.mkdtemp()).empty
True
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.data import safe_path
from causalmix.io import atomic_write

__all__ = ["BASELINE_FIELDS", "METRIC_FIELDS", "METRIC_NAMES", "TEST_SETS", "RecordNotWritten", "RunRecord",
           "check_writable", "load_curves", "load_records", "read_json", "recorded_status", "warning_summary",
           "write_record"]

TEST_SETS = ("test", "test_ood")
METRIC_NAMES = ("roc_auc", "accuracy", "balanced_accuracy", "log_loss")


BASELINE_FIELDS = ("test_majority_accuracy", "test_ood_majority_accuracy")
METRIC_FIELDS = [
    f"{s}_{m}{suffix}" for suffix in ("", "_step0") for s in ("val", *TEST_SETS) for m in METRIC_NAMES
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRecord:
    """Everything a run produced: the :class:`~causalmix.finetuning.FinetuneResult`, the warnings
    it raised, and provenance.

    Metric fields ``{val,test,test_ood}_{roc_auc,accuracy,balanced_accuracy,log_loss}`` are at the best validation
    step, ``..._step0`` the pre-trained model on the same split (NaN when not measured, e.g.
    ``test_ood_*`` outside domain-shift runs or any metric of a failed run). ``warnings`` lists
    ``{"category", "message", "count"}`` of every warning raised during the run (generator
    fit included). ``generator_cached`` is False for every run that fits a generator (fits are no
    longer cached; True in older records). ``attempts`` counts executions (failed runs are retried).
    ``curve`` is kept out of :meth:`to_dict` and stored beside the record.
    """

    run_id: str
    dataset: str
    n_train: int
    n_val: int | None
    seed: int
    method: str
    model: str
    domain: str | None
    status: str  # "ok" | "failed"
    variant: str | None = None
    error: str | None = None
    attempts: int = 1
    best_step: int | None = None
    n_steps: int | None = None
    stopped_early: bool | None = None
    learning_rate: float | None = None
    n_estimators: int | None = None
    n_estimators_eval: int | None = None
    n_features_used: int | None = None
    wall_time_s: float = math.nan
    cpu_time_s: float = math.nan  # process CPU seconds, all threads (NaN in records made before it was kept)
    config_hash: str = ""
    result_version: int | None = None
    code_hash: str = ""  # the source hash of RESULT_MODULES: provenance, not identity
    dataset_sha256: str | None = None
    model_sha256: str | None = None
    git_commit: str = "unknown"
    device: str | None = None
    hardware: str = ""
    n_params: int | None = None
    generator_cached: bool | None = None
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    warnings: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    spec: dict[str, Any] = dataclasses.field(default_factory=dict)
    traceback: str | None = None
    curve: pd.DataFrame | None = dataclasses.field(default=None, compare=False, repr=False)
    # test-set sizes and the majority-class baseline's accuracy (the training set's most frequent class)
    n_test: int | None = None
    n_test_ood: int | None = None
    test_majority_accuracy: float = math.nan
    test_ood_majority_accuracy: float = math.nan
    # metrics at the best validation step, then at step 0
    val_roc_auc: float = math.nan
    val_accuracy: float = math.nan
    val_balanced_accuracy: float = math.nan
    val_log_loss: float = math.nan
    test_roc_auc: float = math.nan
    test_accuracy: float = math.nan
    test_balanced_accuracy: float = math.nan
    test_log_loss: float = math.nan
    test_ood_roc_auc: float = math.nan
    test_ood_accuracy: float = math.nan
    test_ood_balanced_accuracy: float = math.nan
    test_ood_log_loss: float = math.nan
    val_roc_auc_step0: float = math.nan
    val_accuracy_step0: float = math.nan
    val_balanced_accuracy_step0: float = math.nan
    val_log_loss_step0: float = math.nan
    test_roc_auc_step0: float = math.nan
    test_accuracy_step0: float = math.nan
    test_balanced_accuracy_step0: float = math.nan
    test_log_loss_step0: float = math.nan
    test_ood_roc_auc_step0: float = math.nan
    test_ood_accuracy_step0: float = math.nan
    test_ood_balanced_accuracy_step0: float = math.nan
    test_ood_log_loss_step0: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field but ``curve`` (NaN as ``None``)."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name == "curve":
                continue
            v = getattr(self, f.name)
            out[f.name] = None if isinstance(v, float) and math.isnan(v) else v
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], curve: pd.DataFrame | None = None) -> RunRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in (*METRIC_FIELDS, *BASELINE_FIELDS, "wall_time_s", "cpu_time_s"):
            if kw.get(k, 0) is None:
                kw[k] = math.nan
        return cls(**kw, curve=curve)


# --- warnings as data ---------------------------------------------------------------------------


def check_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed and prove a file can be written there, before any computation."""
    folder = Path(folder)
    probe = folder / f".causalmix-write-check-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"The results folder {folder} is not writable ({type(err).__name__}: {err.strerror or err}). "
                         f"Choose another folder (--out) or fix its permissions; nothing was computed.") from None
    return folder


class RecordNotWritten(OSError):
    """A run was computed but its record could not be written (a full disk): the record is attached,
    so the caller can show it rather than lose the run."""

    def __init__(self, record: RunRecord, out: Path, err: OSError):
        super().__init__(f"run {record.run_id} was computed ({record.status}) but its record could not be written "
                         f"under {out / 'records'}: {err.strerror or err}. Free space (or choose another --out) and "
                         "rerun; the record follows on standard output.")
        self.record = record


def write_record(record: RunRecord, out_dir: str | Path) -> Path:
    """Write ``records/<run_id>.curve.csv`` then ``records/<run_id>.json``, each atomically.

    The JSON is written last: its existence marks a finished run.
    """
    records = Path(out_dir) / "records"
    if record.curve is not None:
        atomic_write(safe_path(records, f"{record.run_id}.curve.csv"), lambda p: record.curve.to_csv(p, index=False))
    path = safe_path(records, f"{record.run_id}.json")
    atomic_write(path, lambda p: p.write_text(json.dumps(record.to_dict(), indent=1, sort_keys=True, default=str)))
    return path


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
    for c in METRIC_FIELDS + ["wall_time_s", "cpu_time_s"]:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float) if c in frame else np.nan
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


def recorded_status(out: Path) -> dict[str, str]:
    """run_id -> status of the records already under ``out``."""
    done = {}
    for path in (out / "records").glob("*.json"):
        d = read_json(path)
        if d is not None:
            done[path.name[: -len(".json")]] = d.get("status", "failed")
    return done
