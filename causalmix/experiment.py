"""Sweeps: a YAML configuration becomes runs, executed resumably, locally in parallel.

One run (its spec, identity, execution and record) is :mod:`causalmix.runs`; a configuration and
its runs are :mod:`causalmix.sweep_config`; this module executes the runs that need it:

- records are JSON files written atomically (write, then rename) under ``out_dir/records/``, the
  curve of each run beside it as ``<run_id>.curve.csv`` (written first); a run whose record is
  ``ok`` is skipped, so a killed sweep restarts where it stopped and loses nothing finished;
- a failed run is recorded with ``status="failed"`` and its error, the sweep goes on, and the
  next sweep retries it (``attempts`` counts executions; ``retry_failed=False`` keeps it);
- fitted generators are cached under ``out_dir/generators/`` keyed by the split and the
  generator's identity, so the SCM is fitted once per split, not once per run;
- ``jobs > 1`` runs in parallel local processes (spawn), each with ``cores // jobs`` torch threads
  and, on a machine with several GPUs, its own GPU (round robin, :func:`worker_devices`);
- warnings raised in runs are stored in their records; the sweep prints one line per category.

>>> summary = run_sweep("configs/smoke.yaml", jobs=1)        # doctest: +SKIP
>>> records = load_records(summary.out_dir)                   # doctest: +SKIP
>>> curves = load_curves(summary.out_dir)                     # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import math
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.claims import STALE_AFTER_S, release, try_claim
from causalmix.runs import (_METRIC_FIELDS, METHODS, RunRecord, RunSpec, atomic_write, check_writable,
                            execute_run, write_record)
from causalmix.sweep_config import SweepConfig, expand_config, load_config

__all__ = [
    "METHODS",
    "RunRecord",
    "RunSpec",
    "SweepConfig",
    "SweepSummary",
    "execute_run",
    "expand_config",
    "load_config",
    "load_curves",
    "load_records",
    "run_local",
    "run_sweep",
    "plan_sweep",
    "SweepPlan",
    "warning_summary",
    "write_record",
]

# --- sweeps -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SweepSummary:
    """Counts of a sweep, why runs failed (``failures``: run_id -> error) and what they warned
    about (``warnings``: category -> (runs, occurrences))."""

    name: str
    out_dir: str
    n_total: int
    n_ok: int
    n_failed: int
    n_skipped: int
    failures: dict[str, str]
    wall_time_s: float
    n_retried: int = 0
    n_elsewhere: int = 0
    warnings: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        retried = f", {self.n_retried} of them retries of failed runs" if self.n_retried else ""
        elsewhere = f", {self.n_elsewhere} done by another sweep on this folder" if self.n_elsewhere else ""
        lines = [
            f"sweep {self.name!r} -> {self.out_dir}: {self.n_total} runs, {self.n_ok} ok, "
            f"{self.n_failed} failed, {self.n_skipped} skipped (already done){elsewhere}{retried}, "
            f"{self.wall_time_s:.1f} s"
        ]
        if self.warnings:
            lines.append("warnings raised in the runs of this sweep (stored in their records; "
                         "`causalmix results` summarizes them):")
            for category, (runs, count) in sorted(self.warnings.items()):
                lines.append(f"  {category}: {count} in {runs} runs")
        if self.failures:
            lines.append("failures by reason:")
            for reason, n in Counter(e.splitlines()[0][:200] for e in self.failures.values()).most_common():
                lines.append(f"  {n} x {reason}")
        return "\n".join(lines)


def worker_devices(jobs: int, n_gpus: int) -> list[str | None]:
    """The GPU each of ``jobs`` local workers is pinned to (round robin; ``None``: no GPU).

    >>> worker_devices(4, 2), worker_devices(2, 0)
    (['0', '1', '0', '1'], [None, None])
    """
    return [str(i % n_gpus) if n_gpus else None for i in range(jobs)]


def _worker_init(threads: int, counter, devices: list[str | None]) -> None:
    """Runs first in every spawned worker: take the next slot's GPU (``CUDA_VISIBLE_DEVICES``, set
    before CUDA starts, so the worker sees exactly one device as ``cuda``) and the torch threads."""
    with counter.get_lock():
        slot = counter.value
        counter.value += 1
    device = devices[slot % len(devices)]
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    os.environ.setdefault("TABPFN_DISABLE_TELEMETRY", "1")
    import torch

    torch.set_num_threads(threads)


def _visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _claimed_run(spec_dict: dict[str, Any], out_dir: str, stale_after_s: float) -> RunRecord | None:
    """Claim, compute and record one run; ``None`` when another sweep holds it or has finished it."""
    spec = RunSpec(**spec_dict)
    if not try_claim(out_dir, spec.run_id, stale_after_s=stale_after_s):
        return None
    try:
        previous = _read_json(Path(out_dir) / "records" / f"{spec.run_id}.json")
        if previous is not None and previous.get("status") == "ok":
            return None  # finished by another sweep between our listing and our claim
        attempts = int(previous.get("attempts") or 1) + 1 if previous is not None else 1
        record = execute_run(spec, out_dir=out_dir, attempts=attempts)
    finally:
        release(out_dir, spec.run_id)
    return dataclasses.replace(record, curve=None)


def _recorded_status(out: Path) -> dict[str, str]:
    """run_id -> status of the records already under ``out``."""
    done = {}
    for path in (out / "records").glob("*.json"):
        d = _read_json(path)
        if d is not None:
            done[path.name[: -len(".json")]] = d.get("status", "failed")
    return done


def run_sweep(
    config: str | Path | Mapping[str, Any] | SweepConfig,
    *,
    out_dir: str | Path | None = None,
    jobs: int = 1,
    progress: bool = True,
    retry_failed: bool = True,
    claim_timeout_s: float = STALE_AFTER_S,
    backend: str = "local",
    address: str | None = None,
    gpus_per_run: float = 0.0,
    cpus_per_run: float = 1.0,
) -> SweepSummary:
    """Run every run of ``config`` that has no ``ok`` record yet under ``out_dir``.

    Args:
        config: YAML path, mapping or :class:`SweepConfig`.
        out_dir: results folder; overrides the configuration's ``out_dir``.
        jobs: parallel local processes (spawned); torch threads per process = cores // jobs
            unless the configuration sets ``threads``.
        progress: a tqdm bar over runs, with ETA.
        retry_failed: rerun runs whose record says ``failed`` (default); ``False`` skips them.
        claim_timeout_s: a run claimed by a sweep on another host is taken over only after
            this many seconds (on this host: as soon as the claiming process is gone).
        backend: ``"local"`` (processes on this machine) or ``"ray"`` (each run a Ray task,
            :mod:`causalmix.distributed`; ``address``, ``gpus_per_run`` and ``cpus_per_run``
            apply to it).

    Several sweeps on one folder (processes, or machines sharing it) split the runs through
    claims (:mod:`causalmix.claims`); the summary counts the runs done by others.

    Raises:
        ModelNotAvailableError: the model's weights are not on this machine (checked before
            any run: a run id needs the weights' sha256).
    """
    from causalmix.model import resolve_model_path

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}.")
    t0 = time.perf_counter()
    cfg = load_config(config)
    resolve_model_path(cfg.model)  # "tabpfn-v2" not cached: fail now, with what to do
    out = Path(out_dir or cfg.out_dir)
    specs = expand_config(cfg)
    previous = _recorded_status(out)
    todo = [s for s in specs if s.run_id not in previous or (retry_failed and previous[s.run_id] != "ok")]
    n_retried = sum(1 for s in todo if s.run_id in previous)
    check_writable(out)
    atomic_write(out / "config.json", lambda p: p.write_text(json.dumps(cfg.to_dict(), indent=1, sort_keys=True, default=str)))
    threads = int(cfg.threads or max(1, (os.cpu_count() or 1) // jobs))
    failures: dict[str, str] = {}
    warned: dict[str, list[int]] = {}
    n_ok = n_elsewhere = n_recorded = 0

    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=f"sweep {cfg.name}", unit="run", disable=not progress)

    def account(record: RunRecord | None) -> None:
        nonlocal n_ok, n_elsewhere, n_recorded
        n_recorded += record is not None
        if record is None:
            n_elsewhere += 1
        elif record.status == "ok":
            n_ok += 1
        else:
            failures[record.run_id] = record.error or "unknown error"
        for category in {w["category"] for w in (record.warnings if record else [])}:
            warned.setdefault(category, [0, 0])[0] += 1
        for w in record.warnings if record else []:
            warned[w["category"]][1] += w["count"]
        bar.set_postfix(failed=len(failures))
        bar.update(1)

    def lost(spec: RunSpec, error: str) -> None:
        """A run whose process died before it recorded anything: counted, rerun by the next sweep."""
        failures[spec.run_id] = error
        bar.update(1)

    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}.")
    try:
        if backend == "ray":
            from causalmix.distributed import run_on_ray

            run_on_ray(todo, str(out), address=address, gpus_per_run=gpus_per_run, cpus_per_run=cpus_per_run,
                       stale_after_s=claim_timeout_s,
                       on_done=lambda spec, record, error: account(record) if error is None else lost(spec, error))
        else:
            run_local(todo, out, jobs=jobs, threads=threads, device=cfg.device, claim_timeout_s=claim_timeout_s,
                      on_record=account, on_lost=lost, describe=bar.set_description)
    finally:  # also when interrupted: the folder's wall time, for a published study's provenance
        bar.close()
        if todo:
            _log_sweep(out, jobs=jobs, backend=backend, recorded=n_recorded, wall_time_s=time.perf_counter() - t0,
                       device=cfg.device)
    return SweepSummary(
        name=cfg.name, out_dir=str(out), n_total=len(specs), n_ok=n_ok, n_failed=len(failures),
        n_skipped=len(specs) - len(todo), failures=failures, wall_time_s=round(time.perf_counter() - t0, 2),
        n_retried=n_retried, n_elsewhere=n_elsewhere, warnings={k: (v[0], v[1]) for k, v in warned.items()},
    )


def _log_sweep(out: Path, *, jobs: int, backend: str, recorded: int, wall_time_s: float, device: str | None) -> None:
    """Append one line to ``out/sweep-log.jsonl``: when, how parallel, how many runs it recorded, how
    long, where."""
    from causalmix.provenance import hardware

    entry = {"finished_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "jobs": jobs, "backend": backend,
             "runs_recorded": recorded, "wall_time_s": round(wall_time_s, 1), "hardware": hardware(device or "cpu")}
    with open(out / "sweep-log.jsonl", "a") as fh:
        fh.write(json.dumps(entry) + "\n")


def run_local(specs: list[RunSpec], out: Path, *, jobs: int, threads: int, device: str | None,
              claim_timeout_s: float = STALE_AFTER_S, on_record=lambda record: None,
              on_lost=lambda spec, error: None, describe=lambda text: None) -> None:
    """Execute runs in this process (``jobs == 1``) or in ``jobs`` spawned processes, recording
    each under ``out``; ``on_record(record)`` after each (``None``: another sweep did it),
    ``on_lost(spec, error)`` for a worker that died before recording."""
    if jobs == 1:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            for spec in specs:
                describe(f"{spec.dataset} {spec.method} n{spec.n_train} s{spec.seed}")
                on_record(_claimed_run(spec.to_dict(), str(out), claim_timeout_s))
        finally:
            torch.set_num_threads(before)
        return
    ctx = multiprocessing.get_context("spawn")
    n_gpus = _visible_gpus() if device in ("auto", "cuda") else 0
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                initargs=(threads, ctx.Value("i", 0), worker_devices(jobs, n_gpus))) as pool:
        futures = {pool.submit(_claimed_run, s.to_dict(), str(out), claim_timeout_s): s for s in specs}
        try:
            for fut in cf.as_completed(futures):
                spec = futures[fut]
                try:
                    on_record(fut.result())
                except Exception as err:  # noqa: BLE001 - a dead worker: counted, not recorded, so rerun next time
                    on_lost(spec, f"worker crashed: {type(err).__name__}: {err}")
        except BaseException:  # Ctrl-C: the runs not started yet are dropped (the running ones finish)
            pool.shutdown(wait=True, cancel_futures=True)
            raise


# --- a plan before a sweep ----------------------------------------------------------------------

#: Measured seconds per run (median wall time by device, method and n_train), written by
#: ``benchmarks/run_times.py`` from a sweep's records; a GPU machine adds its own rows.
RUN_TIMES = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "run_times.csv"


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

    def __str__(self) -> str:
        t = self.table
        hours = t["est_hours"].sum(min_count=1)
        est = "unknown (no timings for these methods on this device)" if pd.isna(hours) else \
            f"{hours:.2f} h of compute, about {hours / self.jobs:.2f} h with --jobs {self.jobs}"
        head = (f"plan of sweep {self.name!r} -> {self.out_dir}: {int(t['total'].sum())} runs, "
                f"{int(t['ok'].sum())} recorded, {int(t['failed'].sum())} failed (retried), "
                f"{int(t['to_run'].sum())} to run; estimate {est} on {self.device} ({self.timing_source})")
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            return head + "\n" + t.to_string(float_format=lambda v: f"{v:.2f}")


def plan_sweep(config: str | Path | Mapping[str, Any] | SweepConfig, *, out_dir: str | Path | None = None,
               jobs: int = 1, retry_failed: bool = True, timings: str | Path | None = None) -> SweepPlan:
    """The plan of :func:`run_sweep` for ``config`` (nothing is run or written).

    On a CPU the estimate prices each run from its own settings (steps, evaluation cadence, test cap,
    ensemble sizes, generator, the dataset's rows and features) with the cost model of
    :mod:`causalmix.costs`, calibrated by this folder's finished runs of the configuration. Elsewhere
    (or for a dataset that cannot be read here) it uses, per method, the median wall time of this
    folder's own records when it has some, else the measured timings file (:data:`RUN_TIMES`; rows
    for the configuration's device), scaled linearly from the nearest measured n_train.
    """
    from causalmix.model import resolve_device

    cfg = load_config(config)
    out = Path(out_dir or cfg.out_dir)
    specs = expand_config(cfg)
    previous = _recorded_status(out)
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

    from causalmix.costs import plan_estimate

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
    return SweepPlan(cfg.name, str(out), table, device, jobs, source)


# --- loading results --------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def load_records(out_dir: str | Path) -> pd.DataFrame:
    """One row per run: the record's scalar fields, ``time_<phase>`` per timing, ``ft_<key>`` and
    ``gen_<key>`` per fine-tuning/generator parameter set in the spec, ``versions``, ``warnings``
    and the whole ``spec`` as JSON text.

    Metric columns are NaN where not measured. Empty frame (with the core columns) when nothing
    was recorded yet.
    """
    rows = []
    for path in sorted((Path(out_dir) / "records").glob("*.json")):
        d = _read_json(path)
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


def main_entry() -> None:  # pragma: no cover - convenience for `python -m causalmix.experiment CONFIG`
    from causalmix.cli import main

    sys.exit(main(["sweep", *sys.argv[1:]]))


if __name__ == "__main__":  # pragma: no cover
    main_entry()
