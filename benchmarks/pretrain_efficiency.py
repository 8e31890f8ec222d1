"""Pretraining efficiency: zero-shot quality of pretraining runs' saved checkpoints against the CPU
minutes spent to reach them, and the first checkpoint of each run that reaches a target.

Every ``--every``-th saved checkpoint ``step_NNNNNN.ckpt`` of each run folder (and its last) is scored
like ``benchmarks/tiny_model.py`` scores a model (the same splits: the standard study's 17 datasets, ``--n-train``,
``--seeds``), and its training time read from the run's ``loss.csv`` (wall seconds of one thread).
Writes ``benchmarks/results/<name>.csv`` (one row per run, checkpoint, dataset and seed), ``<name>.md``
(per checkpoint: step, CPU minutes, median ROC-AUC; the first reaching ``--target``) and ``<name>.png``
(median ROC-AUC against CPU minutes, one line per run, the target and the baselines' medians).
Checkpoints already scored in an existing ``<name>.csv`` (same run label, step and n_train) are taken
from it, so adding a run or resuming an interrupted one scores only what is new; those whose checkpoint files
are gone since (a long run resumed in a fresh checkout keeps only its state) stay in the tables and figure.

    python benchmarks/pretrain_efficiency.py causalmix-wide=runs/pretrain-long --every 2000 --target 0.802
    python benchmarks/pretrain_efficiency.py xl=runs/pretrain-xl --every 4000 --name pretrain_xl --target 0.849 \
        --reference-minutes 0 --beside benchmarks/results/pretrain_efficiency.csv:causalmix-wide
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import pandas as pd

from causalmix.report.benchmark_results import checkpoint_medians, first_reaching

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
    return picked if picked and picked[-1] == found[-1] else [*picked, found[-1]]


def parse_run(text: str) -> tuple[Path, str]:
    """``"wide=runs/pretrain-long"`` -> ``(Path("runs/pretrain-long"), "wide")``; no label: the folder's name."""
    label, _, path = text.rpartition("=")
    return Path(path), label or Path(path).name


def earlier_run(item: str, n_train: int) -> pd.DataFrame:
    """``"benchmarks/results/pretrain_efficiency.csv:causalmix-wide"`` -> that run's rows at ``n_train``."""
    path, _, run = item.rpartition(":")
    rows = pd.read_csv(path) if path and Path(path).is_file() else pd.DataFrame(columns=["run", "n_train"])
    rows = rows[(rows["run"] == run) & (rows["n_train"] == n_train)]
    if rows.empty:
        raise SystemExit(f"error: --beside {item!r}: no run {run!r} at n_train {n_train} in {path or '(no file)'}.")
    return rows


def cpu_minutes(run_dir: Path) -> pd.Series:
    """Minutes of training at the end of each step, from the run's ``loss.csv``."""
    loss = pd.read_csv(run_dir / "loss.csv")
    return (loss.set_index("step")["wall_s"] / 60).rename("cpu_minutes")


