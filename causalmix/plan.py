"""What a sweep would do, before it runs: per method and dataset the runs in total, recorded, failed and
to run, and an estimate of the hours (the cost model of :mod:`causalmix.costs`, else measured run times).

    causalmix study plan quick        # per part of a study; `causalmix sweep CONFIG --plan` for one grid
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.costs import plan_estimate
from causalmix.experiment import check_inputs
from causalmix.model import resolve_device
from causalmix.records import load_records, recorded_status
from causalmix.runs import unmatched_records
from causalmix.sweep_config import SweepConfig, expand_config, load_config

__all__ = ["RUN_TIMES", "SweepPlan", "plan_sweep"]


#: Measured seconds per run (median wall time by device, method and n_train), written by
#: ``benchmarks/run_times.py`` from a sweep's records; a GPU machine adds its own rows.
RUN_TIMES = Path(__file__).resolve().with_name("run_times.csv")


@dataclasses.dataclass(frozen=True)
class SweepPlan:
    """What a sweep would do, without doing it: per method and dataset the runs in total, already
    recorded (ok), failed and to run, and an estimate of the hours the runs to do take."""

    name: str
    out_dir: str
    table: pd.DataFrame  # index (method, dataset); columns total, ok, failed, to_run, est_hours
    device: str
    jobs: int
    timing_source: str
    note: str | None = None  # why runs to do have records under other run ids (:func:`unmatched_records`)

    def __str__(self) -> str:
        t = self.table
        hours = t["est_hours"].sum(min_count=1)
        est = "unknown (no timings for these methods on this device)" if pd.isna(hours) else \
            f"{hours:.2f} h of compute, about {hours / self.jobs:.2f} h with --jobs {self.jobs}"
        head = (f"plan of sweep {self.name!r} -> {self.out_dir}: {int(t['total'].sum())} runs, "
                f"{int(t['ok'].sum())} recorded, {int(t['failed'].sum())} failed (retried), "
                f"{int(t['to_run'].sum())} to run; estimate {est} on {self.device} ({self.timing_source})")
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            table = t.to_string(float_format=lambda v: f"{v:.2f}")
            if t.index.get_level_values("dataset").nunique() > 1:  # a long table: its totals per method last
                table += "\n\nby method\n" + t.groupby(level="method").sum(min_count=1).to_string(
                    float_format=lambda v: f"{v:.2f}")
        return head + "\n" + table + (f"\nnote: {self.note}" if self.note else "")


def plan_sweep(config: str | Path | Mapping[str, Any] | SweepConfig, *, out_dir: str | Path | None = None,
               jobs: int = 1, retry_failed: bool = True, timings: str | Path | None = None,
               done_before: frozenset[str] = frozenset(), methods: Sequence[str] | None = None) -> SweepPlan:
    """The plan of :func:`run_sweep` for ``config`` (nothing is run or written).

    On a CPU the estimate prices each run from its own settings (steps, evaluation cadence, test cap,
    ensemble sizes, generator, the dataset's rows and features) with the cost model of
    :mod:`causalmix.costs`, calibrated by this folder's finished runs of the configuration. Elsewhere
    (or for a dataset that cannot be read here) it uses, per method, the median wall time of this
    folder's own records when it has some, else the measured timings file (:data:`RUN_TIMES`; rows
    for the configuration's device), scaled linearly from the nearest measured n_train.
    """
    cfg = load_config(config)
    check_inputs(cfg, to_run=False)
    out = Path(out_dir or cfg.out_dir)
    specs = expand_config(cfg, methods=methods)
    previous = {**recorded_status(out), **dict.fromkeys(done_before, "ok")}  # runs an earlier sweep will record
    device = "cuda" if resolve_device(cfg.device).startswith("cuda") else "cpu"
    measured, source = pd.DataFrame(columns=["method", "n_train", "seconds"]), "no timings"
    path = Path(timings) if timings else RUN_TIMES
    if path.is_file():
        t = pd.read_csv(path)
        measured, source = t[t["device"] == device][["method", "n_train", "seconds"]], f"timings from {path.name}"
    own = load_records(out)
    if not own.empty and (own["status"] == "ok").any():
        ok = own[own["status"] == "ok"]
        mine = ok.groupby(["method", "n_train"])["wall_time_s"].median().rename("seconds").reset_index()
        measured = pd.concat([mine, measured[~measured["method"].isin(mine["method"])]], ignore_index=True)
        source = f"this folder's {len(ok)} records" + (f" and {path.name}" if path.is_file() else "")

    def seconds(method: str, n_train: int) -> float:
        rows = measured[measured["method"] == method]
        if rows.empty:
            return math.nan
        nearest = rows.iloc[(rows["n_train"] - n_train).abs().argsort().iloc[0]]
        return float(nearest["seconds"]) * n_train / float(nearest["n_train"])

    priced, how = plan_estimate(specs, own, device=device, jobs=jobs)  # the runs' own settings (steps, cadence, test cap)
    if any(math.isfinite(v) for v in priced):
        source = how
    rows = []
    for s, est in zip(specs, priced):
        status = previous.get(s.run_id)
        to_run = status is None or (retry_failed and status != "ok")
        est = est if math.isfinite(est) else seconds(s.method, s.n_train)
        rows.append({"method": s.method, "dataset": s.name, "total": 1, "ok": int(status == "ok"),
                     "failed": int(status not in (None, "ok")), "to_run": int(to_run),
                     "est_hours": est / 3600 if to_run else 0.0})
    table = pd.DataFrame(rows).groupby(["method", "dataset"]).sum(min_count=1)
    note = unmatched_records([s for s in specs if s.run_id not in previous], out, previous)
    return SweepPlan(cfg.name, str(out), table, device, jobs, source, note)
