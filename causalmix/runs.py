"""One run: its specification, its identity and its execution (its record: :mod:`causalmix.records`).

A *run* is (dataset, n_train, n_val, split seed, method, model, hyper-parameters[, domain]) and
gives a :class:`RunRecord`: the fine-tuning result, what the run warned about, and provenance.

**Run identity** (SPEC: a run is identified by its inputs and a declared result version). The
``config_hash`` behind every run id is the sha256 of

- the run spec (minus the device, which does not change the question);
- the data file's sha256 and the model weights' sha256 (``tabpfn-v2`` resolved to its file);
- the fine-tuning learning rate the model recommends when the spec sets none;
- :func:`causalmix.provenance.result_versions`: the versions of torch, tabpfn, DoWhy,
  causal-learn, scikit-learn, imbalanced-learn, numpy and pandas;
- :data:`RESULT_VERSION`, an integer bumped by hand whenever a change is *meant* to move numbers.

The code itself is not part of the identity: a refactor keeps every run id, so records, resumed
sweeps and published studies survive it. What guards the numbers is the golden test
(``tests/test_golden.py``): it recomputes cheap published runs and fails when a number moves
without a version bump. The source hash (:func:`result_code_hash`) is still stored in every
record, as provenance.

>>> RunSpec(dataset="adult", n_train=128, seed=0, method="smote").run_id   # doctest: +SKIP
'adult-smote-n128-s0-...'
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import math
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.data import (
    DEFAULT_TEST_CAP,
    REGISTRY,
    _local_manifest_entries,
    check_name,
    domain_shift_split,
    load_dataset,
    low_data_split,
    resolve_name,
    sanitize_name,
)
from causalmix.finetuning import FinetuneConfig, Timer, finetune
from causalmix.generators import make_generator
from causalmix.metrics import majority_accuracy
from causalmix.model import (
    DEFAULT_MODEL,
    check_checkpoint,
    model_fingerprint,
    recommended_learning_rate,
    resolve_device,
)
from causalmix.provenance import file_sha256, git_commit, hardware, package_versions, result_versions
from causalmix.records import (  # noqa: F401 - RunRecord, write_record, RecordNotWritten: part of this module's API
    METRIC_FIELDS,
    METRIC_NAMES,
    TEST_SETS,
    RecordNotWritten,
    RunRecord,
    check_writable,
    read_json,
    write_record,
)
from causalmix.seeds import stream_seed

__all__ = [
    "METHODS", "RESULT_MODULES", "RESULT_VERSION", "RunRecord", "RunSpec", "capture_warnings", "execute_run",
    "result_code_hash", "run_dataset", "run_split", "unmatched_records", "write_record",
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
    "tabebm": "tabebm",
}

#: The version of what a run computes, part of every run id. Bump it in the commit that changes a
#: number on purpose (a new default, a fixed bug in a metric, another selection rule), never for a
#: refactor; the golden test (``tests/test_golden.py``) fails until you do, and the published
#: studies then need re-publishing (or a re-derivation, when their curves suffice, as for 1).
#: History: 1 = tie-proof selection and patience (:mod:`causalmix.selection`), replacing the
#: code-hash identity of the first published study.
RESULT_VERSION = 1

#: Modules whose source determines a run's numbers (their hash is recorded as provenance); dotted
#: names are modules of a subpackage (``data.splits`` is ``causalmix/data/splits.py``).
RESULT_MODULES = ("data.tables", "data.registry", "data.splits", "model", "evaluation", "seeds", "generator_base",
                  "generators", "discovery", "scm_steps", "scm", "tabebm", "encoding", "finetune_config", "finetuning",
                  "selection", "metrics", "runs")

#: Smallest training set a method supports (rows; also at least 2 per class, checked at the split):
#: tabpfn needs a few distinct context rows, causal discovery a few dozen for its bootstraps.
MIN_N_TRAIN = {"causalmix": 20}
DEFAULT_MIN_N_TRAIN = 8

def _hash(obj: Any, n: int = 16) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


def code_text(source: str) -> str:
    """A module's code without its docstrings, comments or layout (its syntax tree): what a result
    can depend on. A fix to the documentation leaves it, and every run id, unchanged.

    >>> code_text("def f():\\n    'Doc.'\\n    return 1  # one") == code_text("def f(): return 1")
    True
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


