"""Experiment runner: runs, sweeps from YAML configurations, resumable records, tidy results.

A *run* is (dataset, n_train, n_val, split seed, method, model, hyper-parameters[, domain]) and
gives a :class:`RunRecord`: the fine-tuning result plus provenance. A *sweep* expands a flat
YAML configuration (``configs/*.yaml``) into runs and executes them:

- records are JSON files written atomically (write, then rename) under ``out_dir/records/``, the
  curve of each run beside it as ``<run_id>.curve.csv`` (written first); a run whose record
  exists is skipped, so a killed sweep restarts where it stopped and loses nothing finished;
- fitted generators are cached under ``out_dir/generators/`` keyed by a hash of (dataset,
  split, generator config), so the SCM is fitted once per split, not once per run;
- ``jobs > 1`` runs in parallel local processes (spawn), each with ``cores // jobs`` torch threads;
- a failing run is recorded with ``status="failed"`` and its error; the sweep goes on.

>>> summary = run_sweep("configs/smoke.yaml", jobs=1)        # doctest: +SKIP
>>> records = load_records(summary.out_dir)                   # doctest: +SKIP
>>> curves = load_curves(summary.out_dir)                     # doctest: +SKIP

Configuration keys (flat; unknown keys are an error): ``name``, ``model``, ``device``,
``datasets``, ``n_train`` (list), ``n_val`` (null = SPEC default), ``seeds`` (list), ``methods``
(list), ``finetune`` (FinetuneConfig fields), ``generators`` (method -> generator params),
``test_cap``, ``domain_shift`` (list of ``{dataset, column, values | between, n_train, seeds,
methods}``), ``out_dir`` (default ``results/<name>``), ``threads`` (null = cores // jobs).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import functools
import hashlib
import json
import math
import multiprocessing
import os
import pickle
import sys
import time
import traceback
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.provenance import git_commit, hardware, package_versions

__all__ = [
    "METHODS",
    "RunRecord",
    "RunSpec",
    "SweepSummary",
    "execute_run",
    "expand_config",
    "load_config",
    "load_curves",
    "load_records",
    "run_sweep",
]

#: method -> generator registry name (``None``: no synthetic rows). ``pretrained`` takes no steps.
METHODS: dict[str, str | None] = {
    "pretrained": None,
    "finetune": None,
    "causalmix": "causalmix",
    "smote": "smote",
    "mixup": "mixup",
    "tableaugment": "tableaugment",
    "gaussian_copula": "gaussian_copula",
    "ctgan": "ctgan",
}

CONFIG_KEYS = {
    "name", "model", "device", "datasets", "n_train", "n_val", "seeds", "methods", "finetune",
    "generators", "test_cap", "domain_shift", "out_dir", "threads",
}
DOMAIN_KEYS = {"dataset", "column", "values", "between", "n_train", "n_val", "seeds", "methods"}
TEST_SETS = ("test", "test_ood")
METRIC_NAMES = ("roc_auc", "accuracy", "log_loss")


def _hash(obj: Any, n: int = 16) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSpec:
    """One run. ``finetune``/``generator`` hold :class:`~causalmix.finetune.FinetuneConfig` fields
    and generator parameters; ``domain`` (``{"column": "sex", "values": ["Female"]}`` or
    ``{"column": "age", "between": [17, 35]}``) makes it a domain-shift run, tested in-domain
    (``test``) and out-of-domain (``test_ood``).

    >>> RunSpec(dataset="adult", n_train=128, seed=0, method="smote").run_id   # doctest: +ELLIPSIS
    'adult-smote-n128-s0-...'
    """

    dataset: str
    n_train: int
    seed: int
    method: str
    n_val: int | None = None
    model: str = "causalmix-tiny"
    device: str = "auto"
    finetune: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    generator: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    domain: Mapping[str, Any] | None = None
    test_cap: int = 5000

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Unknown method {self.method!r}; valid: {', '.join(METHODS)}.")
        for name in ("n_train", "seed", "test_cap"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"RunSpec.{name} must be a non-negative int, got {v!r}.")
        if self.domain is not None:
            unknown = set(self.domain) - {"column", "values", "between"}
            if unknown or "column" not in self.domain or (("values" in self.domain) == ("between" in self.domain)):
                raise ValueError(
                    f"domain must be {{'column': ..., 'values': [...]}} or {{'column': ..., 'between': [lo, hi]}}, "
                    f"got {dict(self.domain)!r}."
                )
        from causalmix.finetune import FinetuneConfig

        FinetuneConfig.from_dict(self.finetune)  # bad fine-tuning keys fail at expansion, not mid-sweep

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["finetune"], d["generator"] = dict(self.finetune), dict(self.generator)
        d["domain"] = None if self.domain is None else dict(self.domain)
        return d

    @property
    def config_hash(self) -> str:
        """Hash of everything that defines the run, the model's weights included (their sha256, so
        records made with an older checkpoint are not reused); the device is left out: it does
        not change the question."""
        from causalmix.model import model_fingerprint

        d = self.to_dict()
        d.pop("device")
        d["model_sha256"] = model_fingerprint(self.model)
        return _hash(d)

    @property
    def run_id(self) -> str:
        tag = "" if self.domain is None else f"-{self.domain['column']}"
        return f"{self.dataset}-{self.method}-n{self.n_train}-s{self.seed}{tag}-{self.config_hash[:8]}"


_METRIC_FIELDS = [
    f"{s}_{m}{suffix}" for suffix in ("", "_step0") for s in ("val", *TEST_SETS) for m in METRIC_NAMES
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRecord:
    """Everything a run produced: the :class:`~causalmix.finetune.FinetuneResult` plus provenance.

    Metric fields ``{val,test,test_ood}_{roc_auc,accuracy,log_loss}`` are at the best validation
    step, ``..._step0`` the pre-trained model on the same split (NaN when not measured, e.g.
    ``test_ood_*`` outside domain-shift runs or any metric of a failed run). ``curve`` is kept out
    of :meth:`to_dict` and stored beside the record.
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
    error: str | None = None
    best_step: int | None = None
    n_steps: int | None = None
    stopped_early: bool | None = None
    wall_time_s: float = math.nan
    config_hash: str = ""
    dataset_sha256: str | None = None
    git_commit: str = "unknown"
    device: str | None = None
    hardware: str = ""
    n_params: int | None = None
    generator_cached: bool | None = None
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    spec: dict[str, Any] = dataclasses.field(default_factory=dict)
    traceback: str | None = None
    curve: pd.DataFrame | None = dataclasses.field(default=None, compare=False, repr=False)
    # metrics at the best validation step, then at step 0
    val_roc_auc: float = math.nan
    val_accuracy: float = math.nan
    val_log_loss: float = math.nan
    test_roc_auc: float = math.nan
    test_accuracy: float = math.nan
    test_log_loss: float = math.nan
    test_ood_roc_auc: float = math.nan
    test_ood_accuracy: float = math.nan
    test_ood_log_loss: float = math.nan
    val_roc_auc_step0: float = math.nan
    val_accuracy_step0: float = math.nan
    val_log_loss_step0: float = math.nan
    test_roc_auc_step0: float = math.nan
    test_accuracy_step0: float = math.nan
    test_log_loss_step0: float = math.nan
    test_ood_roc_auc_step0: float = math.nan
    test_ood_accuracy_step0: float = math.nan
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
        for k in (*_METRIC_FIELDS, "wall_time_s"):
            if kw.get(k, 0) is None:
                kw[k] = math.nan
        return cls(**kw, curve=curve)


