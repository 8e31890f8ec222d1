"""Re-verify a published study: recompute a seeded, stratified sample of its runs and compare.

:func:`sample_runs` draws the sample from the published main grid: every method, dataset,
training size and domain (shift) at least once, then random runs up to ``n_runs``; within each
stratum a run is drawn at random from its cheaper half by recorded wall time, so that the check
fits in minutes on 2 cores.
:func:`verify` recomputes those runs from scratch with the current code (their recorded spec:
dataset, split, seed, method, model, settings) and compares every metric of their records:

- ``identical``: every metric bit for bit (expected on the same kind of CPU and software);
- ``noise``: the largest difference is at most ``tolerance`` (1e-6): numerical noise;
- ``differs``: a larger difference, or another best step — the run is named and the check fails.

It also says whether the result-determining code changed since publication (another result-code
hash): then a failing check means the study must be re-published. The outcome is written to
``results/<name>-verify/verification.json``, which the book's benchmark page shows.

    causalmix verify standard --jobs 2
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.provenance import REPO_ROOT
from causalmix.runs import _METRIC_FIELDS, RunSpec, dataset_fingerprint

__all__ = ["Verification", "sample_runs", "verification_path", "verify"]

TOLERANCE = 1e-6
VERIFY_ROOT = REPO_ROOT / "results"  # machine-local: git-ignored like every results folder
COMPARED = (*_METRIC_FIELDS, "best_step", "n_steps")


def sample_runs(records: pd.DataFrame, n_runs: int = 32, seed: int = 0) -> pd.DataFrame:
    """A stratified random sample of successful runs: one per method, then one per dataset, training
    size and domain (shift) not yet drawn, then random ones up to ``n_runs``; each from the cheaper
    half (by ``wall_time_s``) of its stratum, so the expensive generators (TabEBM) are verified on
    their cheapest splits.

    >>> recs = pd.DataFrame({"run_id": [f"r{i}" for i in range(12)], "status": "ok",
    ...                      "method": ["a", "b", "c"] * 4, "dataset": ["x"] * 6 + ["y"] * 6,
    ...                      "wall_time_s": np.arange(12.0)})
    >>> s = sample_runs(recs, n_runs=4, seed=0)
    >>> len(s), sorted(set(s["method"])) == ["a", "b", "c"], sorted(set(s["dataset"]))
    (4, True, ['x', 'y'])
    """
    ok = records[records["status"] == "ok"]
    if ok.empty:
        raise ValueError("No successful runs to sample from.")
    rng = np.random.default_rng(seed)
    picked: list[str] = []

    def draw(stratum: pd.DataFrame) -> None:
        stratum = stratum[~stratum["run_id"].isin(picked)]
        if stratum.empty:
            return
        cheap = stratum[stratum["wall_time_s"] <= stratum["wall_time_s"].median()]
        pool = sorted((cheap if len(cheap) else stratum)["run_id"])
        picked.append(pool[rng.integers(len(pool))])

    for column in ("method", "dataset", "n_train", "domain"):
        if column not in ok:
            continue
        values = ok[column].map(str)
        for value in sorted(values.unique()):
            if not values[ok["run_id"].isin(picked)].eq(value).any():
                draw(ok[values == value])
    rest = ok[~ok["run_id"].isin(picked) & (ok["wall_time_s"] <= ok["wall_time_s"].median())]
    extra = max(0, n_runs - len(picked))
    if extra and len(rest):
        picked += list(rng.choice(sorted(rest["run_id"]), size=min(extra, len(rest)), replace=False))
    return ok.set_index("run_id").loc[picked].reset_index()


@dataclasses.dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`: one row per recomputed run in ``runs``."""

    configuration: str
    runs: pd.DataFrame  # run_id, dataset, method, n_train, seed, max_abs_diff, outcome
    published_sha256: str  # of the runs table checked (a re-publication makes the check stale)
    published_code: tuple[str, ...]
    current_code: str
    machine: str
    date: str
    seconds: float
    tolerance: float = TOLERANCE

    @property
    def counts(self) -> dict[str, int]:
        return {k: int((self.runs["outcome"] == k).sum()) for k in ("identical", "noise", "differs")}

    @property
    def ok(self) -> bool:
        return self.counts["differs"] == 0

    @property
    def code_changed(self) -> bool:
        return self.current_code not in self.published_code

    def summary(self) -> str:
        c = self.counts
        text = (f"Re-verified {len(self.runs)} published runs of {self.configuration!r} from scratch on {self.machine} "
                f"({self.date}, {self.seconds / 60:.1f} min): {c['identical']} identical, {c['noise']} within "
                f"{self.tolerance:g} (numerical noise), {c['differs']} different.")
        if self.code_changed:
            text += (f" The result-determining code changed since publication (published {', '.join(self.published_code)}, "
                     f"now {self.current_code})" + ("; its numbers still match." if self.ok else
                                                    "; re-publish the study (`make reproduce FRESH=1`, then "
                                                    "`causalmix publish`)."))
        if not self.ok:
            bad = self.runs[self.runs["outcome"] == "differs"]
            text += " Different: " + ", ".join(f"{r.run_id} ({r.detail})" for r in bad.itertuples()) + "."
        return text

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "runs"}
        d["runs"] = json.loads(self.runs.to_json(orient="records"))
        return {**d, "counts": self.counts, "ok": self.ok, "code_changed": self.code_changed, "summary": self.summary()}


def verification_path(config: str | Path) -> Path:
    """``results/<name>-verify/verification.json``: where the last check of this machine is."""
    from causalmix.report import load_config

    return VERIFY_ROOT / f"{load_config(config)['name']}-verify" / "verification.json"


