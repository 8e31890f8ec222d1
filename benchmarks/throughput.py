"""Study throughput on this machine: where a run's time goes and how long a configuration takes.

(a) Evaluation, side by side in one process: one evaluation (validation + test rows scored with
    the current weights) the way the runner did it before (tabpfn's default mode, context and
    queries through the network together, once per query set) and the way it does now
    (:class:`causalmix.evaluation.ContextEvaluator`: tabpfn's cached inference, the context once
    per evaluation). Alternating, median of ``--repeats``; with the largest difference of any
    probability (0 where no column is constant in the context but not among the queries).
(b) From a results folder's records: runs per hour by method and n_train (one core per run), the
    share of each phase (set-up, generator fit, synthetic rows, step preprocessing, steps,
    evaluations), and the configuration's remaining hours with ``--jobs`` parallel runs as the
    sweep itself estimates them (:func:`causalmix.experiment.plan_sweep`, from these medians).

    python benchmarks/throughput.py --results results/standard --config standard --jobs 2 \\
        | tee benchmarks/results/throughput.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from causalmix.data import load_dataset, low_data_split
from causalmix.encoding import Encoder
from causalmix.evaluation import ContextEvaluator, ensemble_size, make_classifier
from causalmix.plan import plan_sweep
from causalmix.records import load_records
from causalmix.model import DEFAULT_MODEL
from causalmix.provenance import git_commit, hardware

PHASES = ("setup", "generator_fit", "synthetic", "preprocess", "train", "eval")


def evaluation_side_by_side(datasets: list[str], sizes: list[int], *, model: str, repeats: int,
                            test_cap: int) -> pd.DataFrame:
    rows = []
    for name in datasets:
        for n_train in sizes:
            split = low_data_split(load_dataset(name), n_train=n_train, seed=0, test_cap=test_cap)
            enc = Encoder.fit(split.X_train, split.y_train)
            X_tr, y_tr = enc.X(split.X_train, "train"), enc.y(split.y_train, "train")
            X_val, X_te = enc.X(split.X_val, "val"), enc.X(split.X_test, "test")
            before = make_classifier(model, n_estimators=4, seed=0, device="cpu", fit_mode="fit_preprocessors",
                                     categorical_indices=enc.categorical_indices)
            members = before.n_estimators = ensemble_size(before, X_tr.shape[1], 4)  # as fine-tuning raises it
            before.fit(X_tr, y_tr)
            now = ContextEvaluator(model, X_tr, y_tr, categorical_indices=enc.categorical_indices,
                                   n_estimators=members, seed=0)
            weights = before.models_[0]
            times: dict[str, list[float]] = {"before": [], "now": []}
            for _ in range(repeats):
                t = time.perf_counter()
                old = np.concatenate([before.predict_proba(X_val), before.predict_proba(X_te)])
                times["before"].append(time.perf_counter() - t)
                t = time.perf_counter()
                now.load_weights(weights)  # as at every evaluation: new weights, the context's cache rebuilt
                new = np.concatenate([now.predict_proba(X_val), now.predict_proba(X_te)])
                times["now"].append(time.perf_counter() - t)
            b, n = statistics.median(times["before"]), statistics.median(times["now"])
            rows.append({"dataset": name, "n_train": n_train, "features": X_tr.shape[1], "query rows": len(X_val) + len(X_te),
                         "members": members, "s before": round(b, 3), "s now": round(n, 3), "now / before": round(n / b, 2),
                         "max |Δp|": float(np.abs(old - new).max())})
    return pd.DataFrame(rows)


def study_profile(results: Path, config: str | None, jobs: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    records = load_records(results)
    ok = records[records["status"] == "ok"].copy()
    if ok.empty:
        raise SystemExit(f"no successful records under {results}")
    ok["other"] = ok["wall_time_s"] - ok[[f"time_{p}" for p in PHASES]].sum(axis=1)
    g = ok.groupby(["method", "n_train"])
    per_cell = pd.DataFrame({"runs": g.size(), "median s": g["wall_time_s"].median().round(2)})
    per_cell["runs per hour (1 core)"] = (3600 / per_cell["median s"]).round(0)
    phases = ok.groupby("method")[[f"time_{p}" for p in PHASES] + ["other"]].sum()
    phases = (100 * phases.div(phases.sum(axis=1), axis=0)).round(1)
    phases.columns = [c.removeprefix("time_") + " %" for c in phases.columns]
    text = f"{len(ok)} successful runs recorded, {ok['wall_time_s'].sum() / 3600:.2f} compute hours."
    slow = ok.groupby("method")["time_generator_fit"].max() > 1  # the generators whose fit takes time
    fits = ok[ok["method"].isin(slow[slow].index)].groupby(["method", "n_train"])["time_generator_fit"]
    if len(fits):
        spread = fits.agg(["size", "median", "max"]).round(1).reset_index()
        text += ("\n\nGenerator fits (seconds, once per split; CausalMixFT's is causal discovery + SCMs): "
                 + "; ".join(f"{r.method} n{r.n_train}: {r.size} fits, median {r.median}, max {r.max}"
                             for r in spread.itertuples()) + ".")
    if config:  # the sweep's own estimate of what is left, from these medians
        text += "\n\nThe " + str(plan_sweep(config, out_dir=results, jobs=jobs)).splitlines()[0] + "."
    return per_cell.reset_index(), phases.reset_index(), text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--datasets", nargs="*", default=["adult", "anneal", "splice", "phoneme"])
    parser.add_argument("--sizes", nargs="*", type=int, default=[64, 512])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--test-cap", type=int, default=500)
    parser.add_argument("--results", type=Path, default=None, help="a results folder for part (b)")
    parser.add_argument("--config", default=None, help="the configuration to project (part b)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    os.environ.setdefault("TQDM_DISABLE", "1")
    print(f"# Throughput: model {args.model}; {hardware('cpu')}, 1 torch thread; commit {git_commit(short=True)}\n")
    t0 = time.perf_counter()
    ev = evaluation_side_by_side(args.datasets, args.sizes, model=args.model, repeats=args.repeats, test_cap=args.test_cap)
    print("## (a) One evaluation (validation + test rows), before and now\n")
    print(ev.to_markdown(index=False))
    print(f"\nTotal: {ev['s before'].sum():.2f} s before, {ev['s now'].sum():.2f} s now "
          f"({ev['s now'].sum() / ev['s before'].sum():.2f}x); {time.perf_counter() - t0:.0f} s for this part.\n")
    if args.results is not None:
        cells, phases, text = study_profile(args.results, args.config, args.jobs)
        print(f"## (b) The study in {args.results}\n\n{text}\n")
        print(cells.to_markdown(index=False))
        print("\nWhere the time goes (share of the runs' wall time, per method):\n")
        print(phases.to_markdown(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