# --- one run ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _dataset(name: str):
    from causalmix.data import load_dataset

    return load_dataset(name)


def _split(spec: RunSpec, ds):
    from causalmix.data import domain_shift_split, low_data_split

    if spec.domain is None:
        return low_data_split(ds, n_train=spec.n_train, n_val=spec.n_val, seed=spec.seed, test_cap=spec.test_cap)
    return domain_shift_split(ds, **dict(spec.domain), n_train=spec.n_train, n_val=spec.n_val, seed=spec.seed,
                              test_cap=spec.test_cap)


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _generator(spec: RunSpec, split, dataset_sha: str | None, cache_dir: Path | None):
    """The fitted generator of an augmenting method, from the cache when this split has it.

    Returns ``(generator, fit_seconds, cached)``.
    """
    from causalmix.generators import make_generator

    name = METHODS[spec.method]
    params = dict(spec.generator)
    probe = make_generator(name, **params)
    if "random_state" in probe.get_params() and "random_state" not in params:
        params["random_state"] = spec.seed  # the split seed also seeds the generator's own fitting
        probe = make_generator(name, **params)
    import inspect

    # The generator's source is part of the key: a cached fit from older code is never reused.
    code = hashlib.sha256()
    for cls in type(probe).__mro__:
        source = inspect.getsourcefile(cls) if cls.__module__.startswith("causalmix") else None
        if source:
            code.update(Path(source).read_bytes())
    code = code.hexdigest()[:16]
    key = _hash({"code": code, "dataset": spec.dataset, "sha256": dataset_sha, "n_train": spec.n_train, "n_val": spec.n_val,
                 "seed": spec.seed, "domain": spec.to_dict()["domain"], "test_cap": spec.test_cap,
                 "generator": name, "params": params})
    path = None if cache_dir is None else cache_dir / f"{name}-{key}.pkl"
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                return pickle.load(fh), 0.0, True
        except Exception:  # noqa: BLE001 - a corrupt cache entry is refitted, never fatal
            path.unlink(missing_ok=True)
    t = time.perf_counter()
    gen = probe.fit(split.X_train, split.y_train)
    seconds = time.perf_counter() - t
    if path is not None:
        _atomic_write(path, lambda p: p.write_bytes(pickle.dumps(gen)))
    return gen, seconds, False


