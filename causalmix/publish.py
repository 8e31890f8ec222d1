"""A published study: a sweep's records as compact tables with their provenance, shipped with the book.

An expensive configuration (``standard``) is run once and published under ``published/<name>/``:

- ``runs.csv.gz`` — one row per run (every record field, the run's spec as JSON, ``part``:
  ``"main"`` for the configuration's grid, ``"extra"`` for other runs of its folder such as the
  study's extension, ``"ablation"`` for its ablation sweep: :mod:`causalmix.study`);
- ``curves.csv.gz`` — the fine-tuning curve of every successful run (``run_id``, ``part``, ``step``, ...);
- ``provenance.json`` — configuration, result version (and the result modules' source hash), git commit, model and dataset sha256,
  package versions, hardware, compute and wall time, and the sha256 of both tables.

The book reads these tables (:func:`load_published`) instead of recomputing them, and
:mod:`causalmix.verify` recomputes a sample of the runs to show they still come out the same.

    causalmix study publish standard    # after `causalmix study run standard`
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.io import check_sha256
from causalmix.provenance import REPO_ROOT, file_sha256, git_commit
from causalmix.records import load_curves, load_records
from causalmix.runs import RESULT_VERSION, result_code_hash
from causalmix.study import current_records, load_study, settings, with_part
from causalmix.sweep_config import SweepConfig

__all__ = ["PUBLISHED_DIR", "is_published", "load_published", "publish", "published_dir", "published_table",
           "read_provenance", "uses_published"]

#: Where published studies live; ``CAUSALMIX_PUBLISHED_DIR`` points elsewhere (tests, a user's own study).
PUBLISHED_DIR = Path(os.environ.get("CAUSALMIX_PUBLISHED_DIR") or REPO_ROOT / "published")
PARTS = ("main", "extra", "ablation")


def published_dir(config: str | Path) -> Path:
    """``published/<configuration name>/`` (whether or not it exists)."""
    return PUBLISHED_DIR / settings(config)["name"]


def is_published(config: str | Path) -> bool:
    """Whether the configuration has published records in this checkout."""
    return (published_dir(config) / "runs.csv.gz").is_file()


def uses_published(config: str | Path, out_dir: str | Path | None = None) -> bool:
    """Whether the book reads the published records: the configuration is published and no records
    folder was named (naming one, as ``make reproduce FRESH=1`` does, computes into it instead)."""
    return out_dir is None and is_published(config)


def read_provenance(config: str | Path) -> dict[str, Any]:
    """The published study's ``provenance.json``."""
    path = published_dir(config) / "provenance.json"
    if not path.is_file():
        raise FileNotFoundError(f"No published study for {config!r} ({path} is missing); run `causalmix study publish {config}`.")
    return json.loads(path.read_text())


