"""Pretraining efficiency: zero-shot quality of a pretraining run's saved checkpoints against the CPU
minutes spent to reach them, and the first checkpoint that reaches a target.

Every ``--every``-th saved checkpoint ``step_NNNNNN.ckpt`` of the run folder is scored like
``benchmarks/tiny_model.py`` scores a model (the same splits: every shared dataset, ``--n-train``,
``--seeds``), and its training time read from the run's ``loss.csv`` (wall seconds of one thread).
Writes ``benchmarks/results/<name>.csv`` (one row per checkpoint, dataset and seed) and ``<name>.md``
(per checkpoint: step, CPU minutes, median ROC-AUC; the first reaching ``--target``).

    python benchmarks/pretrain_efficiency.py runs/pretrain-long --every 2000 --target 0.802
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("tiny_model", ROOT / "benchmarks" / "tiny_model.py")
tiny_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_model)


def checkpoints(run_dir: Path, every: int) -> list[tuple[int, Path]]:
    """``(step, path)`` of the saved checkpoints whose step is a multiple of ``every``, and the last."""
    found = sorted((int(p.stem.removeprefix("step_")), p) for p in run_dir.glob("step_*.ckpt"))
    if not found:
        raise SystemExit(f"error: no step_*.ckpt in {run_dir}; is it a pretraining run folder?")
    picked = [(s, p) for s, p in found if s % every == 0]
    return picked if picked[-1] == found[-1] else [*picked, found[-1]]


def cpu_minutes(run_dir: Path) -> pd.Series:
    """Minutes of training at the end of each step, from the run's ``loss.csv``."""
    loss = pd.read_csv(run_dir / "loss.csv")
    return (loss.set_index("step")["wall_s"] / 60).rename("cpu_minutes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a pretraining run folder (python -m causalmix.pretraining --out-dir)")
    parser.add_argument("--every", type=int, default=2000, help="score every N-th step's checkpoint (%(default)s)")
    parser.add_argument("--n-train", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.802, help="median ROC-AUC to reach (%(default)s)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--name", default="pretrain_efficiency", help="output file stem (%(default)s)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)

    minutes = cpu_minutes(args.run_dir)
    datasets = tiny_model._local_datasets()
    frames = []
    for step, path in checkpoints(args.run_dir, args.every):
        scores = tiny_model.run(model=str(path), datasets=datasets, n_trains=[args.n_train], seeds=args.seeds,
                                n_estimators=4, test_cap=500, baselines=(), jobs=args.jobs)
        frames.append(scores.assign(step=step, cpu_minutes=float(minutes.get(step - 1, float("nan")))))
        print(f"step {step}: median ROC-AUC {scores.groupby('dataset')['roc_auc'].mean().median():.3f}", flush=True)
    results = pd.concat(frames, ignore_index=True)
    per_step = (results.groupby(["step", "cpu_minutes", "dataset"])["roc_auc"].mean()
                .groupby(level=["step", "cpu_minutes"]).median().rename("median ROC-AUC").reset_index())
    reached = per_step[per_step["median ROC-AUC"] >= args.target]
    what = (f"Zero-shot median ROC-AUC over {results['dataset'].nunique()} shared datasets at n_train {args.n_train}, "
            f"{args.seeds} seeds (benchmarks/tiny_model.py's splits and settings); CPU minutes of one thread from the "
            "run's loss.csv.")
    lines = [f"# Pretraining efficiency of `{args.run_dir}`", "", what, "",
             "| step | CPU minutes | median ROC-AUC |", "|---|---|---|"]
    lines += [f"| {r.step} | {r.cpu_minutes:.1f} | {r._3:.3f} |" for r in per_step.itertuples()]
    lines += ["", (f"First checkpoint at or above {args.target}: step {int(reached.iloc[0]['step'])} after "
                   f"{reached.iloc[0]['cpu_minutes']:.1f} CPU minutes." if len(reached) else
                   f"No checkpoint reached {args.target}.")]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out_dir / f"{args.name}.csv", index=False)
    (args.out_dir / f"{args.name}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