def execute_run(spec: RunSpec, *, out_dir: str | Path | None = None, progress: bool = False) -> RunRecord:
    """Run one spec; never raises for a failing run: the record says ``status="failed"`` and why.

    With ``out_dir``, the record and its curve are written (atomically) under ``out_dir/records/``
    and fitted generators cached under ``out_dir/generators/``.
    """
    from causalmix.finetune import FinetuneConfig, finetune
    from causalmix.model import resolve_device

    t0 = time.perf_counter()
    out = None if out_dir is None else Path(out_dir)
    base = dict(
        run_id=spec.run_id, dataset=spec.dataset, n_train=spec.n_train, n_val=spec.n_val, seed=spec.seed,
        method=spec.method, model=spec.model, domain=None, config_hash=spec.config_hash,
        git_commit=git_commit(), versions=package_versions(), spec=spec.to_dict(),
    )
    try:
        device = resolve_device(spec.device)
        base.update(device=device, hardware=hardware(device))
        ds = _dataset(spec.dataset)
        base["dataset_sha256"] = ds.provenance.get("sha256")
        split = _split(spec, ds)
        base.update(domain=split.domain, n_val=len(split.y_val))
        params = {**dict(spec.finetune), "device": device}
        if spec.method == "pretrained":
            params["max_steps"] = 0
        config = FinetuneConfig.from_dict(params)
        gen, gen_seconds, cached = None, 0.0, None
        if METHODS[spec.method] is not None:
            gen, gen_seconds, cached = _generator(spec, split, base["dataset_sha256"],
                                                  None if out is None else out / "generators")
        test_sets = {"test": (split.X_test, split.y_test)}
        if split.X_test_ood is not None:
            test_sets["test_ood"] = (split.X_test_ood, split.y_test_ood)
        result = finetune(spec.model, split.X_train, split.y_train, split.X_val, split.y_val,
                          test_sets=test_sets, generator=gen, config=config, seed=spec.seed, progress=progress)
        timings = {**result.timings, "generator_fit": round(gen_seconds, 4)}
        metrics = {k: v for k, v in result.metrics_best.items() if k in _METRIC_FIELDS}
        metrics.update({f"{k}_step0": v for k, v in result.metrics_step0.items() if f"{k}_step0" in _METRIC_FIELDS})
        record = RunRecord(
            **base, status="ok", best_step=result.best_step, n_steps=result.n_steps,
            stopped_early=result.stopped_early, n_params=result.n_params, generator_cached=cached,
            timings=timings, curve=result.curve, wall_time_s=round(time.perf_counter() - t0, 3), **metrics,
        )
    except Exception as err:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        record = RunRecord(
            **base, status="failed", error=f"{type(err).__name__}: {err}"[:2000],
            traceback=traceback.format_exc()[-8000:], wall_time_s=round(time.perf_counter() - t0, 3),
        )
    if out is not None:
        write_record(record, out)
    return record