def load_published(config: str | Path, part: str | tuple[str, ...] = ("main", "extra")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(records, curves)`` of the published study, the frames :func:`causalmix.report.load_results`
    gives for a records folder (plus ``spec`` and ``part``); ``part``: which runs (see the module)."""
    folder = published_dir(config)
    if not (folder / "runs.csv.gz").is_file():
        raise FileNotFoundError(f"No published study for {config!r} under {folder}; run `causalmix study publish {config}`.")
    parts = (part,) if isinstance(part, str) else tuple(part)
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"Unknown part(s) {sorted(unknown)}; valid: {PARTS}.")
    _check_settings(config)
    records = pd.read_csv(published_table(config, "runs.csv.gz"), low_memory=False, keep_default_na=False,
                          na_values=[""])
    records = records[records["part"].isin(parts)].reset_index(drop=True)
    curves = pd.read_csv(published_table(config, "curves.csv.gz"), low_memory=False)
    # a run can be in two parts (the ablation's baseline is a run of the main grid): its curve is in both
    return records, curves[curves["part"].isin(parts)].drop(columns="part").reset_index(drop=True)


def published_table(config: str | Path, name: str) -> Path:
    """The path of a published table, after checking it against the sha256 its ``provenance.json``
    records (ValueError naming the file and both hashes on a mismatch, or when none is recorded:
    a table changed, truncated by a kill or replaced since publication is never read)."""
    folder = published_dir(config)
    recorded = (read_provenance(config).get("files") or {}).get(name)
    if not recorded:
        raise ValueError(f"{folder / 'provenance.json'} records no sha256 for {name}, so {folder / name} cannot be "
                         f"checked; re-publish the study (`causalmix study publish {config}`).")
    check_sha256(folder / name, recorded, what="published table",
                 fix=f"Restore it (e.g. `git checkout -- {folder / name}`) or re-publish (`causalmix study publish {config}`).")
    return folder / name


def _check_settings(config: str | Path) -> None:
    """Raise ValueError when the configuration no longer has the settings it was published with: its
    published records are then not the runs it describes."""
    current = json.loads(json.dumps(settings(config), default=str))
    published = read_provenance(config).get("settings", current)
    default = json.loads(json.dumps(SweepConfig().to_dict(), default=str))  # a key added since, left at its default
    changed = sorted(k for k in set(published) | set(current)
                     if published.get(k, default.get(k)) != current.get(k, default.get(k)))
    if changed:
        name = current["name"]
        raise ValueError(f"The configuration {name!r} changed since its study was published ({', '.join(changed)}), so "
                         f"the published records are not its runs. Re-publish it (`make reproduce CONFIG={name} FRESH=1`, "
                         f"then `causalmix study publish {name}`) or restore the published settings.")


def _folder_records(folder: Path, grid: dict[str, Any] | str | Path, model: str, *, grid_part: str,
                    other_part: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not (folder / "records").is_dir():
        return pd.DataFrame(), pd.DataFrame()
    everything = load_records(folder)
    records = with_part(current_records(everything, model), grid, grid_part=grid_part, other_part=other_part)
    records = records[records["part"].notna()]
    curves = load_curves(folder, everything)
    curves = curves[curves["run_id"].isin(records["run_id"])]
    return records, curves.assign(part=curves["run_id"].map(records.set_index("run_id")["part"]))


def publish(config: str | Path, *, out_dir: str | Path | None = None, dest: str | Path | None = None) -> Path:
    """Write the configuration's current records (model, weights and result code of now) from its
    results folder, and those of its ablation sweep, as the published study; returns the folder.

    Raises ValueError when a run of the main grid has no record (a published study holds every run
    of its configuration, a failed one with its reason), or some of the ablation sweep's runs.
    """
    cfg = settings(config)
    study = load_study(config, out_dir=out_dir)
    where = Path(study.grid["out_dir"])
    main, main_curves = _folder_records(where, study.grid, cfg["model"], grid_part="main", other_part="extra")
    expected = {s.run_id for s in study.specs("grid")}
    recorded = set(main.loc[main["part"] == "main", "run_id"]) if len(main) else set()
    if expected - recorded:  # failed runs are published with their reason (e.g. a dataset too small for n_train)
        raise ValueError(f"{len(expected - recorded)} of the {len(expected)} runs of {cfg['name']!r} have no record "
                         f"under {where} (of the current code); run `causalmix study run {config}` until it finishes first.")
    abl, abl_curves = pd.DataFrame(), pd.DataFrame()
    if study.ablation is not None:
        sweep = study.ablation
        abl, abl_curves = _folder_records(Path(sweep["out_dir"]), sweep, cfg["model"], grid_part="ablation", other_part=None)
        planned = {s.run_id for s in study.specs("ablation")}
        if len(abl) and planned - set(abl["run_id"]):  # none at all: a study published without its ablations
            raise ValueError(f"{len(planned - set(abl['run_id']))} of the {len(planned)} ablation runs have no record "
                             f"under {sweep['out_dir']}; run `causalmix study run {config}` until it finishes first.")
    records = pd.concat([main, abl], ignore_index=True)
    curves = pd.concat([main_curves, abl_curves], ignore_index=True)

    folder = Path(dest) if dest is not None else published_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    # csv keeps every float exactly (shortest round-trip repr); gzip with a fixed mtime is reproducible
    # every file is written whole under a temporary name, then the three are renamed into place (provenance
    # last): a kill leaves the old study, or tables whose sha256 provenance.json does not match (refused on reading)
    gz = {"method": "gzip", "mtime": 0}
    staged = {name: folder / f".{name}.{os.getpid()}.tmp" for name in ("runs.csv.gz", "curves.csv.gz", "provenance.json")}
    try:
        records.sort_values("run_id").to_csv(staged["runs.csv.gz"], index=False, compression=gz)
        curves.sort_values(["run_id", "part", "step"]).to_csv(staged["curves.csv.gz"], index=False, compression=gz)
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise

    def unique(col: str, frame: pd.DataFrame = records) -> list[str]:
        return sorted({str(v) for v in frame[col].dropna()}) if col in frame else []

    ok_runs = records[records["status"] == "ok"]
    provenance = {
        "configuration": cfg["name"],
        "settings": cfg,
        "published_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "published_from_commit": git_commit(),
        "result_version": sorted({int(v) for v in records["result_version"].dropna()}) or [RESULT_VERSION],
        "result_code_hash": unique("code_hash"),  # the source of the result modules: provenance only
        "result_code_hash_at_publication": result_code_hash(),
        "run_commits": unique("git_commit"),
        "model": cfg["model"],
        "model_sha256": unique("model_sha256"),
        "dataset_sha256": {d: unique("dataset_sha256", records[records["dataset"] == d]) for d in unique("dataset")},
        "versions": json.loads(records["versions"].iloc[0]) if len(records) else {},
        "hardware": unique("hardware"),
        "devices": unique("device"),
        "runs": {part: {"ok": int((ok_runs["part"] == part).sum()),
                        "failed": int(((records["part"] == part) & (records["status"] != "ok")).sum())}
                 for part in PARTS},
        "compute_seconds": round(float(records["wall_time_s"].sum()), 1),  # the runs' own wall times
        # their process CPU time (None for records older than the field: the published standard study)
        "cpu_seconds": _cpu_seconds(records),
        "wall_seconds": _wall_seconds(where, *([Path(study.ablation["out_dir"])] if study.ablation else [])),  # elapsed, as the sweeps logged it
        "files": {name: file_sha256(staged[name]) for name in ("runs.csv.gz", "curves.csv.gz")},
    }
    try:
        staged["provenance.json"].write_text(json.dumps(provenance, indent=1, sort_keys=False) + "\n")
        for name, tmp in staged.items():
            os.replace(tmp, folder / name)
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
    return folder


def _cpu_seconds(records: pd.DataFrame) -> float | None:
    """The runs' summed process CPU time, or None when a record has none (records older than the field)."""
    if not len(records) or "cpu_time_s" not in records or records["cpu_time_s"].isna().any():
        return None
    return round(float(records["cpu_time_s"].sum()), 1)


def _wall_seconds(*folders: Path) -> float | None:
    """Elapsed seconds of the sweeps that wrote these folders, from their ``sweep-log.jsonl`` (None
    if there is none)."""
    logs = [f / "sweep-log.jsonl" for f in folders if (f / "sweep-log.jsonl").is_file()]
    if not logs:
        return None
    entries = [json.loads(line) for log in logs for line in log.read_text().splitlines() if line.strip()]
    return round(sum(float(e.get("wall_time_s", 0)) for e in entries), 1)
