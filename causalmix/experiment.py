"""Sweeps: a YAML configuration becomes runs, executed resumably, locally in parallel.

One run (its spec, identity, execution and record) is :mod:`causalmix.runs`; a configuration and
its runs are :mod:`causalmix.sweep_config`; this module executes the runs that need it:

- records are JSON files written atomically (write, then rename) under ``out_dir/records/``, the
  curve of each run beside it as ``<run_id>.curve.csv`` (written first); a run whose record is
  ``ok`` is skipped, so a killed sweep restarts where it stopped and loses nothing finished;
- a failed run is recorded with ``status="failed"`` and its error, the sweep goes on, and the
  next sweep retries it (``attempts`` counts executions; ``retry_failed=False`` keeps it);
- every run fits its own generator: nothing in a results folder is unpickled (a folder is shared);
- ``jobs > 1`` runs in parallel local processes (spawn), each with ``cores // jobs`` torch threads
  and, on a machine with several GPUs, its own GPU (round robin, :func:`worker_devices`); a first
  Ctrl-C lets the runs in progress finish and be recorded and starts no other, a second stops at once;
- warnings raised in runs are stored in their records; the sweep prints one line per category.

>>> summary = run_sweep("causalmix/configs/smoke.yaml", jobs=1)        # doctest: +SKIP
>>> records = load_records(summary.out_dir)                   # doctest: +SKIP
>>> curves = load_curves(summary.out_dir)                     # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from causalmix.claims import STALE_AFTER_S, _stale, claimed_run, holder, process_start
from causalmix.costs import largest_first
from causalmix.data import _local_manifest_entries, load_dataset, resolve_name
from causalmix.distributed import run_on_ray
from causalmix.io import atomic_write, check_sha256
from causalmix.model import ModelNotAvailableError, check_checkpoint, resolve_device, resolve_model_path
from causalmix.provenance import hardware
from causalmix.records import (
    RunRecord,
    check_writable,
    load_curves,
    load_records,
    read_json,
    recorded_status,
    warning_summary,
    write_record,
)
from causalmix.runs import METHODS, RunSpec, execute_run, unmatched_records
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches the sweep, which lets the runs finish
    import torch

    torch.set_num_threads(threads)


def _visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


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
    methods: Sequence[str] | None = None,
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
        methods: only the runs of these methods (default: all; the run ids are the whole sweep's).

    Several sweeps on one folder (processes, or machines sharing it) split the runs through
    claims (:mod:`causalmix.claims`); the summary counts the runs done by others.

    Raises:
        ModelNotAvailableError: the model's weights are not on this machine (checked before
            any run: a run id needs the weights' sha256).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}.")
    t0 = time.perf_counter()
    cfg = load_config(config)
    resolve_model_path(cfg.model)  # "tabpfn-v2" not cached: fail now, with what to do
    check_inputs(cfg)
    out = Path(out_dir or cfg.out_dir)
    specs = expand_config(cfg, methods=methods)
    previous = recorded_status(out)
    todo = [s for s in specs if s.run_id not in previous or (retry_failed and previous[s.run_id] != "ok")]
    n_retried = sum(1 for s in todo if s.run_id in previous)
    if todo and (note := unmatched_records(todo, out, previous)):
        print(note, file=sys.stderr)
    if jobs > 1 and cfg.device == "cpu":  # the longest runs first: no worker is left alone with one at the end
        todo = largest_first(todo)
    check_writable(out)
    atomic_write(out / "config.json", lambda p: p.write_text(json.dumps(cfg.to_dict(), indent=1, sort_keys=True, default=str)))
    _recover_killed_sweeps(out, claim_timeout_s)
    threads = int(cfg.threads or max(1, (os.cpu_count() or 1) // jobs))
    failures: dict[str, str] = {}
    warned: dict[str, list[int]] = {}
    n_ok = n_elsewhere = n_recorded = 0

    def beat() -> None:  # this sweep's log entry so far: a killed sweep's time is logged by the next one
        if todo:
            _heartbeat(out, jobs=jobs, backend=backend, recorded=n_recorded, wall_time_s=time.perf_counter() - t0,
                       device=cfg.device)

    beat()

    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=f"sweep {cfg.name}", unit="run", disable=not progress)

    skipped: list[RunSpec] = []  # claimed by another sweep: re-checked at the end

    def account(record: RunRecord | None, tick: bool = True) -> None:
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
        if tick:
            bar.set_postfix(failed=len(failures))
            bar.update(1)
        if record is not None:
            beat()

    def lost(spec: RunSpec, error: str, tick: bool = True) -> None:
        """A run whose process died before it recorded anything: counted, rerun by the next sweep."""
        failures[spec.run_id] = error
        if tick:
            bar.update(1)

    def skip(spec: RunSpec) -> None:
        skipped.append(spec)
        bar.update(1)

    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}.")

    def execute(specs: list[RunSpec], tick: bool, on_skip) -> None:
        if backend == "ray":
            run_on_ray(specs, str(out), address=address, gpus_per_run=gpus_per_run, cpus_per_run=cpus_per_run,
                       stale_after_s=claim_timeout_s,
                       on_done=lambda spec, record, error: (lost(spec, error, tick) if error is not None else
                                                            on_skip(spec) if record is None else account(record, tick)))
        else:
            run_local(specs, out, jobs=jobs, threads=threads, device=cfg.device, claim_timeout_s=claim_timeout_s,
                      on_record=lambda record: account(record, tick), on_lost=lambda spec, e: lost(spec, e, tick),
                      describe=bar.set_description, on_skipped=on_skip)

    try:
        execute(todo, True, skip)
        bar.close()
        _recheck(skipped, out, execute=lambda specs, on_skip: execute(specs, False, on_skip), account=account,
                 failures=failures, poll_s=min(5.0, max(0.2, claim_timeout_s / 10)), progress=progress)
    finally:  # also when interrupted: the folder's wall time, for a published study's provenance
        bar.close()
        if todo:
            _log_sweep(out, jobs=jobs, backend=backend, recorded=n_recorded, wall_time_s=time.perf_counter() - t0,
                       device=cfg.device)
            _heartbeat_path(out).unlink(missing_ok=True)
    return SweepSummary(
        name=cfg.name, out_dir=str(out), n_total=len(specs), n_ok=n_ok, n_failed=len(failures),
        n_skipped=len(specs) - len(todo), failures=failures, wall_time_s=round(time.perf_counter() - t0, 2),
        n_retried=n_retried, n_elsewhere=n_elsewhere, warnings={k: (v[0], v[1]) for k, v in warned.items()},
    )


def check_inputs(cfg: SweepConfig, *, to_run: bool = True) -> None:
    """What every run of a sweep needs, checked once before any run starts (and by ``--plan``, with
    ``to_run=False``): the model file is a checkpoint, the device exists, each named dataset's local file
    is the one its manifest describes (sha256), and, for a sweep, a dataset without a local copy can be
    fetched (from OpenML, into its cache, once: offline, the sweep stops here instead of recording a
    failure per run). ValueError or DatasetError naming the problem."""
    try:
        check_checkpoint(cfg.model)
    except ModelNotAvailableError:  # a plan needs no weights ("tabpfn-v2" before its download); a sweep does
        if to_run:
            raise
    resolve_device(cfg.device)
    local = _local_manifest_entries()
    for name in sorted(cfg.all_datasets):
        if Path(name).suffix in {".csv", ".gz", ".parquet", ".pq"}:
            continue
        entry = local.get(resolve_name(name))
        if entry is not None:
            path = Path(entry["path"])
            if not path.is_file():
                raise ValueError(f"dataset {name!r}: its manifest names {path}, which is not a file.")
            check_sha256(path, entry.get("sha256"), what=f"dataset file of {name!r}")
        elif to_run:
            load_dataset(name)


def _recheck(skipped: list[RunSpec], out: Path, *, execute, account, failures: dict[str, str], poll_s: float,
             progress: bool) -> None:
    """The runs this sweep found claimed by another sweep, until each has a record: one recorded by
    the other sweep (and no longer claimed) is counted as done elsewhere (a failed one as a failure);
    one whose claim went stale meanwhile (its sweep was killed, its claim aged out) is run here;
    while a live sweep holds some, wait for them. So a sweep that exits has every run recorded
    or counted as failed, never one lost to a dead claim."""
    pending, announced = list(skipped), False
    while pending:
        again: list[RunSpec] = []
        for spec in pending:
            record = read_json(out / "records" / f"{spec.run_id}.json")
            if record is not None and holder(out, spec.run_id) is None:
                account(None, False)
                if record.get("status") != "ok":
                    failures[spec.run_id] = f"failed in another sweep: {record.get('error') or 'unknown error'}"
            else:
                again.append(spec)
        if not again:
            return
        held: list[RunSpec] = []
        execute(again, held.append)
        if held and not announced and progress:
            print(f"waiting for {len(held)} run(s) claimed by other live sweeps on {out} (e.g. {held[0].run_id}); "
                  "Ctrl-C stops, a rerun picks them up", file=sys.stderr)
            announced = True
        if held:
            time.sleep(poll_s)
        pending = held


def _log_entry(*, jobs: int, backend: str, recorded: int, wall_time_s: float, device: str | None) -> dict[str, Any]:
    return {"finished_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "jobs": jobs, "backend": backend,
            "runs_recorded": recorded, "wall_time_s": round(wall_time_s, 1), "hardware": hardware(device or "cpu")}


def _log_sweep(out: Path, **entry: Any) -> None:
    """Append one line to ``out/sweep-log.jsonl``: when, how parallel, how many runs it recorded, how
    long, where."""
    _append_log(out, _log_entry(**entry))


def _append_log(out: Path, entry: dict[str, Any]) -> None:
    with open(out / "sweep-log.jsonl", "a") as fh:
        fh.write(json.dumps(entry) + "\n")


def _heartbeat_path(out: Path) -> Path:
    return out / "running-sweeps" / f"{socket.gethostname()}-{os.getpid()}.json"


def _heartbeat(out: Path, **entry: Any) -> None:
    """This sweep's log entry so far, rewritten (atomically) after every run it records, with what
    identifies its process: if the sweep is killed, the next sweep on the folder logs it."""
    beat = {**_log_entry(**entry), "host": socket.gethostname(), "pid": os.getpid(),
            "pid_started": process_start(os.getpid()), "started": time.time()}
    atomic_write(_heartbeat_path(out), lambda p: p.write_text(json.dumps(beat)))


def _recover_killed_sweeps(out: Path, stale_after_s: float) -> None:
    """Log the sweeps on this folder that were killed (their heartbeat is stale, by the rules of
    :mod:`causalmix.claims`) with the time they had run, so ``sweep-log.jsonl`` (a published
    study's wall time) counts them too; each is logged once, by whichever sweep moves it first."""
    for path in sorted((out / "running-sweeps").glob("*.json")):
        beat = read_json(path)
        stamp = path.stat().st_mtime if path.exists() else 0.0
        if beat is not None and not _stale({**beat, "mtime": stamp}, stale_after_s):
            continue
        aside = path.with_name(f".{path.name}.{os.getpid()}.logged")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            continue  # another sweep logged it
        if beat is not None:
            entry = {k: v for k, v in beat.items() if k not in ("host", "pid", "pid_started", "started")}
            _append_log(out, {**entry, "killed": True})
        aside.unlink(missing_ok=True)


#: A broken process pool, and what it most often means when a script calls the runner (one line, < 200 characters).
BROKEN_POOL = ("worker process died: a script running sweeps with jobs > 1 must guard them with "
               "`if __name__ == \"__main__\":` (workers re-import it); else out of memory or killed")


def run_local(specs: list[RunSpec], out: Path, *, jobs: int, threads: int, device: str | None,
              claim_timeout_s: float = STALE_AFTER_S, on_record=lambda record: None,
              on_lost=lambda spec, error: None, describe=lambda text: None, on_skipped=None) -> None:
    """Execute runs in this process (``jobs == 1``) or in ``jobs`` spawned processes, recording
    each under ``out``; ``on_record(record)`` after each (``None``: another sweep holds or did it;
    ``on_skipped(spec)`` instead, when given), ``on_lost(spec, error)`` for a worker that died
    before recording. With ``jobs > 1`` each worker holds one run at a time and ignores SIGINT: a
    Ctrl-C (KeyboardInterrupt here) starts no other run, waits for those in progress, then re-raises;
    a second one terminates the workers (their runs are lost, their claims go stale)."""

    def done(spec: RunSpec, record: RunRecord | None) -> None:
        if record is None and on_skipped is not None:
            on_skipped(spec)
        else:
            on_record(record)

    if jobs == 1:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            for spec in specs:
                describe(f"{spec.dataset} {spec.method} n{spec.n_train} s{spec.seed}")
                done(spec, claimed_run(spec.to_dict(), str(out), claim_timeout_s))
        finally:
            torch.set_num_threads(before)
        return
    ctx = multiprocessing.get_context("spawn")
    n_gpus = _visible_gpus() if device in ("auto", "cuda") else 0
    waiting, running, stopping = list(reversed(specs)), {}, False
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                initargs=(threads, ctx.Value("i", 0), worker_devices(jobs, n_gpus))) as pool:

        def start_next() -> None:  # one run per worker at a time: nothing queued that a stop would have to wait for
            spec = waiting.pop()
            try:
                running[pool.submit(claimed_run, spec.to_dict(), str(out), claim_timeout_s)] = spec
            except cf.process.BrokenProcessPool:
                on_lost(spec, BROKEN_POOL)

        while waiting and len(running) < jobs:
            start_next()
        while running:
            try:
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            except KeyboardInterrupt:  # the workers ignore SIGINT: the first Ctrl-C lets their runs finish
                if stopping:
                    for process in list((pool._processes or {}).values()):  # noqa: SLF001 - no public handle
                        process.terminate()
                    raise
                stopping = True
                print(f"stopping: the {len(running)} run(s) in progress finish and are recorded, the other "
                      f"{len(waiting)} wait for the next sweep (Ctrl-C again stops now, losing the runs in progress)",
                      file=sys.stderr)
                continue
            for fut in finished:
                spec = running.pop(fut)
                try:
                    done(spec, fut.result())
                except Exception as err:  # noqa: BLE001 - a dead worker: counted, not recorded, so rerun next time
                    broken = isinstance(err, cf.process.BrokenProcessPool)
                    on_lost(spec, BROKEN_POOL if broken else f"worker crashed: {type(err).__name__}: {err}")
                while waiting and not stopping and len(running) < jobs:
                    start_next()
        if stopping:
            raise KeyboardInterrupt
