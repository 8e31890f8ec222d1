"""GPU check (`make gpu-check`): the smoke sweep on CUDA with the shipped model, with mixed precision
off and on: seconds per step and per run, peak GPU memory (process peak RSS on CPU), and whether the same seed gives the same
records on CUDA (the smoke sweep twice in float32). On CUDA it also adds the measured seconds per
run to ``causalmix/run_times.csv``, which ``causalmix sweep CONFIG --plan`` reads.

    python benchmarks/gpu_check.py [--config causalmix/configs/smoke.yaml] [--out benchmarks/results/gpu_check.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

METRICS = ["val_roc_auc", "test_roc_auc", "test_accuracy", "test_log_loss", "test_roc_auc_step0"]


def sweep(config, out: Path, *, mixed: bool, device: str):
    import resource

    import torch

    from causalmix.experiment import load_records, run_sweep

    cfg = dataclasses.replace(config, device=device, finetune={**config.finetune, "mixed_precision": mixed})
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    summary = run_sweep(cfg, out_dir=out, jobs=1, progress=False)
    wall = time.perf_counter() - t
    records = load_records(out)
    ok = records[records["status"] == "ok"]
    steps = ok["n_steps"].clip(lower=1)
    return records, {
        "mixed precision": mixed, "runs": len(records), "failed": summary.n_failed,
        "s per run (median)": ok["wall_time_s"].median(),
        "s per step (median)": ((ok["time_preprocess"] + ok["time_train"]) / steps)[ok["n_steps"] > 0].median(),
        "sweep wall s": wall,
        "peak memory MB": (torch.cuda.max_memory_allocated() if device == "cuda"
                           else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    from causalmix.experiment import load_config
    from causalmix.provenance import git_commit, hardware, package_versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="causalmix/configs/smoke.yaml")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu_check.md"))
    parser.add_argument("--device", default="cuda", help="cuda (default); cpu is a dry run of the script itself")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA device visible; run this on a GPU machine (`make gpu-check`)", file=sys.stderr)
        return 2
    config = load_config(args.config)
    rows, frames = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, mixed in (("float32-a", False), ("float32-b", False), ("autocast", True)):
            records, row = sweep(config, Path(tmp) / name, mixed=mixed, device=args.device)
            rows.append({"sweep": name, **row})
            key = records["dataset"] + "/" + records["method"] + "/" + records["domain"].fillna("")
            frames.append(records.set_index(key).sort_index())
            if name == "float32-a" and args.device == "cuda":  # GPU rows of the timings file `--plan` reads
                sys.path.insert(0, str(Path(__file__).parent))
                from run_times import main as write_run_times

                write_run_times([str(Path(tmp) / name)])
    a, b, mixed = frames
    same_ids = set(a["run_id"]) == set(b["run_id"])
    diff = float(np.nanmax(np.abs(a[METRICS].to_numpy() - b.loc[a.index, METRICS].to_numpy())))
    mixed_diff = float(np.nanmax(np.abs(a[METRICS].to_numpy() - mixed.loc[a.index, METRICS].to_numpy())))
    table = pd.DataFrame(rows)
    text = (f"# GPU check: {args.config} on {hardware(args.device)} (device {args.device})\n\ncommit {git_commit(short=True)}; torch "
            f"{package_versions()['torch']}, tabpfn {package_versions()['tabpfn']}.\n\n"
            + table.to_markdown(index=False, floatfmt=".3f")
            + f"\n\nSame seed, same records on {args.device}: run ids equal: {same_ids}; largest metric difference between "
              f"the two float32 sweeps: {diff:.2e} ({'identical' if diff == 0 else 'not identical'}).\n"
              f"Largest metric difference float32 vs autocast: {mixed_diff:.2e}.\n")
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
