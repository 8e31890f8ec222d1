"""Benchmark every generator on credit-g (1,000 rows x 20 features): fit and sample(10_000) times.

Targets (issue 4): ``CausalMixGenerator().fit`` with defaults <= 60 s and ``sample(10_000)`` <= 2 s
on 2 CPU cores. Also times the CausalMix default fit on a 256-row subset (the size it runs at once
per split in the experiment sweeps) and, unless ``--no-fidelity``, a fidelity summary of 10,000
synthetic rows against the real ones. Wall and CPU (process) seconds are both printed: on a shared
machine the wall time depends on the load, which is printed too.

    python benchmarks/generators.py [--out benchmarks/results/generators.md] [--no-fidelity]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # 2 CPU cores, before numpy/sklearn load

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
if (ROOT.parent / "shared" / "datasets" / "manifest.json").is_file():  # offline copies, as in the tests
    os.environ.setdefault("CAUSALMIX_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))

import numpy as np
import pandas as pd

from causalmix.data import load_dataset
from causalmix.fidelity import fidelity_report
from causalmix.generators import GENERATORS, make_generator


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="credit-g")
    parser.add_argument("--n-sample", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=None, help="write a markdown table here")
    parser.add_argument("--no-fidelity", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    ds = load_dataset(args.dataset)
    X, y = ds.X, ds.y
    print(f"{args.dataset}: {X.shape[0]} rows x {X.shape[1]} features; load average {os.getloadavg()}")
    rows = []
    for name in GENERATORS:
        if name == "tabebm":
            continue  # SGLD through the network: timed below at the size sweeps use, per 1,000 rows
        gen = make_generator(name)
        try:
            _, fit_w, fit_c = timed(lambda: gen.fit(X, y))
        except ImportError as err:
            print(f"{name:16s} skipped: {str(err).splitlines()[0][:90]}")
            rows.append(dict(generator=name, note="not installed"))
            continue
        (Xs, ys), smp_w, smp_c = timed(lambda: gen.sample(args.n_sample, random_state=0))
        row = dict(generator=name, fit_wall_s=fit_w, fit_cpu_s=fit_c, sample_wall_s=smp_w, sample_cpu_s=smp_c)
        if name == "causalmix":
            row["note"] = f"stages {', '.join(f'{k} {v:.1f}s' for k, v in gen.fit_seconds_.items())}"
        if not args.no_fidelity and len(Xs):
            rep = fidelity_report((X, y), (Xs, ys), random_state=0)
            row.update({k: v for k, v in rep.summary().items() if not k.startswith("n_") and k != "trtr_auc"})
        rows.append(row)
        print(f"{name:16s} fit {fit_w:7.2f} s wall ({fit_c:6.2f} s CPU)   sample({args.n_sample}) "
              f"{smp_w:6.2f} s wall ({smp_c:5.2f} s CPU)")

    idx = np.sort(np.random.default_rng(0).permutation(len(X))[:256])
    gen = make_generator("causalmix")
    _, w, c = timed(lambda: gen.fit(X.iloc[idx], y.iloc[idx]))
    _, sw, sc = timed(lambda: gen.sample(256, random_state=0))
    print(f"causalmix @256 rows: fit {w:.2f} s wall ({c:.2f} s CPU), sample(256) {sw:.2f} s wall")
    rows.append(dict(generator="causalmix (256-row subset)", fit_wall_s=w, fit_cpu_s=c, sample_wall_s=sw,
                     sample_cpu_s=sc, note="sample(256)"))

    # TabEBM: 200 SGLD steps through the shipped network; fit at the sweep size. pool_size=None runs the
    # chains in sample(), so sample(1000) is the cost of 1,000 rows (the default fit draws a 1,024-row pool).
    gen = make_generator("tabebm", pool_size=None)
    _, w, c = timed(lambda: gen.fit(X.iloc[idx], y.iloc[idx]))
    (Xs, ys), sw, sc = timed(lambda: gen.sample(1000, random_state=0))
    print(f"tabebm @256 rows: fit {w:.2f} s wall ({c:.2f} s CPU), sample(1000) {sw:.2f} s wall ({sc:.2f} s CPU)")
    row = dict(generator="tabebm (256-row subset)", fit_wall_s=w, fit_cpu_s=c, sample_wall_s=sw, sample_cpu_s=sc,
               note="sample(1000) with pool_size=None: the SGLD cost per 1,000 rows (200 steps, causalmix-tiny); "
                    "the default fit draws its 1,024-row pool at this cost")
    if not args.no_fidelity:
        rep = fidelity_report((X, y), (Xs, ys), random_state=0)
        row.update({k: v for k, v in rep.summary().items() if not k.startswith("n_") and k != "trtr_auc"})
    rows.append(row)

    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"# Generator benchmark: {args.dataset} ({X.shape[0]} rows x {X.shape[1]} features)\n\n"
            f"Command: `python benchmarks/generators.py --out {args.out}`; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
            f"load average at start {os.getloadavg()[0]:.1f} (shared machine: wall times are inflated by "
            f"other jobs; CPU seconds are this process's own). sample = `sample({args.n_sample})` except "
            f"where noted. Fidelity columns: synthetic rows vs the same real rows (see causalmix.fidelity).\n\n"
        )
        args.out.write_text(header + table.round(3).to_markdown(index=False) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
