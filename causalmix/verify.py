"""Re-verify a published study: check every record against its curve, recompute a sample of runs and compare.

Three checks, from cheapest to dearest:

1. **Every record follows from its curve.** The selected step, the stopping point and the metrics
   of a record are a pure function of its published curve (:mod:`causalmix.rederive`); every
   successful run of every part (grid, extension, ablations) is checked, in seconds.
2. **A sample is recomputed from scratch** (:func:`sample_runs`): drawn from *all* published
   runs, stratified (every part, method or ablation variant, dataset, training size and domain
   first), seeded, and cost-aware without excluding anything: a run is drawn with probability
   inversely proportional to its recorded time, under a budget of recorded seconds. Every run that
   fits the budget can be drawn; :func:`draw_probabilities` says how likely a given run is. ``all_runs=True``
   (``causalmix verify NAME --all``) recomputes every run instead, resumably.
3. **Whole curves are compared**, not only the final metrics: every metric at every evaluated
   step, within :data:`TOLERANCE` (1e-6, the selection rule's ε):

   - ``identical``: bit for bit (expected on the same kind of CPU and software);
   - ``noise``: every difference at most ``TOLERANCE`` (another CPU's float rounding), or a
     *near-tie*: a ROC-AUC or accuracy that moved where the same rows' log-loss agrees within
     ``TOLERANCE`` (two rows tied within rounding swapped order);
   - ``diverged``: on another CPU model than the publishing one, a run of a float-sensitive
     generator (:data:`FLOAT_SENSITIVE_GENERATORS`: CausalMix, TabEBM) whose step 0 agrees but whose
     curve leaves the published one afterwards (its synthetic rows differ), or a CausalMix run
     recorded before :data:`DISCOVERY_ORDER_FIXED` (its causal graph followed the process's hash
     order) on any CPU: reported with its differences and the reason, not failed;
   - ``differs``: anything else — named with the metric and the first step; the check fails.

Since selection is tie-proof (:mod:`causalmix.selection`), curves that agree within the tolerance
select the same step. The outcome is written to ``results/<name>-verify/verification.json``, which
the book's landing and benchmark pages show, together with this machine and the publishing one.

    causalmix verify standard --runs 32 --jobs 2
    causalmix verify standard --all            # every run; resumable
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

from causalmix.experiment import run_local
from causalmix.provenance import REPO_ROOT, file_sha256, hardware, machine, made_before
from causalmix.publish import load_published, published_dir
from causalmix.records import METRIC_FIELDS, read_json
from causalmix.rederive import CURVE_METRICS, inconsistent_records
from causalmix.runs import METHODS, RESULT_VERSION, RunSpec, dataset_fingerprint
from causalmix.selection import EPSILON
from causalmix.study import settings

__all__ = ["DEFAULT_BUDGET_S", "Verification", "compare_curves", "draw_probabilities", "sample_runs",
           "verification_path", "verify"]

TOLERANCE = EPSILON
VERIFY_ROOT = REPO_ROOT / "results"  # machine-local: git-ignored like every results folder
COMPARED = (*METRIC_FIELDS, "best_step", "n_steps")
#: Recorded seconds (on the publishing machine) a sample may cost: about 3 minutes at --jobs 2.
DEFAULT_BUDGET_S = 360.0
STRATA = ("part", "arm", "dataset", "n_train", "domain")
OUTCOMES = ("identical", "noise", "diverged", "differs")
#: Generators whose synthetic rows are not continuous in their input at float precision, measured:
#: on a bank-customer-churn split (n_train 128) a relative change of 1e-12 to the training rows moves
#: 12 % of CausalMix's synthetic numeric cells by up to 0.3 column SDs (the fitted mechanisms' model
#: choice and split points flip; the causal graph stays); TabEBM's SGLD chains follow the network's
#: gradients for hundreds of steps. On another CPU such a run can leave the published curve after
#: step 0 (its synthetic rows differ) while every other method agrees to 1e-6.
FLOAT_SENSITIVE_GENERATORS = ("causalmix", "tabebm")
#: The commit from which causal discovery no longer depends on the process's string-hash seed
#: (``causalmix.discovery._fixed_node_hashes``). Before it, FCI's graph on some wide tables followed the
#: per-process hash order of causal-learn's nodes: a CausalMix record made then drew its DAGs in one
#: unrecorded order, so recomputing it may leave its curve after step 0 on any CPU, its own included.
DISCOVERY_ORDER_FIXED = "1ed0f2b7b773e5575bd2495b3d03d9c237159541"


def _arm(records: pd.DataFrame) -> pd.Series:
    """A run's method, or its ablation variant."""
    arm = records["method"].astype(str)
    return arm.where(records["variant"].isna(), records["variant"].astype(str)) if "variant" in records else arm


