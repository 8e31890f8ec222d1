"""Datasets: a registry of named classification datasets, three ways to load them, and the
low-data split protocol.

Three ways in:

1. a local data directory, ``CAUSALMIX_DATA_DIR``, holding ``<name>.csv.gz`` files and a
   ``manifest.json`` in the format of the project's shared datasets (offline; tests and CI);
   the code has no default for it (the Makefile sets it to ``../shared/datasets`` when that
   folder exists);
2. OpenML by dataset id, through the ``openml`` package and its cache (the route for users
   with internet; used when the variable is unset or its folder lacks the dataset; offline
   it fails at once, naming ``CAUSALMIX_DATA_DIR`` and ``causalmix add-dataset``);
3. any CSV or parquet file of yours: ``load_dataset("my.csv", target="label")``, or made a
   named dataset of a data directory with ``add_dataset`` / ``causalmix add-dataset``.

Names are names, never paths: ``check_name`` enforces ``NAME_RULE`` and ``safe_path`` keeps
every file written inside its folder.

>>> ds = load_dataset("adult")                                  # doctest: +SKIP
>>> split = low_data_split(ds, n_train=256, seed=0)             # doctest: +SKIP
>>> split.X_train.shape, split.X_val.shape                      # doctest: +SKIP
((256, 14), (64, 14))
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import dataclasses
import difflib
import functools
import gzip
import io
import json
import lzma
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from causalmix.provenance import file_sha256

DATA_DIR_ENV = "CAUSALMIX_DATA_DIR"
#: Most test rows per split (stratified): one default for the library, `causalmix run` and sweeps.
DEFAULT_TEST_CAP = 5000
Task = Literal["binary", "multiclass"]


class DatasetError(ValueError):
    """A dataset that cannot be loaded or split as asked; the message says what to do."""


# --- names and paths ----------------------------------------------------------------------

NAME_RULE = "[A-Za-z0-9][A-Za-z0-9._-]*"
_NAME_RE = re.compile(NAME_RULE)
NAME_MAX_LENGTH = 128


def check_name(name: Any, what: str = "dataset name") -> str:
    """Return ``name`` if it is a plain name (``NAME_RULE``, at most 128 characters), else raise.

    Names become file names, so they never hold path separators, spaces, or ``.``/``..``.

    >>> check_name("credit-g")
    'credit-g'
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise DatasetError(
            f"Invalid {what} {name!r}: a name must match {NAME_RULE} (letters, digits, '.', '_' and '-', "
            "starting with a letter or digit; no spaces, no '/' or '\\'). A file path is not a name: "
            "choose a plain name such as 'my-data'."
        )
    if len(name) > NAME_MAX_LENGTH:
        raise DatasetError(f"Invalid {what} {name[:40]!r}...: {len(name)} characters, at most {NAME_MAX_LENGTH}.")
    return name


def sanitize_name(text: str, fallback: str = "dataset") -> str:
    """A valid name made from ``text`` (e.g. a file stem): other characters become ``-``.

    >>> sanitize_name("my data (v2)")
    'my-data-v2'
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).lstrip("._-").rstrip("-")[:NAME_MAX_LENGTH]
    return name or fallback


def safe_path(folder: str | os.PathLike, filename: str | os.PathLike) -> Path:
    """The resolved path of ``filename`` inside ``folder``; ValueError if it would land outside.

    Catches ``..``, absolute paths and symbolic links that point out of ``folder``.

    >>> safe_path("out", "../x.json")                          # doctest: +SKIP
    Traceback (most recent call last):
    ValueError: Refusing to use '../x.json': ...
    """
    root = Path(folder).resolve()
    path = (root / filename).resolve()
    if root not in path.parents:
        raise DatasetError(
            f"Refusing to use {str(filename)!r}: it resolves to {path}, outside the folder {root}. "
            "Names must be plain file names inside their folder."
        )
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (no half-written file)."""
    from causalmix.io import write_bytes_atomic

    write_bytes_atomic(path, data)


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")



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