def plot(per_step: pd.DataFrame, baselines: pd.Series, target: float, reference_minutes: float | None,
         path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    for run, group in per_step.groupby("run", sort=False):
        ax.plot(group["cpu_minutes"], group["median"], marker="o", ms=3, label=run)
    ax.axhline(target, color="black", lw=0.8, ls=":", label=f"target {target}")
    if reference_minutes:
        ax.plot([reference_minutes], [target], "k*", ms=10,
                label=f"old recipe: {target} after {reference_minutes:g} min")
    for (model, median), color in zip(baselines.items(), ["tab:grey", "tab:brown", "tab:olive"]):
        ax.axhline(median, color=color, lw=0.8, ls="--", label=f"{model} {median:.3f}")
    ax.set_xlabel("CPU minutes (one thread)")
    ax.set_ylabel("median zero-shot ROC-AUC")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # beside, never over a line
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="[LABEL=]RUN_DIR",
                        help="pretraining run folders (python -m causalmix.pretraining --out-dir), each optionally "
                             "labelled (default label: the folder's name)")
    parser.add_argument("--every", type=int, default=2000, help="score every N-th step's checkpoint (%(default)s)")
    parser.add_argument("--n-train", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.802, help="median ROC-AUC to reach (%(default)s)")
    parser.add_argument("--reference-minutes", type=float, default=39,
                        help="CPU minutes the old recipe took to reach --target, marked in the figure (%(default)s)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baselines", type=Path, default=ROOT / "benchmarks" / "results" / "tiny_model.csv",
                        help="earlier results CSV holding the baselines' rows on the same splits (%(default)s)")
    parser.add_argument("--beside", action="append", default=[], metavar="CSV:RUN",
                        help="a run this script scored earlier, from its results CSV: shown in the table and figure "
                             "beside the others (not rescored, not copied into this CSV)")
    parser.add_argument("--name", default="pretrain_efficiency", help="output file stem (%(default)s)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    runs = dict(parse_run(text) for text in args.runs)
    datasets = tiny_model.first_study_datasets()
    csv_path = args.out_dir / f"{args.name}.csv"
    earlier = (pd.read_csv(csv_path) if csv_path.is_file()
               else pd.DataFrame(columns=["run", "step", "n_train", "dataset", "seed"]))
    frames = []
    for run_dir, label in runs.items():
        minutes = cpu_minutes(run_dir)
        listed = checkpoints(run_dir, args.every)
        mine = earlier[(earlier["run"] == label) & (earlier["n_train"] == args.n_train)]
        # checkpoints scored earlier whose files are gone (a long run resumed in a fresh checkout) stay in the figure
        gone = mine[~mine["step"].isin([step for step, _ in listed]) & (mine["step"] % args.every == 0)]
        frames += [scores for _, scores in gone.groupby("step") if scores["seed"].nunique() == args.seeds]
        for step, path in listed:
            scores = mine[mine["step"] == step]
            if len(scores) and scores["seed"].nunique() == args.seeds:
                frames.append(scores)
                continue
            scores = tiny_model.run(model=str(path), datasets=datasets, n_trains=[args.n_train], seeds=args.seeds,
                                    n_estimators=4, test_cap=500, baselines=(), jobs=args.jobs)
            frames.append(scores.assign(run=label, step=step,
                                        cpu_minutes=float(minutes.get(step - 1, float("nan")))))
            median = scores.groupby("dataset")["roc_auc"].mean().median()
            print(f"{label} step {step}: median ROC-AUC {median:.3f}", flush=True)
            pd.concat([earlier, *frames], ignore_index=True).drop_duplicates(
                ["run", "step", "dataset", "n_train", "seed"], keep="last").to_csv(csv_path, index=False)
    beside = [earlier_run(item, args.n_train) for item in args.beside]
    for rows in beside:
        if set(zip(rows["dataset"], rows["seed"])) != set(zip(frames[0]["dataset"], frames[0]["seed"])):
            raise SystemExit(f"error: {rows['run'].iloc[0]} was scored on other splits (datasets, seeds).")
    results = pd.concat([*frames, *beside], ignore_index=True)
    per_step = checkpoint_medians(results)
    baseline_rows = tiny_model.reused_rows(args.baselines, list(tiny_model.BASELINES), frames[0], test_cap=500)
    baselines = baseline_rows.groupby(["model", "dataset"])["roc_auc"].mean().groupby("model").median()

    shown = [f"{label} (`{d}`)" for d, label in runs.items()]
    shown += [f"{run} (from `{Path(path).name}`)" for path, _, run in (i.rpartition(":") for i in args.beside)]
    lines = [f"# Pretraining efficiency: {', '.join(shown)}", "",
             f"Zero-shot median ROC-AUC over {results['dataset'].nunique()} datasets (from "
             f"`{Path(os.environ['CAUSALMIX_DATA_DIR']).name}/`) at n_train {args.n_train}, {args.seeds} seed(s) "
             "(benchmarks/tiny_model.py's splits and settings); CPU minutes: "
             "the trainer's wall minutes on one thread, from each run's loss.csv (on a shared machine, so "
             "they include contention). Baselines on the same splits (from "
             f"`{args.baselines.name}`): " + ", ".join(f"{m} {v:.3f}" for m, v in baselines.items()) + ".", ""]
    for run, group in per_step.groupby("run", sort=False):
        reached = first_reaching(group, args.target)
        lines += [f"## {run}", "", "| step | CPU minutes | median ROC-AUC |", "|---|---|---|"]
        lines += [f"| {r.step} | {r.cpu_minutes:.1f} | {r.median:.3f} |" for r in group.itertuples()]
        lines += ["", (f"First checkpoint at or above {args.target}: step {int(reached['step'])} after "
                       f"{reached['cpu_minutes']:.1f} CPU minutes." if reached is not None else
                       f"No checkpoint reached {args.target}."), ""]
    text = "\n".join(lines)
    print(text)
    (args.out_dir / f"{args.name}.md").write_text(text)
    plot(per_step, baselines, args.target, args.reference_minutes, args.out_dir / f"{args.name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