def sample_runs(records: pd.DataFrame, n_runs: int = 32, seed: int = 0,
                budget_s: float = DEFAULT_BUDGET_S) -> pd.DataFrame:
    """A seeded, stratified, cost-aware sample of the successful runs (module docstring).

    First one run for every value of :data:`STRATA` not yet in the sample (part, method or variant,
    dataset, training size, domain; values in a seeded order; a fine-tuned run where one fits, since a
    pre-trained run is step 0 alone), then random runs up to ``n_runs``.
    Each draw picks among the runs that still fit the budget, with probability proportional to
    ``1 / recorded seconds``; a stratum none of whose runs fits is skipped.

    >>> recs = pd.DataFrame({"run_id": [f"r{i}" for i in range(12)], "status": "ok",
    ...                      "method": ["a", "b", "c"] * 4, "dataset": ["x"] * 6 + ["y"] * 6,
    ...                      "wall_time_s": np.arange(1.0, 13.0)})
    >>> s = sample_runs(recs, n_runs=4, seed=0, budget_s=1e9)
    >>> len(s), sorted(set(s["method"])) == ["a", "b", "c"], sorted(set(s["dataset"]))
    (4, True, ['x', 'y'])
    >>> float(sample_runs(recs, n_runs=12, seed=0, budget_s=20)["wall_time_s"].sum()) <= 20
    True
    """
    ok = records[records["status"] == "ok"].drop_duplicates("run_id").reset_index(drop=True)
    if ok.empty:
        raise ValueError("No successful runs to sample from.")
    ok = ok.assign(arm=_arm(ok))
    cost = ok["wall_time_s"].fillna(ok["wall_time_s"].median()).clip(lower=1.0).to_numpy()
    rng = np.random.default_rng(seed)
    picked = np.zeros(len(ok), bool)
    left = float(budget_s)

    def draw(mask: np.ndarray) -> None:
        nonlocal left
        fits = mask & ~picked & (cost <= left)
        if fits.any():
            weights = np.where(fits, 1.0 / cost, 0.0)
            i = int(rng.choice(len(ok), p=weights / weights.sum()))
            picked[i], left = True, left - cost[i]

    tuned = (ok["arm"] != "pretrained").to_numpy()  # step 0 alone: cheapest, and it tests the least
    for column in STRATA:
        if column not in ok:
            continue
        values = ok[column].map(str).to_numpy()
        for value in rng.permutation(sorted(set(values))):
            if not (picked & (values == value)).any():
                prefer = (values == value) & (tuned if column != "arm" else True)
                draw(prefer if (prefer & (cost <= left)).any() else values == value)
    while picked.sum() < n_runs and (~picked & (cost <= left)).any():
        draw(np.ones(len(ok), bool))
    return ok[picked].drop(columns="arm").reset_index(drop=True)


def draw_probabilities(records: pd.DataFrame, *, n_runs: int = 32, budget_s: float = DEFAULT_BUDGET_S,
                       seeds: range = range(200)) -> pd.Series:
    """For each successful run, the share of sample seeds whose :func:`sample_runs` draws it: the
    probability that one tampered run is recomputed by a check with a random seed."""
    ok = records[records["status"] == "ok"].drop_duplicates("run_id")
    counts = pd.Series(0, index=ok["run_id"], dtype=float)
    for seed in seeds:
        counts[sample_runs(ok, n_runs=n_runs, seed=seed, budget_s=budget_s)["run_id"]] += 1
    return counts / len(seeds)


