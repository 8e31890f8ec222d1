"""What a run costs, before and after a change to the training loop: the same published runs with the
old code and the new code, alternating, and a check that their records are identical.

A stratified handful of cheap runs of the published standard study (:data:`SAMPLE`: one per method,
n_train 64 and 128, several datasets) is executed by :func:`causalmix.runs.execute_run` in subprocesses, one torch thread each: the
new code is this checkout, the old code a ``git archive`` of ``--base`` (default: the commit before
the loop was rebuilt around named pieces). Each subprocess first runs one spec untimed (imports,
model load), then every spec ``--reps`` times; versions alternate so that a busy machine slows both.
The records must agree exactly: every metric, best step, steps taken and the whole curve (the curve
files byte for byte); each new curve is also compared with the published one
(:func:`causalmix.verify.compare_curves`). Printed: seconds per run (wall and process CPU, the
median over repetitions), the old/new ratio, and the new code's seconds per phase (``timings``).

    python benchmarks/run_cost.py [--base 0909035] [--reps 2] [--out benchmarks/results/run_cost.md]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pandas as pd

from causalmix.publish import load_published
from causalmix.records import METRIC_FIELDS
from causalmix.runs import RunSpec, execute_run
from causalmix.verify import compare_curves

ROOT = Path(__file__).resolve().parents[1]
#: (method, n_train, dataset) of the sample (split seed 0): every kind of run the loop has (zero-shot,
#: real rows only, a generator), the two smallest sizes, tables of 4 to 38 columns, selected steps
#: from 0 to 20, early stops and full runs.
SAMPLE = (("pretrained", 64, "anneal"), ("finetune", 64, "anneal"), ("finetune", 128, "diabetes"),
          ("smote", 128, "churn"), ("mixup", 64, "wdbc"), ("gaussian_copula", 128, "phoneme"),
          ("causalmix", 64, "diabetes"), ("tableaugment", 64, "fitness-club"))
SAME = (*METRIC_FIELDS, "best_step", "n_steps", "stopped_early", "run_id", "n_estimators", "n_estimators_eval")


def sample_specs() -> pd.DataFrame:
    """The published runs of :data:`SAMPLE` (grid part, split seed 0)."""
    records, _ = load_published("standard")
    ok = records[(records["status"] == "ok") & (records["part"] == "main") & records["domain"].isna()
                 & (records["seed"] == 0)]
    picks = [ok[(ok["method"] == m) & (ok["n_train"] == n) & (ok["dataset"] == d)].iloc[0] for m, n, d in SAMPLE]
    return pd.DataFrame(picks)[["run_id", "dataset", "method", "n_train", "wall_time_s", "spec"]]


def worker(specs_json: str, out: str, reps: int) -> None:
    """Run the specs (``RunSpec`` dicts) ``reps`` times into ``out/<rep>``; print one JSON line per run."""
    import torch

    torch.set_num_threads(1)
    specs = [RunSpec(**d) for d in json.loads(Path(specs_json).read_text())]
    execute_run(specs[0], out_dir=Path(out) / "warmup")
    for rep in range(reps):
        for spec in specs:
            wall, cpu = time.perf_counter(), time.process_time()
            record = execute_run(spec, out_dir=Path(out) / str(rep))
            print(json.dumps({"run_id": spec.run_id, "rep": rep, "status": record.status,
                              "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                              "timings": record.timings}), flush=True)


def _base_tree(base: str, into: Path) -> Path:
    """``causalmix/`` of commit ``base``, unpacked under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", base, "causalmix"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _run_version(tree: Path, specs_json: Path, out: Path, reps: int) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(specs_json), str(out), str(reps)], env=env,
                          check=True, capture_output=True, text=True, cwd=tree)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _record(folder: Path, run_id: str) -> tuple[dict, bytes]:
    return (json.loads((folder / "records" / f"{run_id}.json").read_text()),
            (folder / "records" / f"{run_id}.curve.csv").read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="0909035", help="the old code's commit")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return 0

    sample = sample_specs()
    _, published_curves = load_published("standard")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees = {"old": _base_tree(args.base, tmp / "old-tree"), "new": ROOT}
        specs_json = tmp / "specs.json"
        specs_json.write_text(json.dumps([{**json.loads(s), "device": "cpu"} for s in sample["spec"]]))
        rows = []
        for rep in range(args.reps):  # one repetition per subprocess, the order alternating
            for version in (("old", "new") if rep % 2 == 0 else ("new", "old")):
                for r in _run_version(trees[version], specs_json, tmp / version / str(rep), 1):
                    rows.append({**r, "version": version, "rep": rep})
        runs = pd.DataFrame(rows)
        ids = [RunSpec(**{**json.loads(s), "device": "cpu"}).run_id for s in sample["spec"]]

        lines = [f"# Cost of a run: {args.base} (old) against this checkout (new)", "",
                 (f"{len(ids)} published standard runs, {args.reps} repetitions, one torch thread, "
                  f"{os.cpu_count()} CPUs; median seconds per run (execute_run, in-process)."), ""]
        table = []
        for published_id, run_id, row in zip(sample["run_id"], ids, sample.itertuples()):
            old, old_curve = _record(tmp / "old" / "0" / "0", run_id)
            new, new_curve = _record(tmp / "new" / "0" / "0", run_id)
            differs = [f for f in SAME if json.dumps(old.get(f)) != json.dumps(new.get(f))]
            if old_curve != new_curve:
                differs.append("curve")
            for rep in range(1, args.reps):  # every repetition of the new code records the same
                again, again_curve = _record(tmp / "new" / str(rep) / "0", run_id)
                if any(json.dumps(again.get(f)) != json.dumps(new.get(f)) for f in SAME) or again_curve != new_curve:
                    differs.append(f"new rep {rep}")
            pub = published_curves[published_curves["run_id"] == published_id].drop(columns="run_id")
            against = compare_curves(pub, pd.read_csv(io.BytesIO(new_curve))).outcome
            mine = runs[runs["run_id"] == run_id]
            med = mine.groupby("version")[["wall", "cpu"]].median()
            table.append({"method": row.method, "n_train": row.n_train, "dataset": row.dataset,
                          "best_step": new["best_step"], "n_steps": new["n_steps"],
                          "old wall s": med.loc["old", "wall"], "new wall s": med.loc["new", "wall"],
                          "old cpu s": med.loc["old", "cpu"], "new cpu s": med.loc["new", "cpu"],
                          "old/new wall": med.loc["old", "wall"] / med.loc["new", "wall"],
                          "old == new": "identical" if not differs else "DIFFERS: " + ", ".join(differs),
                          "new vs published": against})
        table = pd.DataFrame(table)
        lines += [table.to_markdown(index=False, floatfmt=".3f"), ""]
        total = runs.groupby("version")[["wall", "cpu"]].sum()
        old_s, new_s = total.loc["old"], total.loc["new"]
        lines += [(f"All runs, all repetitions: old {old_s['wall']:.1f} s wall / {old_s['cpu']:.1f} s CPU, "
                   f"new {new_s['wall']:.1f} s wall / {new_s['cpu']:.1f} s CPU: ratio old/new "
                   f"{old_s['wall'] / new_s['wall']:.3f} (wall), {old_s['cpu'] / new_s['cpu']:.3f} (CPU). "
                   f"Records identical: {int((table['old == new'] == 'identical').sum())}/{len(table)}."), ""]
        phases = pd.DataFrame([r["timings"] for r in rows if r["version"] == "new"]).sum()
        old_phases = pd.DataFrame([r["timings"] for r in rows if r["version"] == "old"]).sum()
        names = [k for k in phases.index if not k.startswith("cpu_")]
        per_phase = pd.DataFrame({"phase": names, "old wall s": [old_phases.get(k, float("nan")) for k in names],
                                  "new wall s": [phases[k] for k in names],
                                  "new cpu s": [phases.get(f"cpu_{k}", float("nan")) for k in names]})
        lines += [("Seconds per phase, summed over all runs and repetitions (the records' `timings`; "
                   "`generator_fit` is execute_run's own measurement, outside the loop):"), "",
                  per_phase.to_markdown(index=False, floatfmt=".2f")]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0 if (table["old == new"] == "identical").all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
