"""TabEBM checked against its paper (issue 32): fidelity of the published setting vs the reference's.

For every dataset: a low-data split (``--n-train`` rows, seed ``--seed``), TabEBM fitted with the
published defaults and with :data:`causalmix.tabebm.PAPER_SETTINGS` (the reference code's settings),
``--n-synthetic`` rows drawn and scored with :func:`causalmix.fidelity.fidelity_report` against as
many held-out test rows, exactly as notebook 01's fidelity table (``causalmix.report.anatomy``). The
real training rows scored the same way are the reference row. Then two costs:

- one split at ``--cost-n-train`` rows (``--cost-dataset``) with the paper settings: the generator's
  fit (its 1,024-row pool of SGLD chains, what a run pays per split), wall and CPU seconds;
- the context cache: one class's chains with and without it, rows compared for equality.

Only datasets of the exploratory study (``causalmix/configs/standard.yaml``) may be named: the others are
reserved for the confirmatory study.

    python benchmarks/tabebm_check.py [--out benchmarks/results/tabebm_check.md]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if (ROOT.parent / "shared" / "datasets" / "manifest.json").is_file():
    os.environ.setdefault("CAUSALMIX_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))

import numpy as np
import pandas as pd
import torch

from causalmix.data import load_dataset, low_data_split
from causalmix.fidelity import fidelity_report
from causalmix.report.anatomy import held_out
from causalmix.sweep_config import load_config
from causalmix.tabebm import PAPER_SETTINGS, TabEBMGenerator

SETTINGS = {"published (defaults)": {}, "paper (PAPER_SETTINGS)": dict(PAPER_SETTINGS)}


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def allowed_datasets() -> set[str]:
    return set(load_config("standard").datasets)  # causalmix/configs/standard.yaml


def fidelity_rows(dataset: str, n_train: int, seed: int, n_synthetic: int) -> list[dict]:
    split = low_data_split(load_dataset(dataset), n_train=n_train, seed=seed)
    real = held_out(split, n_synthetic, seed=seed)
    ref = fidelity_report(real, (split.X_train, split.y_train), random_state=seed).summary()
    rows = [{"dataset": dataset, "setting": "real training rows (reference)", "c2st_auc": ref["c2st_auc"],
             "marginal_mean": ref["marginal_mean"], "marginal_max": ref["marginal_max"],
             "association_diff": ref["association_diff"], "fit_s": np.nan, "fit_cpu_s": np.nan, "sample_s": np.nan}]
    for label, params in SETTINGS.items():
        gen, fit_s, fit_cpu = timed(lambda: TabEBMGenerator(random_state=seed, **params).fit(split.X_train, split.y_train))
        syn, sample_s, _ = timed(lambda: gen.sample(n_synthetic, random_state=seed))
        rep = fidelity_report(real, syn, random_state=seed).summary()
        rows.append({"dataset": dataset, "setting": label, "c2st_auc": rep["c2st_auc"],
                     "marginal_mean": rep["marginal_mean"], "marginal_max": rep["marginal_max"],
                     "association_diff": rep["association_diff"], "fit_s": fit_s, "fit_cpu_s": fit_cpu,
                     "sample_s": sample_s})
        print(rows[-1], flush=True)
    return rows


def cost_per_split(dataset: str, n_train: int, seed: int) -> dict:
    split = low_data_split(load_dataset(dataset), n_train=n_train, seed=seed)
    _, wall, cpu = timed(lambda: TabEBMGenerator(random_state=seed, **PAPER_SETTINGS).fit(split.X_train, split.y_train))
    return {"dataset": dataset, "n_train": n_train, "setting": "paper (PAPER_SETTINGS), pool 1,024 rows",
            "fit_wall_s": wall, "fit_cpu_s": cpu}


def cache_speedup(dataset: str, n_train: int, n_steps: int) -> dict:
    """Class 0's chains as a run draws them (its share of the 1,024-row pool), ``n_steps`` steps."""
    from causalmix.data import allocate

    split = low_data_split(load_dataset(dataset), n_train=n_train, seed=0)
    gen = TabEBMGenerator(n_steps=n_steps, pool_size=None, **PAPER_SETTINGS).fit(split.X_train, split.y_train)
    gen.network()  # loaded before the clocks start
    n_chains = int(allocate(1024, gen.class_counts_)[0])
    out = {}
    for cache in (False, True, False, True):  # alternated, the second of each kept (warm)
        rows, wall, cpu = timed(lambda: gen.langevin(0, n_chains, np.random.default_rng(1), cache=cache))
        out[cache] = (rows, wall, cpu)
    (a, wa, ca), (b, wb, cb) = out[False], out[True]
    return {"dataset": dataset, "n_train": n_train, "context_rows": int(gen.class_counts_[0]) + gen.n_negatives,
            "chains": n_chains, "steps": n_steps,
            "uncached_wall_s": wa, "cached_wall_s": wb, "uncached_cpu_s": ca, "cached_cpu_s": cb,
            "cpu_saved_pct": 100 * (1 - cb / ca), "rows_identical": bool(np.array_equal(a, b))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["diabetes", "blood-transfusion", "wdbc"])
    ap.add_argument("--n-train", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-synthetic", type=int, default=1000)
    ap.add_argument("--cost-dataset", default="diabetes")
    ap.add_argument("--cost-n-train", type=int, default=512)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the sweeps' setting: 1 per worker)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    bad = [d for d in [*args.datasets, args.cost_dataset] if d not in allowed_datasets()]
    if bad:
        raise SystemExit(f"{bad}: not a dataset of the exploratory study (causalmix/configs/standard.yaml); the others are "
                         f"reserved for the confirmatory study.")
    torch.set_num_threads(args.threads)

    fid = pd.DataFrame([r for d in args.datasets for r in fidelity_rows(d, args.n_train, args.seed, args.n_synthetic)])
    cost = pd.DataFrame([cost_per_split(args.cost_dataset, args.cost_n_train, args.seed)])
    print(cost.to_dict("records"), flush=True)
    cache = pd.DataFrame([cache_speedup(args.cost_dataset, n, 20) for n in (128, args.cost_n_train)])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    def md(df: pd.DataFrame) -> str:
        return df.to_markdown(index=False, floatfmt=".3f")

    text = "\n".join([
        "# TabEBM: the published setting vs the reference's (issue 32)",
        "",
        f"`python benchmarks/tabebm_check.py` — {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch threads {args.threads}, load average at the end {load:.2f} (a shared machine: wall seconds "
        f"depend on the load, CPU seconds less). Model: the shipped default. TabEBM's defaults otherwise "
        f"(200 steps, step 0.1, noise 0.01, pool 1,024 rows).",
        "",
        f"## Fidelity (n_train {args.n_train}, seed {args.seed}, {args.n_synthetic} synthetic rows vs as many "
        "held-out test rows, as notebook 01)",
        "",
        "C2ST ROC-AUC: 0.5 = indistinguishable from held-out real rows, 1 = separable. Marginal distance: mean/max "
        "over columns of the KS statistic (numeric) or total-variation distance (categorical). `fit_s` includes "
        "the SGLD chains of the pool.",
        "",
        md(fid),
        "",
        f"## Cost per split at n_train {args.cost_n_train} ({args.cost_dataset}, paper settings)",
        "",
        "The generator's fit is what a run pays for TabEBM (the pool's chains); sampling draws from the pool. The cost grows with the number of features: compare wdbc (30 features) at n_train 128 in the fidelity table.",
        "",
        md(cost),
        "",
        "## Context cache (one class, paper settings)",
        "",
        "Class 0's chains (its share of the pool, as a run draws them) with the class context's keys and values "
        "cached (each step runs the network on the chains alone; every fit above used it) and without (context "
        "and chains at every step). The rows must be identical.",
        "",
        md(cache),
        "",
    ])
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
