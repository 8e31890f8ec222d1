"""The dataset registry, the local data folder's manifest, and the loaders behind
:func:`load_dataset`: a local data directory (``CAUSALMIX_DATA_DIR``), OpenML by dataset id,
scikit-learn's bundled datasets, or a CSV/parquet file of yours.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from causalmix.data.names import DatasetError, _normalize, check_name, safe_path, sanitize_name
from causalmix.data.tables import DateHandling, _check_target, _clean_table, read_table
from causalmix.io import ChecksumError, check_sha256
from causalmix.provenance import file_sha256

DATA_DIR_ENV = "CAUSALMIX_DATA_DIR"
Task = Literal["binary", "multiclass"]


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A registry entry: where a named dataset lives online."""

    name: str
    openml_dataset_id: int | None = None
    tabarena_task_id: int | None = None
    tabarena_name: str | None = None
    in_tabarena_33: bool = False
    sklearn_loader: str | None = None


def _entry(name, did=None, tid=None, tabarena_name=None, in_33=False, sklearn=None) -> DatasetInfo:
    return DatasetInfo(name, did, tid, tabarena_name, in_33, sklearn)


# TabArena v0.1 classification datasets (OpenML dataset and task ids from TabArena's curated
# metadata), named by the shared folder's names where those files hold the same data.
_REGISTRY: tuple[DatasetInfo, ...] = (
    _entry("blood-transfusion", 46913, 363621, "blood-transfusion-service-center", True),
    _entry("diabetes", 46921, 363629, "diabetes", True),
    _entry("anneal", 46906, 363614, "anneal", True),
    _entry("credit-g", 46918, 363626, "credit-g", True),
    _entry("maternal-health-risk", 46941, 363685, "maternal_health_risk", True),
    _entry("qsar-biodeg", 46952, 363696, "qsar-biodeg", True),
    _entry("website-phishing", 46963, 363707, "website_phishing", True),
    _entry("fitness-club", 46927, 363671, "Fitness_Club", True),
    _entry("mic", 46980, 363711, "MIC", True),
    _entry("is-this-a-good-customer", 46938, 363682, "Is-this-a-good-customer", True),
    _entry("marketing-campaign", 46940, 363684, "Marketing_Campaign", True),
    _entry("hazelnut-spread-contaminant-detection", 46930, 363674, "hazelnut-spread-contaminant-detection", True),
    _entry("seismic-bumps", 46956, 363700, "seismic-bumps", True),
    _entry("splice", 46958, 363702, "splice", True),
    _entry("bioresponse", 46912, 363620, "Bioresponse", True),
    _entry("hiva-agnostic", 46933, 363677, "hiva_agnostic", True),
    _entry("students-dropout-and-academic-success", 46960, 363704, "students_dropout_and_academic_success", True),
    _entry("churn", 46915, 363623, "churn", True),
    _entry("polish-companies-bankruptcy", 46950, 363694, "polish_companies_bankruptcy", True),
    _entry("taiwanese-bankruptcy-prediction", 46962, 363706, "taiwanese_bankruptcy_prediction", True),
    _entry("naticusdroid", 46969, 363689, "NATICUSdroid", True),
    _entry("coil2000", 46916, 363624, "coil2000_insurance_policies", True),
    _entry("bank-customer-churn", 46911, 363619, "Bank_Customer_Churn", True),
    _entry("heloc", 46932, 363676, "heloc", True),
    _entry("jm1", 46979, 363712, "jm1", True),
    _entry("e-commere-shipping-data", 46924, 363632, "E-CommereShippingData", True),
    _entry("online-shoppers-intention", 46947, 363691, "online_shoppers_intention", True),
    _entry("in-vehicle-coupon-recommendation", 46937, 363681, "in_vehicle_coupon_recommendation", True),
    _entry("hr-analytics-job-change-of-data-scientists", 46935, 363679, "HR_Analytics_Job_Change_of_Data_Scientists", True),
    _entry("credit-card-clients-default", 46919, 363627, "credit_card_clients_default", True),
    _entry("amazon-employee-access", 46905, 363613, "Amazon_employee_access", True),
    _entry("bank-marketing", 46910, 363618, "bank-marketing", True),
    _entry("kddcup09-appetency", 46939, 363683, "kddcup09_appetency", True),
    _entry("diabetes130us", 46922, 363630, "Diabetes130US"),
    _entry("apsfailure", 46908, 363616, "APSFailure"),
    _entry("sdss17", 46955, 363699, "SDSS17"),
    _entry("customer-satisfaction-in-airline", 46920, 363628, "customer_satisfaction_in_airline"),
    _entry("givemesomecredit", 46929, 363673, "GiveMeSomeCredit"),
    # The low-resource and domain-shift study, and classic OpenML datasets of the shared folder.
    _entry("adult", 1590),
    _entry("phoneme", 1489),
    _entry("kr-vs-kp", 3),
    _entry("spambase", 44),
    _entry("wdbc", 1510),
    # Bundled with scikit-learn (no download).
    _entry("iris", sklearn="load_iris"),
    _entry("wine", sklearn="load_wine"),
    _entry("breast-cancer", sklearn="load_breast_cancer"),
    _entry("digits", sklearn="load_digits"),
)
REGISTRY: dict[str, DatasetInfo] = {d.name: d for d in _REGISTRY}
TABARENA_33: tuple[str, ...] = tuple(d.name for d in _REGISTRY if d.in_tabarena_33)