# --- reading a table of yours -------------------------------------------------------------

DateHandling = Literal["error", "numeric", "categorical"]
_MIN_ROWS_FOR_ID = 10  # below this any column can be distinct per row by chance
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_DATE_RE = re.compile(
    r"(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|\d{1,2}[- ][A-Za-z]{3,9}[- ,]+\d{2,4}|[A-Za-z]{3,9} \d{1,2},? \d{4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?"
)


def _open_bytes(path: Path):
    """The file's bytes, decompressed for .gz/.bz2/.xz (as pandas reads it)."""
    return _COMPRESSED.get(path.suffix, open)(path, "rb")


def _check_text(path: Path, encoding: str) -> None:
    """A clear error for an empty file or a binary one (NUL bytes) before pandas sees it."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DatasetError(f"Unknown encoding {encoding!r}; use e.g. 'utf-8', 'latin-1' or 'cp1252'.") from None
    with _open_bytes(path) as fh:
        head = fh.read(8192)
    if not head.strip():
        raise DatasetError(f"{path.name} is empty: expected a header row and one row per example.")
    if b"\x00" in head and not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        raise DatasetError(
            f"{path.name} looks like a binary file, not CSV text (byte {head.index(0)} is NUL). "
            "Give a comma-separated text file or a .parquet file."
        )


def _undecodable_byte(path: Path, encoding: str) -> tuple[int, int, int] | None:
    """(byte offset, byte value, line number) of the first byte ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 1
    with _open_bytes(path) as fh:
        while chunk := fh.read(1 << 20):
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                data = pending + chunk
                return offset - len(pending) + err.start, data[err.start], lines + data[: err.start].count(b"\n")
            offset, lines = offset + len(chunk), lines + chunk.count(b"\n")
    return None


def _decode_error(path: Path, encoding: str, err: UnicodeDecodeError) -> DatasetError:
    found = _undecodable_byte(path, encoding)
    where = f"the byte at offset {found[0]} (0x{found[1]:02x}, line {found[2]})" if found else f"a byte ({err.reason})"
    inside = " of the decompressed data" if found and path.suffix in _COMPRESSED else ""
    return DatasetError(
        f"{path.name} is not valid {encoding} text: {where}{inside} cannot be decoded. Pass the file's "
        "encoding, e.g. encoding='latin-1' (command line: --encoding latin-1), or save the file as UTF-8."
    )


def _duplicates(names: Sequence[Any]) -> list[str]:
    seen = pd.Series([str(n) for n in names if str(n) != ""])
    return sorted(set(seen[seen.duplicated()]))


def _header(path: Path, encoding: str) -> list[str]:
    """Column names as written in the file (pandas renames duplicates to x, x.1)."""
    if path.suffix in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, encoding=encoding)
    return list(first.iloc[0]) if len(first) else []