@dataclasses.dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`: one row per checked run in ``runs`` (``check``: ``"curve"``
    for a record that does not follow from its curve, ``"recomputed"`` for a recomputed run)."""

    configuration: str
    runs: pd.DataFrame  # run_id, part, dataset, method, n_train, seed, check, max_abs_diff, outcome, detail
    n_records_checked: int  # records checked against their curves (every successful run)
    published_sha256: str  # of the runs table checked (a re-publication makes the check stale)
    published_versions: tuple[int, ...]
    current_version: int
    machine: str
    machine_details: dict[str, Any]
    published_machines: tuple[str, ...]
    date: str
    seconds: float
    mode: str = "sample"  # or "all"
    budget_s: float | None = DEFAULT_BUDGET_S
    tolerance: float = TOLERANCE

    @property
    def counts(self) -> dict[str, int]:
        recomputed = self.runs[self.runs["check"] == "recomputed"]
        return {k: int((recomputed["outcome"] == k).sum()) for k in OUTCOMES}

    @property
    def n_inconsistent(self) -> int:
        return int((self.runs["check"] == "curve").sum())

    @property
    def ok(self) -> bool:
        """No run differs and every record follows from its curve (diverged runs are reported)."""
        return self.counts["differs"] == 0 and self.n_inconsistent == 0

    @property
    def version_changed(self) -> bool:
        return self.current_version not in self.published_versions

    @property
    def failed_runs(self) -> list[str]:
        return list(self.runs.loc[self.runs["outcome"] == "differs", "run_id"])

    def summary(self) -> str:
        c = self.counts
        text = (f"Checked all {self.n_records_checked} successful records of {self.configuration!r} against their "
                f"curves: {self.n_inconsistent} inconsistent. Recomputed {sum(c.values())} runs from scratch on "
                f"{self.machine} ({self.date}, {self.seconds / 60:.1f} min) and compared their whole curves: "
                f"{c['identical']} identical, {c['noise']} within {self.tolerance:g} (numerical noise), "
                f"{c['diverged']} diverged after step 0 (a float-sensitive generator on another CPU, or a "
                "CausalMix run recorded before discovery stopped depending on the hash seed), "
                f"{c['differs']} different.")
        if self.version_changed:
            text += (f" The result version changed since publication (published {self.published_versions}, now "
                     f"{self.current_version})" + ("; its numbers still match." if self.ok else
                                                   "; re-publish the study (`make reproduce FRESH=1`, then "
                                                   "`causalmix publish`)."))
        if c["diverged"]:
            gone = self.runs[self.runs["outcome"] == "diverged"]
            text += " Diverged: " + ", ".join(f"{r.run_id} ({r.detail})" for r in gone.itertuples()) + "."
        if not self.ok:
            bad = self.runs[self.runs["outcome"] == "differs"]
            text += " Different: " + ", ".join(f"{r.run_id} ({r.detail})" for r in bad.itertuples()) + "."
        return text

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "runs"}
        d["runs"] = json.loads(self.runs.to_json(orient="records"))
        return {**d, "counts": self.counts, "n_inconsistent": self.n_inconsistent, "ok": self.ok,
                "version_changed": self.version_changed, "failed_runs": self.failed_runs, "summary": self.summary()}


def verification_path(config: str | Path) -> Path:
    """``results/<name>-verify/verification.json``: where the last check of this machine is."""
    return VERIFY_ROOT / f"{settings(config)['name']}-verify" / "verification.json"


def _number(v: Any) -> float:
    return math.nan if v is None or (isinstance(v, str) and not v) else float(v)


def _compare(published: pd.Series, recomputed: dict[str, Any]) -> tuple[float, str, str]:
    """The record's fields: (largest absolute metric difference, outcome, detail)."""
    worst, where = 0.0, ""
    for field in COMPARED:
        a, b = _number(published.get(field)), _number(recomputed.get(field))
        if math.isnan(a) and math.isnan(b):
            continue
        diff = math.inf if math.isnan(a) or math.isnan(b) else abs(a - b)
        if field in ("best_step", "n_steps") and diff:
            return diff, "differs", f"{field} {a:g} published, {b:g} now"
        if diff > worst:
            worst, where = diff, f"{field} {a:.6g} published, {b:.6g} now"
    return worst, _outcome(worst), where


def _outcome(worst: float) -> str:
    return "identical" if worst == 0 else ("noise" if worst <= TOLERANCE else "differs")


@dataclasses.dataclass(frozen=True)
class CurveComparison:
    """Two curves of one run compared (:func:`compare_curves`)."""

    worst: float  # largest absolute difference of any metric at any common step
    outcome: str  # "identical", "noise" or "differs"
    detail: str  # the metric and step of the worst (or first failing) difference; near-ties counted
    first_step: int | None = None  # the first evaluated step that differs beyond noise


def compare_curves(published: pd.DataFrame, recomputed: pd.DataFrame, tolerance: float = TOLERANCE) -> CurveComparison:
    """Every metric of two curves of one run at every evaluated step.

    *Noise* is a difference of at most ``tolerance``, or a *near-tie*: a ROC-AUC or accuracy that
    differs at a step where the same evaluation set's log-loss agrees within ``tolerance`` — the
    predicted probabilities agree to float precision, so the rank or threshold metric moved because
    two rows (or a row and the threshold) were tied within rounding. Anything else *differs*, and
    the first such step is named.

    >>> a = pd.DataFrame({"step": [0, 2], "val_roc_auc": [0.7, 0.8], "val_log_loss": [0.5, 0.4]})
    >>> compare_curves(a, a.assign(val_roc_auc=[0.7, 0.8 + 1e-7])).outcome
    'noise'
    >>> compare_curves(a, a.assign(val_roc_auc=[0.7, 0.81])).detail   # a swapped near-tie: log-loss agrees
    'val_roc_auc at step 2: 0.8 published, 0.81 now (1 near-tie)'
    >>> c = compare_curves(a, a.assign(val_roc_auc=[0.7, 0.81], val_log_loss=[0.5, 0.41]))
    >>> c.outcome, c.first_step
    ('differs', 2)
    """
    steps = sorted(set(published["step"]) & set(recomputed["step"]))
    pub, new = published.set_index("step").loc[steps], recomputed.set_index("step").loc[steps]
    worst, where, failing, near_ties = 0.0, "", [], 0
    for col in CURVE_METRICS:
        if col not in pub and col not in new:
            continue
        a = pub[col].to_numpy(float) if col in pub else np.full(len(steps), np.nan)
        b = new[col].to_numpy(float) if col in new else np.full(len(steps), np.nan)
        diff = np.where(np.isnan(a) & np.isnan(b), 0.0, np.abs(a - b))
        diff = np.where(np.isnan(diff), np.inf, diff)
        over = diff > tolerance
        if over.any() and not col.endswith("log_loss"):
            ll = col.rsplit("_", 2)[0] if col.endswith("balanced_accuracy") else col.rsplit("_", 1)[0]
            ll = f"{ll.removesuffix('_roc')}_log_loss"
            if ll in pub and ll in new:
                tied = np.abs(pub[ll].to_numpy(float) - new[ll].to_numpy(float)) <= tolerance
                near_ties += int((over & tied).sum())
                over &= ~tied
        failing += [(steps[i], col, a[i], b[i]) for i in np.flatnonzero(over)]
        i = int(np.argmax(diff))
        if diff[i] > worst:
            worst, where = float(diff[i]), f"{col} at step {steps[i]}: {a[i]:.6g} published, {b[i]:.6g} now"
    if list(published["step"]) != list(recomputed["step"]):
        step = next((x for x, y in zip(published["step"], recomputed["step"]) if x != y), steps[-1] if steps else 0)
        failing.append((step, "evaluated steps", len(published), len(recomputed)))
        where = (f"evaluated steps up to {int(published['step'].max())} published, {int(recomputed['step'].max())} "
                 f"now; {where}")
        worst = math.inf
    tie_note = f" ({near_ties} near-tie{'s' if near_ties != 1 else ''})" if near_ties else ""
    if failing:
        step, col, a, b = min(failing, key=lambda f: f[0])
        first = f"first at step {step}: {col} {a:.6g} published, {b:.6g} now" if col != "evaluated steps" else where
        return CurveComparison(worst, "differs", first + tie_note, int(step))
    return CurveComparison(worst, _outcome(min(worst, tolerance) if near_ties else worst), where + tie_note)


def _cpu(hardware_text: str) -> str:
    return str(hardware_text).rsplit(",", 1)[0].strip()


def _divergence(published: pd.Series, comparison: CurveComparison, here: str) -> str | None:
    """Why a run that differs has *diverged* (reported, not failed), or None: its step 0 agrees (same
    split, weights and evaluation), its generator is float-sensitive (:data:`FLOAT_SENSITIVE_GENERATORS`),
    and either this CPU is not the one that computed it or it is a CausalMix run recorded before
    :data:`DISCOVERY_ORDER_FIXED`. Otherwise every run must agree to float noise."""
    generator = METHODS.get(str(published.get("method")))
    if comparison.first_step is None or comparison.first_step == 0 or generator not in FLOAT_SENSITIVE_GENERATORS:
        return None
    if _cpu(published.get("hardware", "")) != _cpu(here):
        return "float-sensitive generator on another CPU"
    if generator == "causalmix" and made_before(str(published.get("git_commit", "")), DISCOVERY_ORDER_FIXED):
        return "recorded before causal discovery stopped depending on the process's hash seed"
    return None


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


COLUMNS = ("run_id", "part", "dataset", "method", "n_train", "seed", "check", "max_abs_diff", "outcome", "detail")


def _row(run_id: str, rec: pd.Series, check: str, diff: float, outcome: str, detail: str) -> dict[str, Any]:
    return {"run_id": run_id, "part": rec.get("part", "main"), "dataset": rec["dataset"], "method": rec["method"],
            "n_train": rec["n_train"], "seed": rec["seed"], "check": check, "max_abs_diff": diff, "outcome": outcome,
            "detail": detail}


def _recompute(sample: pd.DataFrame, out: Path, *, jobs: int, progress: bool, label: str) -> dict[str, tuple]:
    """Run the sample's specs into ``out`` (runs already recorded there are kept); returns
    published run id -> (record dict, curve) of what is recorded there now."""
    from tqdm.auto import tqdm

    specs = {row.run_id: RunSpec(**{**json.loads(row.spec), "device": "cpu"}) for row in sample.itertuples()}
    records = out / "records"
    todo = [s for s in specs.values() if not _ok_record(records / f"{s.run_id}.json")]
    bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc=label, unit="run", disable=not progress)
    try:
        run_local(todo, out, jobs=jobs, threads=1, device="cpu", on_record=lambda record: bar.update(1),
                  on_lost=lambda spec, error: bar.update(1))
    finally:
        bar.close()
    found = {}
    for published_id, spec in specs.items():
        rec = _ok_record(records / f"{spec.run_id}.json", status=None)
        if rec is not None:
            curve_path = records / f"{spec.run_id}.curve.csv"
            found[published_id] = (rec, pd.read_csv(curve_path) if curve_path.is_file() else None, spec.run_id)
    return found


def _ok_record(path: Path, status: str | None = "ok") -> dict[str, Any] | None:
    rec = read_json(path)
    return None if rec is None or (status is not None and rec.get("status") != status) else rec


def verify(config: str | Path, *, n_runs: int = 32, seed: int = 0, jobs: int = 2, all_runs: bool = False,
           budget_s: float | None = DEFAULT_BUDGET_S, run_ids: list[str] | None = None,
           out_dir: str | Path | None = None, progress: bool = True) -> Verification:
    """Check a published study (module docstring): every record against its curve, then a sample
    (:func:`sample_runs`; ``all_runs``: every run; ``run_ids``: these runs) recomputed and compared
    curve by curve.

    Writes ``verification.json`` into ``out_dir`` (default: the folder of :func:`verification_path`,
    which the book reads). A sample is recomputed from scratch each time (its records are removed
    first); ``all_runs`` keeps what an interrupted full check already recomputed
    (``results/<name>-verify-all/``), so it resumes.
    """
    cfg = settings(config)
    out = Path(out_dir) if out_dir is not None else verification_path(config).parent
    if all_runs and out_dir is None:
        out = out.with_name(out.name + "-all")
    for stale in {out / "verification.json", *([verification_path(config)] if out_dir is None else [])}:
        stale.unlink(missing_ok=True)  # an interrupted check must not leave the last one standing
    published, curves = load_published(config, ("main", "extra", "ablation"))
    published = published.drop_duplicates("run_id").reset_index(drop=True)  # an ablation baseline is a grid run
    t0 = time.perf_counter()
    by_id = published.set_index("run_id")
    rows = [_row(bad.run_id, by_id.loc[bad.run_id], "curve", math.inf, "differs",
                 f"record does not follow from its curve: {bad.detail}")
            for bad in inconsistent_records(published, curves).itertuples()]
    ok = published[published["status"] == "ok"]
    if run_ids is not None:
        missing = sorted(set(run_ids) - set(ok["run_id"]))
        if missing:
            raise ValueError(f"No successful published run {missing[0]!r} in {cfg['name']!r} (of {len(missing)} asked).")
        sample = ok[ok["run_id"].isin(run_ids)]
    elif all_runs:
        sample = ok
    else:
        sample = sample_runs(published, n_runs=n_runs, seed=seed, budget_s=math.inf if budget_s is None else budget_s)
    _check_datasets(sample)
    if not all_runs:
        shutil.rmtree(out / "records", ignore_errors=True)  # from scratch: no record of an earlier check is reused
    out.mkdir(parents=True, exist_ok=True)
    try:
        found = _recompute(sample, out, jobs=jobs, progress=progress, label=f"verify {cfg['name']}")
    except TypeError as err:
        raise ValueError(f"The published runs of {cfg['name']!r} were made by code whose run settings differ from "
                         f"this code's ({err}); re-publish the study (`make reproduce FRESH=1`, then "
                         "`causalmix publish`).") from err
    published_curves = {k: c.sort_values("step") for k, c in curves.drop_duplicates(["run_id", "step"]).groupby("run_id")}
    for run_id in sample["run_id"]:
        pub = by_id.loc[run_id]
        got = found.get(run_id)
        if got is None or got[0].get("status") != "ok":
            why = "not recomputed" if got is None else f"failed now: {got[0].get('error')}"
            rows.append(_row(run_id, pub, "recomputed", math.inf, "differs", why))
            continue
        new, curve, new_id = got
        diff, outcome, detail = _compare(pub, new)
        if curve is not None and run_id in published_curves:
            cmp = compare_curves(published_curves[run_id], curve)
            diff, detail = cmp.worst, cmp.detail
            same_selection = all(_number(pub.get(k)) == _number(new.get(k)) for k in ("best_step", "n_steps"))
            outcome = cmp.outcome if same_selection or cmp.outcome == "differs" else "differs"
            if not same_selection and cmp.outcome != "differs":
                detail = f"best step {pub.get('best_step')} published, {new.get('best_step')} now; {detail}"
            why = _divergence(pub, cmp, hardware("cpu")) if outcome == "differs" else None
            if why:
                outcome, detail = "diverged", f"{detail} ({why})"
        inputs = _other_inputs(pub, new)
        if new_id != run_id and not inputs:
            inputs = f"its run id is {new_id} here (other package versions?)"
        if inputs and outcome != "identical":
            detail = f"{detail}; {inputs}"
        rows.append(_row(run_id, pub, "recomputed", diff, outcome, detail))
    versions = published["result_version"].dropna() if "result_version" in published else pd.Series(dtype=float)
    result = Verification(
        configuration=cfg["name"], runs=pd.DataFrame(rows, columns=list(COLUMNS)),
        n_records_checked=len(ok), published_sha256=file_sha256(published_dir(config) / "runs.csv.gz"),
        published_versions=tuple(sorted({int(v) for v in versions})), current_version=RESULT_VERSION,
        machine=hardware("cpu"), machine_details=machine("cpu"),
        published_machines=tuple(sorted({str(h) for h in published["hardware"].dropna()})),
        date=time.strftime("%Y-%m-%d %H:%M %Z"), seconds=round(time.perf_counter() - t0, 1),
        mode="all" if all_runs else "sample", budget_s=None if all_runs else budget_s,
    )
    if all_runs and out_dir is None:  # the book reads the last check at verification_path: a full audit is one
        verification_path(config).parent.mkdir(parents=True, exist_ok=True)
        verification_path(config).write_text(json.dumps(result.to_dict(), indent=1, default=str) + "\n")
    (out / "verification.json").write_text(json.dumps(result.to_dict(), indent=1, default=str) + "\n")
    return result
