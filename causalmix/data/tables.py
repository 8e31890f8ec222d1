"""Reading a table of yours (CSV, optionally compressed, or parquet) and cleaning it for a dataset.

:func:`read_table` gives clear errors for empty, binary, undecodable or badly separated files and
duplicate column names; :func:`_clean_table` converts or rejects date columns, drops all-missing,
identifier-like and constant columns, and refuses values every run would fail on.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from causalmix.data.names import DatasetError

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