@functools.cache
def result_code_hash() -> str:
    """sha256 (16 hex digits) of the code (:func:`code_text`) of :data:`RESULT_MODULES`, in that order."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in RESULT_MODULES:
        source = (here / f"{name.replace('.', '/')}.py").read_text()
        digest.update(name.encode() + b"\0" + code_text(source).encode() + b"\0")
    return digest.hexdigest()[:16]


def dataset_fingerprint(name: str) -> str:
    """The sha256 of a dataset's local file (``CAUSALMIX_DATA_DIR``), without loading it; for a
    dataset read from OpenML or scikit-learn, its registry route (those sources are versioned)."""
    if Path(name).suffix in {".csv", ".gz", ".parquet", ".pq"} and Path(name).is_file():
        return file_sha256(name)
    resolved = resolve_name(name)
    local = _local_manifest_entries()
    if resolved in local:
        return file_sha256(local[resolved]["path"])
    info = REGISTRY[resolved]
    return f"sklearn:{info.sklearn_loader}" if info.sklearn_loader else f"openml:{info.openml_dataset_id}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSpec:
    """One run. ``finetune``/``generator`` hold :class:`~causalmix.finetuning.FinetuneConfig` fields
    and generator parameters; ``domain`` (``{"column": "sex", "values": ["Female"]}`` or
    ``{"column": "age", "between": [17, 35]}``) makes it a domain-shift run, tested in-domain
    (``test``) and out-of-domain (``test_ood``); ``variant`` names a configuration's variant of the
    method (an ablation: the method with other settings)."""

    dataset: str
    n_train: int
    seed: int
    method: str
    n_val: int | None = None
    model: str = DEFAULT_MODEL
    device: str = "auto"
    finetune: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    generator: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    domain: Mapping[str, Any] | None = None
    test_cap: int = DEFAULT_TEST_CAP
    target: str | None = None
    variant: str | None = None

    def __post_init__(self) -> None:
        if self.variant is not None:
            check_name(self.variant, "variant name")
        if self.method not in METHODS:
            raise ValueError(f"Unknown method {self.method!r}; valid: {', '.join(METHODS)}.")
        if self.is_file:
            if self.target is None:
                raise ValueError(f"The dataset {self.dataset!r} is a file: name its label column (--target COL).")
        else:
            check_name(self.dataset)
        for name in ("n_train", "seed", "test_cap"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"RunSpec.{name} must be a non-negative int, got {v!r}.")
        smallest = MIN_N_TRAIN.get(self.method, DEFAULT_MIN_N_TRAIN)
        if self.n_train < smallest:
            raise ValueError(f"n_train={self.n_train} is below the smallest training set method {self.method!r} "
                             f"supports: {smallest} rows (and at least 2 per class). Use n_train >= {smallest}.")
        if self.domain is not None:
            unknown = set(self.domain) - {"column", "values", "between"}
            if unknown or "column" not in self.domain or (("values" in self.domain) == ("between" in self.domain)):
                raise ValueError(
                    f"domain must be {{'column': ..., 'values': [...]}} or {{'column': ..., 'between': [lo, hi]}}, "
                    f"got {dict(self.domain)!r}."
                )

        FinetuneConfig.from_dict(self.finetune)  # bad fine-tuning keys fail at expansion, not mid-sweep
        tag = "" if self.domain is None else str(self.domain.get("column"))
        longest = len(f"{self.name}-{self.variant or self.method}-n{self.n_train}-s{self.seed}-{tag}-12345678.curve.csv")
        if longest > 250:  # the run id names its record files: keep it a valid file name
            raise ValueError(f"The run's id would be {longest - 10} characters (dataset name {len(self.name)}, "
                             f"{'variant' if self.variant else 'method'} {len(self.variant or self.method)}, domain column "
                             f"{len(tag)}): too long for a file name. Use shorter names (together at most about 200).")

    @property
    def is_file(self) -> bool:
        """Whether ``dataset`` is the path of a CSV/parquet file (a source) rather than a name."""
        return Path(self.dataset).suffix in {".csv", ".gz", ".parquet", ".pq"} or Path(self.dataset).is_file()

    @property
    def name(self) -> str:
        """The dataset's name in run ids and records: a file's sanitized stem."""
        if not self.is_file:
            return self.dataset
        return sanitize_name(Path(self.dataset).name.split(".")[0])

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["finetune"], d["generator"] = dict(self.finetune), dict(self.generator)
        d["domain"] = None if self.domain is None else dict(self.domain)
        return d

    def identity(self) -> dict[str, Any]:
        """Everything that determines the run's numbers (see the module docstring)."""
        d = self.to_dict()
        d.pop("device")
        d["dataset_sha256"] = dataset_fingerprint(self.dataset)
        d["model_sha256"] = model_fingerprint(self.model)
        if self.finetune.get("learning_rate") is None:
            d["model_learning_rate"] = recommended_learning_rate(self.model)
        d["versions"] = result_versions()
        d["result_version"] = RESULT_VERSION
        return d

    @property
    def config_hash(self) -> str:
        return _hash(self.identity())

    @property
    def run_id(self) -> str:
        return self._run_id(self.config_hash)

    def _run_id(self, config_hash: str) -> str:
        tag = "" if self.domain is None else f"-{self.domain['column']}"
        return f"{self.name}-{self.variant or self.method}-n{self.n_train}-s{self.seed}{tag}-{config_hash[:8]}"