def read_table(path: str | os.PathLike, *, encoding: str = "utf-8", na_values: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV (optionally .gz/.bz2/.xz) or parquet file, with clear errors.

    Rejects empty and binary files, undecodable bytes (naming the byte and the ``encoding``
    option) and duplicate column names.
    """
    path = Path(path)
    kind = "parquet" if path.suffix in {".parquet", ".pq"} else "CSV"
    try:
        if kind == "CSV":
            _check_text(path, encoding)
        duplicated = _duplicates(_header(path, encoding))
        if duplicated:
            raise DatasetError(
                f"{path.name} has duplicate column names {duplicated}; every column needs its own name. "
                "Rename or drop the repeated columns."
            )
        if kind == "parquet":
            frame = pd.read_parquet(path)
            return frame.replace(list(na_values), np.nan) if na_values else frame
        frame = pd.read_csv(path, encoding=encoding, na_values=list(na_values) or None)
        if frame.shape[1] == 1:
            for sep, what in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
                if sep in str(frame.columns[0]):
                    raise DatasetError(f"{path.name} looks {what}-separated ({sep!r} in its header, one column read): "
                                       f"causalmix reads comma-separated CSV. Convert it, e.g. pandas.read_csv(path, "
                                       f"sep={sep!r}).to_csv('out.csv', index=False).")
        return frame
    except DatasetError:
        raise
    except UnicodeDecodeError as err:
        raise _decode_error(path, encoding, err) from None
    except pd.errors.ParserError as err:
        raise DatasetError(
            f"Could not read {path.name} as CSV: {str(err).strip()}. "
            "Every row needs as many comma-separated fields as the header."
        ) from None
    except Exception as err:  # pandas and pyarrow raise many types for unreadable files
        raise DatasetError(f"Could not read {path} as {kind}: {err}") from err


def _is_identifier(column: pd.Series) -> bool:
    """A distinct string per row, or a distinct integer sequence per row (e.g. 0..n-1)."""
    n = len(column)
    if n < _MIN_ROWS_FOR_ID or column.isna().any() or pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=float)
        integers = bool((values == np.round(values)).all())
        return integers and column.nunique() == n and values.max() - values.min() == n - 1
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        return False
    return column.astype(str).nunique() == n


def _is_datetime_like(column: pd.Series) -> bool:
    """A datetime column, or strings that all look like dates (e.g. 2021-03-04, 04/03/2021 10:15)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    values = pd.Series(column.dropna().unique()).astype(str).str.strip()
    if values.empty or not values.map(lambda v: bool(_DATE_RE.fullmatch(v))).all():
        return False
    return _parse_dates(values) is not None


def _parse_dates(values: pd.Series) -> pd.Series | None:
    """Timestamps (UTC) read with one format for the whole column: month first where ambiguous,
    day first where only that fits; per value only if no single format fits; None if unparseable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' "could not infer format" notes
        for how in ({}, {"dayfirst": True}, {"format": "ISO8601"}, {"format": "mixed"}):
            try:
                return pd.to_datetime(values, errors="raise", utc=True, **how)
            except (ValueError, TypeError, OverflowError):
                continue
    return None


def _as_days(column: pd.Series) -> pd.Series:
    """Dates as float days since 1970-01-01 UTC (naive times are taken as UTC)."""
    stamps = column if pd.api.types.is_datetime64_any_dtype(column) else _parse_dates(column)
    stamps = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    return (stamps - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(days=1)


def _convert_dates(frame: pd.DataFrame, columns: list[str], name: str, dates: str) -> dict[str, Any]:
    """Raise for date columns, or replace them by days since 1970 (``dates="numeric"``), or keep
    them as categories (``dates="categorical"``)."""
    if not columns:
        return {}
    if dates == "categorical":
        return {"date_columns_kept_as_categories": columns}
    if dates != "numeric":
        example = frame[columns[0]].dropna().iloc[0]
        raise DatasetError(
            f"Unsupported column types in {name!r}: {columns} hold dates or times (e.g. {str(example)!r}), "
            "which the models cannot use as they are. Pass dates='numeric' (command line: --dates numeric) "
            "to turn them into days since 1970-01-01, dates='categorical' to keep them as categories, or "
            "convert or drop them yourself."
        )
    for col in columns:
        frame[col] = _as_days(frame[col])
    return {"converted_columns": [f"{c} (dates as days since 1970-01-01 UTC)" for c in columns]}


def _clean_table(
    frame: pd.DataFrame, target: str, name: str, *, dates: str, keep_id_columns: bool
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Convert or reject date columns, drop all-missing and identifier-like columns; returns notes."""
    if dates not in ("error", "numeric", "categorical"):
        raise DatasetError(f"dates={dates!r}: use 'error' (the default), 'numeric' or 'categorical'.")
    _check_target(frame, target, name)
    _check_values(frame, target, name)
    frame = frame.copy()
    features = [c for c in frame.columns if c != target]
    empty = [c for c in features if frame[c].isna().all()]
    date_cols = [c for c in features if c not in empty and _is_datetime_like(frame[c])]
    ids = [c for c in features if c not in empty and c not in date_cols and _is_identifier(frame[c])]
    notes = _convert_dates(frame, date_cols, name, dates)
    dropped = [f"{c} (all values missing)" for c in empty]
    if ids and keep_id_columns:
        notes["kept_identifier_columns"] = ids
    elif ids:
        warnings.warn(
            f"{name!r}: excluded identifier-like column(s) {ids} (a distinct value per row, which a model "
            "cannot generalise from). Pass keep_id_columns=True (command line: --keep-id-columns) to keep them.",
            UserWarning,
            stacklevel=4,
        )
        dropped += [f"{c} (identifier-like: a distinct value per row)" for c in ids]
    frame = frame.drop(columns=empty + ([] if keep_id_columns else ids))
    constant = [c for c in frame.columns if c != target and frame[c].nunique(dropna=False) <= 1]
    if constant:
        warnings.warn(f"{name!r}: excluded constant column(s) {constant} (a single value in every row: no "
                      "information, and nothing a generator can fit).", UserWarning, stacklevel=4)
        dropped += [f"{c} (constant: one value in every row)" for c in constant]
        frame = frame.drop(columns=constant)
    if frame.shape[1] < 2:
        raise DatasetError(f"{name!r} has no feature columns left besides {target!r} (dropped: {dropped}).")
    return frame, {**notes, "dropped_columns": dropped}


#: Values that stand for "missing" in some exports; a numeric column holding them is refused until
#: they are declared (``na_values``), instead of becoming a categorical column of every number.
MISSING_MARKERS = ("?", "??", "-", "--", ".", "*", "missing", "Missing", "MISSING", "unknown", "Unknown", "UNKNOWN")
#: Largest magnitude a numeric feature may hold (standardizing larger ones overflows float64).
MAX_ABS_VALUE = 1e100


def _check_values(frame: pd.DataFrame, target: str, name: str) -> None:
    """Refuse, naming the column, what every run would fail on or misread: nested values (lists,
    dicts), non-finite or overflowing numbers, and numbers with a missing-value marker such as ``?``."""
    for col in frame.columns:
        values = frame[col]
        if values.dtype == object:
            nested = values.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).to_numpy(dtype=bool)
            if nested.any():
                raise DatasetError(f"{name!r}: column {col!r} holds nested values (lists, arrays or mappings, e.g. row "
                                   f"{int(np.argmax(nested))}); flatten it into plain columns or drop it.")
        if col == target:
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            bad = np.isinf(x) | (np.abs(np.nan_to_num(x)) > MAX_ABS_VALUE)
            if bad.any():
                raise DatasetError(f"{name!r}: column {col!r} has {int(bad.sum())} infinite or overflowing value(s) "
                                   f"(|x| > {MAX_ABS_VALUE:g}, e.g. {x[bad][0]!r} in row {int(np.argmax(bad))}); "
                                   "replace them, rescale the column, or drop it.")
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            present = values.dropna().astype(str).str.strip()
            numeric = pd.to_numeric(present, errors="coerce").notna()
            others = present[~numeric]
            if len(present) and numeric.mean() >= 0.5 and set(others) and set(others) <= set(MISSING_MARKERS):
                markers = sorted(set(others))
                raise DatasetError(
                    f"{name!r}: column {col!r} is numeric except for {len(others)} value(s) {markers}, which look like "
                    f"missing-value markers; read as is it would become a categorical column of every number. "
                    f"Declare them missing: --na-values {' '.join(markers)} (library: na_values={markers})."
                )