def _compare(published: pd.Series, recomputed: dict[str, Any]) -> tuple[float, str, str]:
    """(largest absolute metric difference, outcome, detail)."""
    worst, where = 0.0, ""
    for field in COMPARED:
        a, b = published.get(field), recomputed.get(field)
        a = math.nan if a is None or (isinstance(a, str) and not a) else float(a)
        b = math.nan if b is None else float(b)
        if math.isnan(a) and math.isnan(b):
            continue
        diff = math.inf if math.isnan(a) or math.isnan(b) else abs(a - b)
        if field in ("best_step", "n_steps") and diff:
            return diff, "differs", f"{field} {a:g} published, {b:g} now"
        if diff > worst:
            worst, where = diff, f"{field} {a:.6g} published, {b:.6g} now"
    outcome = "identical" if worst == 0 else ("noise" if worst <= TOLERANCE else "differs")
    return worst, outcome, where


def _other_inputs(published: pd.Series, recomputed: dict[str, Any]) -> str:
    """Why a recomputed run may differ: another dataset file or other weights than the published run's."""
    why = []
    if str(published.get("dataset_sha256")) != str(recomputed.get("dataset_sha256")):
        why.append("the dataset is not the published file (sha256 differs): point CAUSALMIX_DATA_DIR at the shared "
                   "datasets")
    if str(published.get("model_sha256")) != str(recomputed.get("model_sha256")):
        why.append("the model weights differ from the published ones (sha256)")
    return "; ".join(why)


def _check_datasets(sample: pd.DataFrame) -> None:
    """Raise ValueError, before any run, when a dataset here is not the file the published runs read:
    every recomputed run would differ, and the reason is the data, not the code."""
    other = {}
    for dataset, published in sample.groupby("dataset")["dataset_sha256"].first().items():
        try:
            here = dataset_fingerprint(dataset)
        except Exception as err:  # not in this data folder and not in the registry
            here = f"not available ({err})"
        if here != published:
            other[dataset] = here
    if other:
        raise ValueError(f"{len(other)} dataset(s) here are not the files the published runs read ("
                         + "; ".join(f"{d}: {h[:16]}" for d, h in sorted(other.items())) + "): point CAUSALMIX_DATA_DIR "
                         "at the shared datasets (the make targets use ../shared/datasets when it exists), or build "
                         "without the check (VERIFY_RUNS=0).")


def verify(config: str | Path, *, n_runs: int = 32, seed: int = 0, jobs: int = 2, progress: bool = True) -> Verification:
    """Recompute a sample (:func:`sample_runs`) of the published study and compare (module docstring).

    Writes :func:`verification_path`; the recomputed records go beside it (replaced at every check).
    """
    from tqdm.auto import tqdm

    from causalmix.experiment import run_local
    from causalmix.provenance import file_sha256, hardware
    from causalmix.publish import load_published, published_dir
    from causalmix.report import load_config
    from causalmix.runs import result_code_hash

    cfg = load_config(config)
    verification_path(config).unlink(missing_ok=True)  # an interrupted check must not leave the last one standing
    published, _ = load_published(config, "main")
    sample = sample_runs(published, n_runs=n_runs, seed=seed)
    _check_datasets(sample)
    try:
        specs = {row.run_id: RunSpec(**{**json.loads(row.spec), "device": "cpu"}) for row in sample.itertuples()}
    except TypeError as err:
        raise ValueError(f"The published runs of {cfg['name']!r} were made by code whose run settings differ from "
                         f"this code's ({err}); re-publish the study (`make reproduce FRESH=1`, then `causalmix publish`).") from err
    out = verification_path(config).parent
    shutil.rmtree(out / "records", ignore_errors=True)  # from scratch: no record of an earlier check is reused
    shutil.rmtree(out / "generators", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    recomputed: dict[str, dict[str, Any]] = {}
    new_ids = {spec.run_id: old for old, spec in specs.items()}
    bar = tqdm(total=len(specs), desc=f"verify {cfg['name']}", unit="run", disable=not progress)

    def done(record) -> None:
        if record is not None:
            recomputed[new_ids[record.run_id]] = record.to_dict()
        bar.update(1)

    t0 = time.perf_counter()
    try:
        run_local(list(specs.values()), out, jobs=jobs, threads=1, device="cpu", on_record=done,
                  on_lost=lambda spec, error: bar.update(1))
    finally:
        bar.close()
    rows, by_id = [], published.set_index("run_id")
    for row in sample.itertuples():
        rec = recomputed.get(row.run_id)
        if rec is None or rec.get("status") != "ok":
            why = "not recomputed" if rec is None else f"failed now: {rec.get('error')}"
            diff, outcome, detail = math.inf, "differs", why
        else:
            diff, outcome, detail = _compare(by_id.loc[row.run_id], rec)
            inputs = _other_inputs(by_id.loc[row.run_id], rec)
            if inputs and outcome != "identical":
                detail = f"{detail}; {inputs}"
        rows.append({"run_id": row.run_id, "dataset": row.dataset, "method": row.method, "n_train": row.n_train,
                     "seed": row.seed, "max_abs_diff": diff, "outcome": outcome, "detail": detail})
    result = Verification(
        configuration=cfg["name"], runs=pd.DataFrame(rows),
        published_sha256=file_sha256(published_dir(config) / "runs.csv.gz"),
        published_code=tuple(sorted({str(h) for h in published["code_hash"].dropna()})),
        current_code=result_code_hash(), machine=hardware("cpu"), date=time.strftime("%Y-%m-%d %H:%M %Z"),
        seconds=round(time.perf_counter() - t0, 1),
    )
    verification_path(config).write_text(json.dumps(result.to_dict(), indent=1, default=str) + "\n")
    return result
