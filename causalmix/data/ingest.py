"""Making a file of yours a named dataset of a data directory (:func:`add_dataset`): the file is
read and checked as :func:`~causalmix.data.load_dataset` reads it, then written as a deterministic
``<name>.csv.gz`` with its ``manifest.json`` entry.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.data.names import DatasetError, _normalize, check_name, safe_path
from causalmix.data.registry import Dataset, _load_file, _load_local, _read_manifest
from causalmix.data.splits import check_splittable
from causalmix.data.tables import DateHandling
from causalmix.io import write_bytes_atomic
from causalmix.provenance import file_sha256


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
        write_bytes_atomic(file, data)
        entry = _manifest_entry(ds, frame, name, file, target)
        manifest["datasets"] = [d for d in manifest["datasets"] if d["name"] != name] + [entry]
        write_bytes_atomic(manifest_path, json.dumps(manifest, indent=1).encode())
    except OSError as err:
        raise DatasetError(f"Could not write to {data_dir}: {err.strerror or err}. Choose a writable folder.") from err
    return _load_local({**entry, "path": str(data_dir / file.name), "data_dir": str(data_dir)}, target=None)



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