def _check_target(frame: pd.DataFrame, target: str, name: str) -> None:
    if target not in frame.columns:
        raise DatasetError(
            f"Target column {target!r} not in {name!r}; columns are {list(frame.columns)[:20]}"
            f"{' ...' if frame.shape[1] > 20 else ''}."
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
    from causalmix.io import ChecksumError, check_sha256

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


def check_classes(y: pd.Series, classes: Sequence[str], where: str) -> None:
    """Every class needs two rows (one for training, one for validation): the check a run applies."""
    counts = y.value_counts()
    missing = sorted(set(classes) - set(counts.index)) or sorted(counts.index[counts < 2])
    if missing:
        raise DatasetError(
            f"Classes {missing} of {where} have fewer than 2 rows; each must appear in train and validation. "
            "Add rows of these classes, or remove or merge them."
        )


def check_splittable(dataset: Dataset) -> None:
    """The checks every run applies to a dataset: two rows per class and room for a test row."""
    check_classes(dataset.y, dataset.classes, repr(dataset.name))
    smallest = 2 * len(dataset.classes) + 1
    if len(dataset.y) < smallest:
        raise DatasetError(
            f"{dataset.name!r} has {len(dataset.y)} rows; the smallest split (one training and one validation "
            f"row per class, one test row) needs {smallest}."
        )


def add_dataset(
    path: str | os.PathLike,
    *,
    target: str,
    data_dir: str | os.PathLike,
    name: str | None = None,
    encoding: str = "utf-8",
    dates: DateHandling = "error",
    keep_id_columns: bool = False,
    na_values: Sequence[str] = (),
    replace: bool = False,
) -> Dataset:
    """Copy a CSV/parquet file of yours into a data directory as a named dataset.

    Writes ``<name>.csv.gz`` (the label last) and its entry in ``manifest.json`` (created or
    updated), the format ``CAUSALMIX_DATA_DIR`` reads, so sweeps and the command line can name it.
    The file is read and validated as ``load_dataset`` does (same options) and checked as a run
    would check it (two rows per class) before anything is written. ``name`` must match
    ``NAME_RULE``; the default is the file's stem, sanitized. Adding the same data under the same
    name again changes nothing; another dataset under a name the folder already holds is refused
    unless ``replace`` (command line: ``--replace``).

    >>> add_dataset("my.csv", target="label", data_dir="my_datasets")   # doctest: +SKIP
    """
    if name is not None:
        check_name(name)
    ds = _load_file(Path(path), target=target, encoding=encoding, dates=dates, keep_id_columns=keep_id_columns,
                    na_values=na_values)
    check_splittable(ds)
    name = check_name(_normalize(name or ds.name))
    data_dir = Path(data_dir)
    file = safe_path(data_dir, f"{name}.csv.gz")
    manifest_path = safe_path(data_dir, "manifest.json")
    manifest = _read_manifest(manifest_path)
    frame = ds.X.assign(**{target: ds.y})
    data = _gzip_bytes(frame.to_csv(index=False).encode(), file.name)
    listed = next((d for d in manifest["datasets"] if isinstance(d, dict) and d.get("name") == name), None)
    if listed is not None and file.is_file() and file.read_bytes() == data:  # the same data again: nothing to do
        return _load_local({**listed, "path": str(file), "data_dir": str(data_dir)}, target=None)
    if not replace and (listed is not None or file.exists()):
        raise DatasetError(f"{data_dir} already holds a dataset named {name!r} with other data; choose another "
                           "--name, or pass --replace (library: replace=True) to replace it (its runs' ids then "
                           "change).")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(file, data)
        entry = _manifest_entry(ds, frame, name, file, target)
        manifest["datasets"] = [d for d in manifest["datasets"] if d["name"] != name] + [entry]
        _write_atomic(manifest_path, json.dumps(manifest, indent=1).encode())
    except OSError as err:
        raise DatasetError(f"Could not write to {data_dir}: {err.strerror or err}. Choose a writable folder.") from err
    return _load_local({**entry, "path": str(data_dir / file.name), "data_dir": str(data_dir)}, target=None)


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


def _gzip_bytes(data: bytes, filename: str) -> bytes:
    """Deterministic gzip (mtime 0): the same data gives the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename=filename, mode="wb", fileobj=buffer, mtime=0) as fh:
        fh.write(data)
    return buffer.getvalue()


def _manifest_entry(ds: Dataset, frame: pd.DataFrame, name: str, file: Path, target: str) -> dict[str, Any]:
    counts = ds.y.value_counts()
    keys = ("converted_columns", "date_columns_kept_as_categories", "kept_identifier_columns", "encoding", "na_values")
    notes = {k: ds.provenance[k] for k in keys if k in ds.provenance}
    return {
        "name": name,
        "file": file.name,
        "target": target,
        "task": ds.task,
        "classes": [str(c) for c in counts.index],
        "class_counts": [int(v) for v in counts],
        "n_rows": len(frame),
        "n_features": ds.X.shape[1],
        "columns": [{"name": c, "type": "categorical" if c in ds.categorical_features or c == target else "numeric",
                     "n_missing": int(frame[c].isna().sum())} for c in frame.columns],
        "sha256": file_sha256(file),
        "source": ds.provenance["source"],
        "source_sha256": ds.provenance["sha256"],
        "dropped_columns": ds.provenance.get("dropped_columns", []),
        **notes,
    }


# --- the low-data split protocol ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """Stratified train / validation / test rows of one dataset for one seed.

    ``X_test_ood``/``y_test_ood`` hold the out-of-domain test rows of a domain-shift split.
    """

    dataset: str
    seed: int
    X_train: pd.DataFrame
    y_train: pd.Series
    X_val: pd.DataFrame
    y_val: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    X_test_ood: pd.DataFrame | None = None
    y_test_ood: pd.Series | None = None
    domain: str | None = None


def allocate(n: int, weights) -> np.ndarray:
    """Split ``n`` into integer parts proportional to ``weights`` (largest remainder), summing to ``n``.

    >>> allocate(10, [1, 1, 1]).tolist()
    [4, 3, 3]
    """
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    rest = n - counts.sum()
    if rest:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:rest]] += 1
    return counts


def _allocate(counts: pd.Series, n: int, minimum: int) -> pd.Series:
    """Per-class sizes summing to ``n``: ``minimum`` each (as far as a class has rows), the rest in
    proportion to the rows each class has left."""
    base = np.minimum(counts.to_numpy(), minimum)
    room = counts.to_numpy() - base
    rest = n - base.sum()
    extra = allocate(rest, room) if rest else np.zeros_like(base)
    return pd.Series(base + extra, index=counts.index)


def _draw(y: pd.Series, n: int, minimum: int, rng: np.random.Generator) -> np.ndarray:
    sizes = _allocate(y.value_counts().sort_index(), n, minimum)
    picked = [rng.choice(y.index[y == label].to_numpy(), size=k, replace=False) for label, k in sizes.items()]
    return np.sort(np.concatenate(picked))


def default_n_val(n_train: int, n_classes: int) -> int:
    """SPEC: ``n_train / 4``, at least two rows per class."""
    return max(n_train // 4, 2 * n_classes)


def low_data_split(
    dataset: Dataset,
    *,
    n_train: int,
    n_val: int | None = None,
    seed: int,
    test_cap: int = DEFAULT_TEST_CAP,
    rows: pd.Index | None = None,
) -> Split:
    """Draw the SPEC's low-data split: stratified train and validation sets, the rest as test.

    Every class is present in train and validation (or a clear error). The test set is the
    remaining rows, stratified-capped at ``test_cap``. Deterministic in ``seed``.

    Args:
        dataset: the loaded dataset.
        n_train: training rows.
        n_val: validation rows; default ``max(n_train // 4, 2 * n_classes)``.
        seed: the split seed.
        test_cap: most test rows (stratified subsample of the rest).
        rows: restrict the draw to these row labels (used by the domain-shift split).
    """
    y = dataset.y if rows is None else dataset.y.loc[rows]
    k = len(dataset.classes)
    n_val = default_n_val(n_train, k) if n_val is None else n_val
    where = f"{dataset.name!r}" + ("" if rows is None else " (in-domain rows)")
    if n_train < k or n_val < k:
        raise DatasetError(f"n_train={n_train} and n_val={n_val} must each be at least the {k} classes of {where}.")
    if n_train + n_val >= len(y):
        raise DatasetError(
            f"{where} has {len(y)} rows, fewer than n_train + n_val + 1 = {n_train + n_val + 1}; "
            "ask for fewer training/validation rows."
        )
    check_classes(y, dataset.classes, where)
    rng = np.random.default_rng(seed)
    train = _draw(y, n_train, 1, rng)
    rest = y.drop(index=train)
    val = _draw(rest, n_val, 1, rng)
    rest = rest.drop(index=val)
    test = rest.index.to_numpy() if len(rest) <= test_cap else _draw(rest, test_cap, 1, rng)
    X = dataset.X
    return Split(
        dataset=dataset.name,
        seed=seed,
        X_train=X.loc[train].reset_index(drop=True),
        y_train=dataset.y.loc[train].reset_index(drop=True),
        X_val=X.loc[val].reset_index(drop=True),
        y_val=dataset.y.loc[val].reset_index(drop=True),
        X_test=X.loc[test].reset_index(drop=True),
        y_test=dataset.y.loc[test].reset_index(drop=True),
    )


def domain_mask(
    dataset: Dataset, column: str, *, values: Sequence[Any] | None = None, between: Sequence[float] | None = None
) -> pd.Series:
    """Rows in the domain: ``column`` takes one of ``values`` or lies in ``[low, high)``."""
    if column not in dataset.X.columns:
        raise DatasetError(f"Domain column {column!r} not in {dataset.name!r}; columns: {list(dataset.X.columns)}.")
    if (values is None) == (between is None):
        raise DatasetError("Give exactly one of values=[...] (categorical) or between=[low, high) (numeric).")
    col = dataset.X[column]
    if values is not None:
        unknown = sorted(set(map(str, values)) - set(col.astype(str).unique()))
        if unknown:
            raise DatasetError(f"Values {unknown} never occur in {column!r}; it has {sorted(col.dropna().unique())[:20]}.")
        return col.astype(str).isin(set(map(str, values)))
    low, high = between
    return (col >= low) & (col < high)


def domain_shift_split(
    dataset: Dataset,
    *,
    column: str,
    values: Sequence[Any] | None = None,
    between: Sequence[float] | None = None,
    n_train: int,
    n_val: int | None = None,
    seed: int,
    test_cap: int = DEFAULT_TEST_CAP,
) -> Split:
    """A low-data split drawn inside one subgroup, tested in-domain and out-of-domain.

    >>> split = domain_shift_split(load_dataset("adult"), column="sex", values=["Male"],
    ...                            n_train=256, seed=0)      # doctest: +SKIP
    """
    mask = domain_mask(dataset, column, values=values, between=between)
    inside = dataset.y.index[mask]
    outside = dataset.y.index[~mask]
    if len(outside) == 0:
        raise DatasetError(f"Every row of {dataset.name!r} is in the domain {column}; nothing is out of domain.")
    split = low_data_split(dataset, n_train=n_train, n_val=n_val, seed=seed, test_cap=test_cap, rows=inside)
    rng = np.random.default_rng([seed, 1])
    y_out = dataset.y.loc[outside]
    ood = y_out.index.to_numpy() if len(y_out) <= test_cap else _draw(y_out, test_cap, 0, rng)
    label = f"{column} in {list(values)}" if values is not None else f"{between[0]} <= {column} < {between[1]}"
    return dataclasses.replace(
        split,
        X_test_ood=dataset.X.loc[ood].reset_index(drop=True),
        y_test_ood=dataset.y.loc[ood].reset_index(drop=True),
        domain=label,
    )