def unmatched_records(specs: Sequence[RunSpec], out: Path, previous: Mapping[str, str]) -> str | None:
    """Why runs to do already have a record under ``out`` with another run id (the same dataset,
    method, size and seed, other inputs), or None when none has.

    A run id hashes the run's inputs, so a record of other inputs is kept but never reused; most often
    the dataset's file differs, e.g. ``CAUSALMIX_DATA_DIR`` is not set and a dataset resolves to OpenML
    instead of the local copy the records used. The message says which inputs differ and what to do.
    """
    by_stem: dict[str, str] = {}
    for run_id in previous:
        by_stem.setdefault(run_id[:-9], run_id)  # "<name>-<method>-n<n>-s<seed>[-<column>]" + "-<8 hex>"
    differ: dict[str, list[str]] = {}
    n = 0
    for spec in specs:
        other = None if spec.run_id in previous else by_stem.get(spec.run_id[:-9])
        record = read_json(out / "records" / f"{other}.json") if other else None
        if record is None:
            continue
        n += 1
        mine = spec.identity()
        pairs = {"dataset file": (mine["dataset_sha256"], record.get("dataset_sha256")),
                 "model weights": (mine["model_sha256"], record.get("model_sha256")),
                 "result versions": (_canonical({"v": mine["result_version"], **mine["versions"]}),
                                     _canonical({"v": record.get("result_version"),
                                                 **{k: (record.get("versions") or {}).get(k) for k in mine["versions"]}})),
                 "settings": (_canonical(spec.to_dict()), _canonical(record.get("spec")))}
        for what, (here, there) in pairs.items():
            if here != there:
                example = f"{spec.name}: the records' {str(there)[:12]}…, here {str(here)[:12]}…" \
                    if what in ("dataset file", "model weights") else spec.name
                if what == "result versions":
                    example = _version_difference(spec.name, mine, record)
                differ.setdefault(what, []).append(example)
    if not n:
        return None
    parts = [f"{what} ({len({e.split(':')[0] for e in examples})} dataset(s), e.g. {examples[0]})"
             for what, examples in differ.items()]
    text = (f"{n} of the runs to do have a record in {out} under another run id (same dataset, method, size "
            f"and seed; other inputs, so it is kept and not reused): {'; '.join(parts) or 'no input this check reads'}.")
    if any(e.split(", here ")[-1].startswith(("openml:", "sklearn:")) for e in differ.get("dataset file", [])):
        text += (" Here a dataset resolves to OpenML or scikit-learn, not to a local copy: set CAUSALMIX_DATA_DIR to "
                 "the folder of the copies the records used (its manifest.json).")
    if any(" in the records, " in e and "result version " not in e for e in differ.get("result versions", [])):
        text += (" The records were computed with other package versions: run this in the environment that computed "
                 "them (CTGAN's runs: .venv-ctgan, built by `make setup-ctgan`).")
    return text