def write_record(record: RunRecord, out_dir: str | Path) -> Path:
    """Write ``records/<run_id>.curve.csv`` then ``records/<run_id>.json``, each atomically.

    The JSON is written last: its existence marks a finished run.
    """
    records = Path(out_dir) / "records"
    if record.curve is not None:
        _atomic_write(records / f"{record.run_id}.curve.csv", lambda p: record.curve.to_csv(p, index=False))
    path = records / f"{record.run_id}.json"
    _atomic_write(path, lambda p: p.write_text(json.dumps(record.to_dict(), indent=1, sort_keys=True, default=str)))
    return path


# --- sweeps -----------------------------------------------------------------------------------


def load_config(config: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A sweep configuration from a YAML path or a mapping, validated, with defaults filled in."""
    if isinstance(config, (str, Path)):
        import yaml

        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(f"No sweep configuration at {path}; see configs/ for examples.")
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path} must hold a mapping of settings.")
        raw.setdefault("name", path.stem)
    else:
        raw = dict(config)
    unknown = sorted(set(raw) - CONFIG_KEYS)
    if unknown:
        raise ValueError(f"Unknown sweep configuration keys {unknown}; valid: {sorted(CONFIG_KEYS)}.")
    cfg = {
        "name": "sweep", "model": "causalmix-tiny", "device": "auto", "datasets": [], "n_train": [128],
        "n_val": None, "seeds": [0], "methods": ["pretrained", "finetune"], "finetune": {}, "generators": {},
        "test_cap": 5000, "domain_shift": [], "out_dir": None, "threads": None, **raw,
    }
    for key in ("datasets", "n_train", "seeds", "methods"):
        if not isinstance(cfg[key], list):
            cfg[key] = [cfg[key]]
    for i, block in enumerate(cfg["domain_shift"] or []):
        bad = sorted(set(block) - DOMAIN_KEYS)
        if bad or "dataset" not in block or "column" not in block:
            raise ValueError(f"domain_shift[{i}]: needs dataset and column; unknown keys {bad}; valid {sorted(DOMAIN_KEYS)}.")
    unknown_gen = sorted(set(cfg["generators"] or {}) - set(METHODS))
    if unknown_gen:
        raise ValueError(f"generators: unknown methods {unknown_gen}; valid: {', '.join(METHODS)}.")
    cfg["out_dir"] = str(cfg["out_dir"] or Path("results") / cfg["name"])
    return cfg


def expand_config(config: str | Path | Mapping[str, Any]) -> list[RunSpec]:
    """The runs of a sweep configuration, in a stable order (datasets, n_train, seeds, methods)."""
    cfg = load_config(config)
    common = dict(model=cfg["model"], device=cfg["device"], finetune=dict(cfg["finetune"] or {}),
                  test_cap=cfg["test_cap"])
    gens = cfg["generators"] or {}

    def runs(dataset, n_trains, seeds, methods, n_val, domain=None):
        for n in n_trains:
            for seed in seeds:
                for method in methods:
                    yield RunSpec(dataset=dataset, n_train=int(n), seed=int(seed), method=method, n_val=n_val,
                                  generator=dict(gens.get(method) or {}), domain=domain, **common)

    specs = [s for d in cfg["datasets"] for s in runs(d, cfg["n_train"], cfg["seeds"], cfg["methods"], cfg["n_val"])]
    for block in cfg["domain_shift"] or []:
        domain = {k: block[k] for k in ("column", "values", "between") if k in block}
        specs += runs(block["dataset"], _as_list(block.get("n_train", cfg["n_train"])),
                      _as_list(block.get("seeds", cfg["seeds"])), _as_list(block.get("methods", cfg["methods"])),
                      block.get("n_val", cfg["n_val"]), domain)
    seen, unique = set(), []
    for s in specs:
        if s.run_id not in seen:
            seen.add(s.run_id)
            unique.append(s)
    return unique


def _as_list(v):
    return v if isinstance(v, list) else [v]


@dataclasses.dataclass(frozen=True)
class SweepSummary:
    """Counts of a sweep and why runs failed (``failures``: run_id -> error)."""

    name: str
    out_dir: str
    n_total: int
    n_ok: int
    n_failed: int
    n_skipped: int
    failures: dict[str, str]
    wall_time_s: float

    def __str__(self) -> str:
        lines = [
            f"sweep {self.name!r} -> {self.out_dir}: {self.n_total} runs, {self.n_ok} ok, "
            f"{self.n_failed} failed, {self.n_skipped} skipped (already done), {self.wall_time_s:.1f} s"
        ]
        if self.failures:
            lines.append("failures by reason:")
            for reason, n in Counter(e.splitlines()[0][:200] for e in self.failures.values()).most_common():
                lines.append(f"  {n} x {reason}")
        return "\n".join(lines)


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    os.environ.setdefault("TABPFN_DISABLE_TELEMETRY", "1")


def _worker(spec_dict: dict[str, Any], out_dir: str) -> tuple[str, str, str | None]:
    record = execute_run(RunSpec(**spec_dict), out_dir=out_dir)
    return record.run_id, record.status, record.error


def run_sweep(
    config: str | Path | Mapping[str, Any],
    *,
    out_dir: str | Path | None = None,
    jobs: int = 1,
    progress: bool = True,
) -> SweepSummary:
    """Run every run of ``config`` that has no record yet under ``out_dir`` (default: the config's).

    Args:
        config: YAML path or mapping (see the module docstring).
        out_dir: results folder; overrides the configuration's ``out_dir``.
        jobs: parallel local processes (spawned); torch threads per process = cores // jobs
            unless the configuration sets ``threads``.
        progress: a tqdm bar over runs, with ETA.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}.")
    t0 = time.perf_counter()
    cfg = load_config(config)
    out = Path(out_dir or cfg["out_dir"])
    specs = expand_config(cfg)
    done = {p.name[: -len(".json")] for p in (out / "records").glob("*.json")}
    todo = [s for s in specs if s.run_id not in done]
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "config.json", lambda p: p.write_text(json.dumps(cfg, indent=1, sort_keys=True, default=str)))
    threads = int(cfg["threads"] or max(1, (os.cpu_count() or 1) // jobs))
    failures: dict[str, str] = {}
    n_ok = 0

    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=f"sweep {cfg['name']}", unit="run", disable=not progress)

    def account(run_id: str, status: str, error: str | None) -> None:
        nonlocal n_ok
        if status == "ok":
            n_ok += 1
        else:
            failures[run_id] = error or "unknown error"
        bar.set_postfix(failed=len(failures))
        bar.update(1)

    if jobs == 1:
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            for spec in todo:
                bar.set_description(f"{spec.dataset} {spec.method} n{spec.n_train} s{spec.seed}")
                rec = execute_run(spec, out_dir=out)
                account(rec.run_id, rec.status, rec.error)
        finally:
            torch.set_num_threads(previous)
    else:
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                    initargs=(threads,)) as pool:
            futures = {pool.submit(_worker, s.to_dict(), str(out)): s for s in todo}
            for fut in cf.as_completed(futures):
                spec = futures[fut]
                try:
                    account(*fut.result())
                except Exception as err:  # noqa: BLE001 - a dead worker: counted, not recorded, so rerun next time
                    account(spec.run_id, "failed", f"worker crashed: {type(err).__name__}: {err}")
    bar.close()
    return SweepSummary(
        name=cfg["name"], out_dir=str(out), n_total=len(specs), n_ok=n_ok, n_failed=len(failures),
        n_skipped=len(specs) - len(todo), failures=failures, wall_time_s=round(time.perf_counter() - t0, 2),
    )


# --- loading results --------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def load_records(out_dir: str | Path) -> pd.DataFrame:
    """One row per run: the record's scalar fields, ``time_<phase>`` per timing, ``ft_<key>`` and
    ``gen_<key>`` per fine-tuning/generator parameter set in the spec, ``versions`` as JSON text.

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
        rows.append(row)
    cols = [f.name for f in dataclasses.fields(RunRecord) if f.name not in ("curve", "versions", "timings", "spec", "traceback")]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    for c in _METRIC_FIELDS + ["wall_time_s"]:
        frame[c] = pd.to_numeric(frame.get(c, np.nan), errors="coerce").astype(float)
    first = [c for c in cols if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def load_curves(out_dir: str | Path) -> pd.DataFrame:
    """Tidy curves of every successful run: ``run_id, dataset, method, n_train, seed, domain`` plus
    the curve columns (``step``, ``train_loss``, ``val_*``, ``test_*``, ...)."""
    records = load_records(out_dir)
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


def main_entry() -> None:  # pragma: no cover - convenience for `python -m causalmix.experiment CONFIG`
    from causalmix.cli import main

    sys.exit(main(["sweep", *sys.argv[1:]]))


if __name__ == "__main__":  # pragma: no cover
    main_entry()