_ALIASES: dict[str, str] = {
    _normalize(alias): d.name for d in _REGISTRY for alias in (d.name, d.tabarena_name) if alias
}


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A classification dataset ready for the split protocol.

    ``X`` holds numeric columns as float64 and categorical columns as pandas ``category`` of
    strings; ``y`` is a Series of string labels.
    """

    name: str
    X: pd.DataFrame
    y: pd.Series
    task: Task
    classes: tuple[str, ...]
    categorical_features: tuple[str, ...]
    provenance: dict[str, Any]

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, rows={len(self.X)}, features={self.X.shape[1]} "
            f"({len(self.categorical_features)} categorical), task={self.task!r}, "
            f"classes={list(self.classes)}, source={self.provenance.get('source')!r})"
        )



def list_datasets() -> list[str]:
    """Names that ``load_dataset`` accepts (registry plus the local data directory)."""
    return sorted(set(REGISTRY) | set(_local_manifest_entries()))


def resolve_name(name: str) -> str:
    """The canonical name of a dataset, or a clear error with close matches."""
    check_name(name.strip() if isinstance(name, str) else name)
    key = _normalize(name)
    local = {_normalize(n): n for n in _local_manifest_entries()}
    if key in local:
        return local[key]
    if key in _ALIASES:
        return _ALIASES[key]
    choices = sorted(set(_ALIASES) | set(local))
    close = difflib.get_close_matches(key, choices, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise DatasetError(
        f"Unknown dataset {name!r}.{hint} See causalmix.data.list_datasets(), or pass the path "
        "of a CSV/parquet file with target=<column>."
    )


def _is_file_source(text: str) -> bool:
    return Path(text).suffix in {".csv", ".gz", ".parquet", ".pq"} or Path(text).is_file()


def load_dataset(
    name_or_path: str | os.PathLike,
    *,
    target: str | None = None,
    encoding: str = "utf-8",
    dates: DateHandling = "error",
    keep_id_columns: bool = False,
    na_values: Sequence[str] = (),
) -> Dataset:
    """Load a named dataset (local directory first, then OpenML/scikit-learn) or a file of yours.

    Args:
        name_or_path: a registry name (e.g. ``"adult"``, ``"credit-g"``, a TabArena name such as
            ``"Bank_Customer_Churn"``) or the path of a ``.csv``, ``.csv.gz`` or ``.parquet`` file.
        target: the label column; required for files, optional for named datasets.
        encoding: text encoding of a CSV file (default UTF-8).
        dates: date/time columns of a file: ``"error"`` (default) rejects them, ``"numeric"``
            turns them into days since 1970-01-01 (UTC), ``"categorical"`` keeps them as
            categories; either choice is noted in the provenance. Ambiguous day/month orders
            are read month first unless only day first fits the whole column.
        keep_id_columns: keep identifier-like columns of a file (a distinct string, or a distinct
            integer sequence such as 0..n-1, per row); by default they are excluded with a warning.
        na_values: extra strings of a file that mean "missing" (e.g. ``["?"]``); a numeric column
            holding an undeclared marker of :data:`MISSING_MARKERS` is refused, naming it.

    The three file options apply to files; named datasets are read as their manifest says.
    """
    text = str(name_or_path)
    if _is_file_source(text):
        return _load_file(Path(text), target=target, encoding=encoding, dates=dates, keep_id_columns=keep_id_columns,
                          na_values=na_values)
    name = resolve_name(text)
    local = _local_manifest_entries()
    if name in local:
        return _load_local(local[name], target=target)
    info = REGISTRY[name]
    if info.sklearn_loader:
        return _load_sklearn(info)
    return _load_openml(info, target=target)


# --- the three routes ---------------------------------------------------------------------


def _data_dir() -> Path | None:
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def _local_manifest_entries() -> dict[str, dict[str, Any]]:
    data_dir = _data_dir()
    if data_dir is None:
        return {}
    manifest = data_dir / "manifest.json"
    if not manifest.is_file():
        raise DatasetError(
            f"{DATA_DIR_ENV}={data_dir} has no manifest.json. Point it at a folder holding "
            "<name>.csv.gz files and their manifest.json, or unset it to use OpenML."
        )
    stat = manifest.stat()  # read once per version of the file: expanding a study asks thousands of times
    return dict(_manifest_entries(str(data_dir), stat.st_mtime_ns, stat.st_size))  # entries are read, never changed


@functools.lru_cache(maxsize=8)
def _manifest_entries(folder: str, _mtime_ns: int, _size: int) -> dict[str, dict[str, Any]]:
    data_dir = Path(folder)
    manifest = data_dir / "manifest.json"
    entries = _read_manifest(manifest)["datasets"]
    required = {"name": str, "file": str, "target": str, "columns": list}
    for i, e in enumerate(entries):
        bad = [k for k, t in required.items() if not isinstance(e, dict) or not isinstance(e.get(k), t)]
        if bad:
            raise DatasetError(f"{manifest}: entry {i} of 'datasets' ({str(e.get('name') if isinstance(e, dict) else e)[:60]!r}) "
                               f"lacks or mistypes {', '.join(bad)} (each entry needs name, file, target and columns).")
        if any(not isinstance(c, dict) or not isinstance(c.get("name"), str) or c.get("type") not in
               ("numeric", "categorical") for c in e["columns"]):
            raise DatasetError(f"{manifest}: the 'columns' of {e['name']!r} must be {{name, type: numeric|categorical}}.")
    return {e["name"]: {**e, "path": str(data_dir / e["file"]), "data_dir": str(data_dir)} for e in entries}


def _load_local(entry: dict[str, Any], *, target: str | None) -> Dataset:
    path = Path(entry["path"])
    safe_path(entry.get("data_dir", path.parent), entry["file"])  # a manifest never points outside its folder
    if not path.is_file():
        raise DatasetError(f"The manifest of {DATA_DIR_ENV}={entry.get('data_dir')} lists {entry['name']!r} as "
                           f"{entry['file']!r}, but {path} is {'a folder' if path.is_dir() else 'missing'}.")
    # the file must be the one the manifest describes (its sha256): a changed value is never used silently
    try:
        sha256 = check_sha256(path, entry.get("sha256"), what=f"dataset file of {entry['name']!r}",
                              fix="Restore it from its source, or re-add it (`causalmix add-dataset ... --replace`).")
    except ChecksumError as err:
        raise DatasetError(str(err)) from None
    categorical = [c["name"] for c in entry["columns"] if c["type"] == "categorical"]
    try:
        frame = pd.read_csv(path, dtype={c: str for c in categorical}, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, EOFError) as err:
        raise DatasetError(f"Could not read {path}: {err}. Is {DATA_DIR_ENV} pointing at intact files?") from err
    provenance = {
        "source": f"local:{path}",
        "sha256": sha256,
        "manifest_sha256": entry.get("sha256"),
        "openml_dataset_id": entry.get("openml_dataset_id"),
        "tabarena_task_id": entry.get("tabarena_task_id"),
        "deviations": entry.get("deviations", []),
        "dropped_columns": entry.get("dropped_columns", []),
    }
    return _make_dataset(entry["name"], frame, target or entry["target"], categorical, provenance)


def _load_file(
    path: Path, *, target: str | None, encoding: str = "utf-8", dates: str = "error", keep_id_columns: bool = False,
    na_values: Sequence[str] = (),
) -> Dataset:
    if not path.is_file():
        raise DatasetError(f"No such file: {path}.")
    if target is None:
        raise DatasetError(f"Loading {path.name} needs target=<name of the label column>.")
    frame = read_table(path, encoding=encoding, na_values=na_values)
    if frame.empty:
        raise DatasetError(f"{path.name} has a header row but no data rows.")
    if frame.shape[1] < 2:
        raise DatasetError(f"{path.name} has {frame.shape[1]} column(s); expected features plus a target column.")
    name = sanitize_name(path.name.split(".")[0])
    frame, notes = _clean_table(frame, target, name, dates=dates, keep_id_columns=keep_id_columns)
    categorical = [c for c in frame.columns if c != target and not pd.api.types.is_numeric_dtype(frame[c])]
    provenance = {"source": f"file:{path.resolve()}", "sha256": file_sha256(path), **notes}
    if na_values:
        provenance["na_values"] = [str(v) for v in na_values]
    if encoding.lower().replace("_", "-") not in {"utf-8", "utf8"}:
        provenance["encoding"] = encoding
    return _make_dataset(name, frame, target, categorical, provenance)


def _load_sklearn(info: DatasetInfo) -> Dataset:
    import sklearn
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, info.sklearn_loader)(as_frame=True)
    frame = bunch.frame.copy()
    frame["target"] = np.asarray(bunch.target_names).astype(str)[bunch.target]
    provenance = {"source": f"sklearn=={sklearn.__version__}:{info.sklearn_loader}", "sha256": None}
    return _make_dataset(info.name, frame, "target", [], provenance)


@contextlib.contextmanager
def _openml_without_retries():
    """One attempt per request: offline, openml would otherwise sleep 1+2+3+4 s between retries."""
    import openml

    before = openml.config.connection_n_retries
    openml.config.connection_n_retries = 1
    try:
        yield openml
    finally:
        openml.config.connection_n_retries = before


def _load_openml(info: DatasetInfo, *, target: str | None) -> Dataset:
    try:
        with _openml_without_retries() as openml:
            oml = openml.datasets.get_dataset(
                info.openml_dataset_id, download_data=True, download_qualities=False, download_features_meta_data=False
            )
            target = target or oml.default_target_attribute
            X, y, is_categorical, names = oml.get_data(target=target, dataset_format="dataframe")
    except Exception as err:  # network errors come in many types
        reason = " ".join(str(err).split())
        raise DatasetError(
            f"Could not fetch {info.name!r} from OpenML (dataset {info.openml_dataset_id}): "
            f"{type(err).__name__}: {reason[:200]}{'...' if len(reason) > 200 else ''}. Offline? "
            f"{DATA_DIR_ENV} is {'unset' if _data_dir() is None else repr(str(_data_dir()))}: point it at a folder "
            f"holding {info.name}.csv.gz and its manifest.json (such as the project's shared datasets), or make "
            f"a file of yours a dataset with `causalmix add-dataset FILE --target COLUMN --data-dir DIR` and set "
            f"{DATA_DIR_ENV}=DIR."
        ) from err
    frame = X.assign(**{target: y})
    categorical = [n for n, c in zip(names, is_categorical) if c]
    provenance = {
        "source": f"openml:{info.openml_dataset_id}",
        "sha256": None,
        "openml_dataset_id": info.openml_dataset_id,
        "tabarena_task_id": info.tabarena_task_id,
    }
    return _make_dataset(info.name, frame, target, categorical, provenance)


def _make_dataset(
    name: str, frame: pd.DataFrame, target: str, categorical: Sequence[str], provenance: dict[str, Any]
) -> Dataset:
    _check_target(frame, target, name)
    frame = frame.reset_index(drop=True)
    labelled = frame[target].notna()
    if not labelled.all():
        provenance = {**provenance, "rows_dropped_missing_target": int((~labelled).sum())}
        frame = frame[labelled].reset_index(drop=True)
    if frame.empty:
        raise DatasetError(f"{name!r} has no rows with a value in the target column {target!r}.")
    y = frame[target].astype(str).rename(target)
    X = frame.drop(columns=[target])
    unsupported = [c for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c]) or
                   pd.api.types.is_timedelta64_dtype(X[c]) or pd.api.types.is_complex_dtype(X[c])]
    if unsupported:
        raise DatasetError(
            f"Unsupported column types in {name!r}: {unsupported} (datetime/timedelta/complex). "
            "Convert them to numbers or strings, or drop them."
        )
    categorical = set(categorical) | {c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) or
                                      pd.api.types.is_bool_dtype(X[c])}
    columns = {}
    for col in X.columns:
        if col in categorical:
            values = X[col].astype("string").astype(object).where(X[col].notna(), np.nan)
            columns[col] = pd.Categorical(values, categories=sorted(values.dropna().unique()))
        else:
            columns[col] = pd.to_numeric(X[col], errors="raise").astype("float64")
    X = pd.DataFrame(columns, index=X.index)
    counts = y.value_counts()
    if len(counts) < 2:
        raise DatasetError(f"{name!r} has a single class ({counts.index[0]!r}); classification needs at least two.")
    classes = tuple(sorted(counts.index))
    return Dataset(
        name=name,
        X=X,
        y=y,
        task="binary" if len(classes) == 2 else "multiclass",
        classes=classes,
        categorical_features=tuple(c for c in X.columns if c in categorical),
        provenance={**provenance, "n_rows": len(X), "class_counts": {str(k): int(v) for k, v in counts.items()}},
    )



def _read_manifest(path: Path) -> dict[str, Any]:
    """An existing manifest.json (or an empty one); a clear error if it is not one."""
    if not path.is_file():
        return {"datasets": []}
    try:
        manifest = json.loads(path.read_text())
    except ValueError as err:
        raise DatasetError(f"{path} is not valid JSON ({err}); fix or remove it, or choose another folder.") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("datasets"), list):
        raise DatasetError(f"{path} is not a causalmix manifest (no 'datasets' list); choose another folder.")
    return manifest