def _version_difference(name: str, mine: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """``"<dataset>: <package> <version> in the records, <version> here"`` for the first version that
    differs (or the result version, when that differs)."""
    if mine["result_version"] != record.get("result_version"):
        return f"{name}: result version {record.get('result_version')} in the records, {mine['result_version']} here"
    theirs = record.get("versions") or {}
    package = next((k for k, v in mine["versions"].items() if str(v) != str(theirs.get(k))), None)
    return name if package is None else \
        f"{name}: {package} {theirs.get(package)} in the records, {mine['versions'][package]} here"


def _canonical(d: Mapping[str, Any] | None) -> str:
    return json.dumps({k: v for k, v in (d or {}).items() if k != "device"}, sort_keys=True, default=str)


_ABOUT_CODE = (DeprecationWarning, PendingDeprecationWarning, ImportWarning)
_ACTIVE: list[logging.Handler] = []  # nested captures: only the innermost one records


class _Collect(logging.Handler):
    def __init__(self, sink: list[tuple[str, str]]):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if _ACTIVE and _ACTIVE[-1] is self:
            self.sink.append((f"log.{record.name}", record.getMessage()))


@contextlib.contextmanager
def capture_warnings() -> Iterator[list[tuple[str, str]]]:
    """Collect every warning (``warnings`` module, and log records at WARNING or above) raised
    inside the block as ``(category, message)`` pairs, instead of printing them.

    Deprecation and import warnings speak about code, not about a run (and come once per process,
    at first import), so they are left out: the same run gives the same list in any process.
    """
    sink: list[tuple[str, str]] = []
    handler = _Collect(sink)
    root = logging.getLogger()
    root.addHandler(handler)
    _ACTIVE.append(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield sink
    finally:
        _ACTIVE.remove(handler)
        root.removeHandler(handler)
    sink[:0] = [(w.category.__name__, str(w.message)) for w in caught if not issubclass(w.category, _ABOUT_CODE)]


def summarize_warnings(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """``[{"category", "message", "count"}]``, one entry per distinct warning, sorted."""
    counts = Counter((c, m[:500]) for c, m in pairs)
    return [{"category": c, "message": m, "count": n} for (c, m), n in sorted(counts.items())]


# --- one run ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def run_dataset(name: str, target: str | None, sha256: str | None):  # noqa: ARG001 - sha256: a changed file is reloaded
    """The dataset of a run (the last few kept in memory: a sweep's runs share them)."""
    return load_dataset(name, target=target)


def run_split(spec: RunSpec, ds):
    """The split a run trains, validates and tests on: the low-data split, or the domain-shift split."""
    if spec.domain is None:
        return low_data_split(ds, n_train=spec.n_train, n_val=spec.n_val, seed=spec.seed, test_cap=spec.test_cap)
    return domain_shift_split(ds, **dict(spec.domain), n_train=spec.n_train, n_val=spec.n_val, seed=spec.seed,
                              test_cap=spec.test_cap)


def _generator(spec: RunSpec, split):
    """The fitted generator of an augmenting method, the warnings its fit raised and the fit's time.
    Returns ``(generator, warnings, {"generator_fit": wall seconds, "cpu_generator_fit": CPU seconds})``.

    Its ``random_state`` (unless the spec sets one) comes from the run's ``generator_fit``
    stream (:mod:`causalmix.seeds`); a generator built on a TabPFN network (TabEBM) uses the
    run's model. Every run fits its own generator: fitted generators are not cached in the results
    folder, since a cache would have to be unpickled from a shared folder (code execution) and saved
    about 1 % of the published study's compute (every TabEBM fit was a miss).
    """
    name = METHODS[spec.method]
    params = dict(spec.generator)
    probe = make_generator(name, **params)
    run_defaults = {"random_state": stream_seed(spec.seed, "generator_fit"), "model": spec.model}  # TabEBM's network
    missing = {k: v for k, v in run_defaults.items() if k in probe.get_params() and k not in params}
    if missing:
        params.update(missing)
        probe = make_generator(name, **params)
    timer = Timer(phases=("generator_fit",))
    with capture_warnings() as raised, timer("generator_fit"):
        gen = probe.fit(split.X_train, split.y_train)
    return gen, raised, {k: v for k, v in timer.timings().items() if k.endswith("generator_fit")}


def execute_run(spec: RunSpec, *, out_dir: str | Path | None = None, progress: bool = False,
                attempts: int = 1) -> RunRecord:
    """Run one spec; never raises for a failing run: the record says ``status="failed"`` and why.

    With ``out_dir``, the record and its curve are written (atomically) under ``out_dir/records/``. ``attempts``: this execution's
    number (a sweep retrying a failed run passes the previous count + 1).
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    out = None if out_dir is None else check_writable(out_dir)
    identity = spec.identity()  # once: it hashes the data file and reads the model's sidecar
    config_hash = _hash(identity)
    base = dict(
        run_id=spec._run_id(config_hash), dataset=spec.name, n_train=spec.n_train, n_val=spec.n_val, seed=spec.seed,
        method=spec.method, variant=spec.variant, model=spec.model, domain=None, config_hash=config_hash,
        attempts=attempts,
        result_version=RESULT_VERSION, code_hash=result_code_hash(), dataset_sha256=identity["dataset_sha256"],
        model_sha256=identity["model_sha256"], git_commit=git_commit(), versions=package_versions(),
        spec=spec.to_dict(),
    )
    raised: list[tuple[str, str]] = []
    try:
        with capture_warnings() as raised:
            check_checkpoint(spec.model)  # a text/empty/JSON file is named, not an IndexError mid-run
            device = resolve_device(spec.device)
            base.update(device=device, hardware=hardware(device))
            ds = run_dataset(spec.dataset, spec.target, identity["dataset_sha256"])
            if len(ds.classes) > 10:
                numeric = pd.api.types.is_numeric_dtype(ds.y.dtype)
                raise ValueError(f"{spec.name!r} has {len(ds.classes)} classes; the TabPFN v2 architecture's output "
                                 "head has 10. Merge rare classes into one, or choose another dataset"
                                 + (" (a numeric target with many values is a regression task; causalmix fine-tunes "
                                    "classifiers)." if numeric else "."))
            split = run_split(spec, ds)
            base.update(domain=split.domain, n_val=len(split.y_val))
            params = {**dict(spec.finetune), "device": device}
            if spec.method == "pretrained":
                params["max_steps"] = 0
            config = FinetuneConfig.from_dict(params)
            gen, gen_timings, cached = None, {}, None
            if METHODS[spec.method] is not None:
                gen, fit_warnings, gen_timings = _generator(spec, split)
                cached = False
                raised.extend(fit_warnings)
            test_sets = {"test": (split.X_test, split.y_test)}
            if split.X_test_ood is not None:
                test_sets["test_ood"] = (split.X_test_ood, split.y_test_ood)
            for name, (_, y_test) in test_sets.items():
                base[f"n_{name}"] = len(y_test)
                base[f"{name}_majority_accuracy"] = majority_accuracy(split.y_train, y_test)
            if not base["n_test"]:
                raise ValueError(f"the run has no test rows (test_cap={spec.test_cap}): it would have no test metrics, "
                                 "and a run is ok only with them. Use test_cap >= 1.")
            result = finetune(spec.model, split.X_train, split.y_train, split.X_val, split.y_val, test_sets=test_sets,
                              generator=gen, config=config, seed=spec.seed, progress=progress)
        timings = {**result.timings, **gen_timings}
        metrics = {k: v for k, v in result.metrics_best.items() if k in METRIC_FIELDS}
        metrics.update({f"{k}_step0": v for k, v in result.metrics_step0.items() if f"{k}_step0" in METRIC_FIELDS})
        if not base.get("n_test") or all(math.isnan(metrics.get(f"test_{m}", math.nan)) for m in METRIC_NAMES):
            raise ValueError(f"the run has no test metrics ({base.get('n_test', 0)} test rows; test_cap="
                             f"{spec.test_cap}): a run is ok only with its test metrics. Use test_cap >= 1.")
        record = RunRecord(
            **base, status="ok", best_step=result.best_step, n_steps=result.n_steps,
            stopped_early=result.stopped_early, n_params=result.n_params, generator_cached=cached,
            learning_rate=result.learning_rate, n_estimators=result.n_estimators,
            n_estimators_eval=result.n_estimators_eval, n_features_used=result.n_features_used,
            warnings=summarize_warnings(raised), timings=timings, curve=result.curve,
            wall_time_s=round(time.perf_counter() - t0, 3), cpu_time_s=round(time.process_time() - cpu0, 3), **metrics,
        )
    except Exception as err:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        record = RunRecord(
            **base, status="failed", error=f"{type(err).__name__}: {err}"[:2000], warnings=summarize_warnings(raised),
            traceback=traceback.format_exc()[-8000:], wall_time_s=round(time.perf_counter() - t0, 3),
            cpu_time_s=round(time.process_time() - cpu0, 3),
        )
    if out is not None:
        try:
            write_record(record, out)
        except OSError as err:
            raise RecordNotWritten(record, out, err) from None
    return record
