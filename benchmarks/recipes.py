"""Short pretraining runs of recipe variants at equal steps (or equal time), each scored zero-shot on
the same splits.

Each ``--variant NAME:key=value,...`` overrides the ``--base`` recipe (keys as in the YAML; ``prior.``
prefixes a prior setting) and trains ``--steps`` steps (or, with ``--minutes``, as many as a 60-step
trial says fill that time; ``steps=N`` among a variant's settings: its own count) into
``runs/recipes/<NAME>`` (a finished run is reused, an interrupted one resumed). Then every variant is scored like ``benchmarks/tiny_model.py`` scores a model (``--n-train``,
``--seeds``, the datasets of ``--datasets-config``: by default the 17 of the standard study, never
the whole data folder, which also holds tables kept for acceptance), with the baselines' rows of
``--baselines`` (and of ``--compare`` models, e.g. ``causalmix-wide`` from ``model_quality.csv``) on the same
splits. Writes ``benchmarks/results/<name>.csv`` and ``<name>.md``: per variant the steps, the trainer's
CPU minutes, the share of them spent waiting for the prior, and the median and mean ROC-AUC over
datasets; then per dataset every variant's ROC-AUC and its delta from the first variant.

    python benchmarks/recipes.py --steps 2000 --variant ours: --variant tree:prior.source=tabicl_tree_scm \\
        --name prior_choice
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("tiny_model", ROOT / "benchmarks" / "tiny_model.py")
tiny_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_model)


def parse_variant(text: str) -> tuple[str, dict[str, object]]:
    """``"deep:nlayers=8,prior.source=tabicl_mlp_scm"`` -> ``("deep", {"nlayers": 8, "prior": {...}})``."""
    name, _, settings = text.partition(":")
    if not name:
        raise SystemExit(f"error: variant {text!r} needs a name before ':'.")
    overrides: dict[str, object] = {}
    for item in filter(None, settings.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"error: {item!r} in variant {name!r} is not key=value.")
        target = overrides.setdefault("prior", {}) if key.startswith("prior.") else overrides
        target[key.removeprefix("prior.")] = yaml.safe_load(value)
    return name, overrides


def recipe(base: dict, overrides: dict, steps: int) -> dict:
    """``base`` with a variant's overrides, trained ``steps`` steps unless the variant sets its own
    ``steps`` (e.g. equal time for a different batch shape, from a measured seconds-per-step ratio)."""
    out = {**base, "steps": steps, **{k: v for k, v in overrides.items() if k != "prior"}}
    out["prior"] = {**base.get("prior", {}), **overrides.get("prior", {})}
    out["warmup_steps"] = min(out.get("warmup_steps", 100), out["steps"] // 10)
    return out


def train(name: str, config: dict, run_dir: Path, prior_workers: int) -> None:
    config_path = run_dir.with_suffix(".yaml")
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    loss = run_dir / "loss.csv"
    if loss.exists() and len(pd.read_csv(loss)) >= config["steps"]:
        return
    resume = ["--resume"] if (run_dir / "state.pt").exists() else []
    print(f"training {name} ({config['steps']} steps) in {run_dir}", flush=True)
    subprocess.run([sys.executable, "-m", "causalmix.pretraining", "--config", str(config_path), "--out-dir",
                    str(run_dir), "--prior-workers", str(prior_workers), "--quiet", *resume], check=True)


def steps_for_minutes(name: str, config: dict, run_dir: Path, minutes: float, prior_workers: int) -> int:
    """Steps that fill ``minutes``, from the seconds per step of a 60-step trial (its last 40 steps);
    a run already configured keeps its count, so a resumed run keeps its schedule."""
    config_path = run_dir.with_suffix(".yaml")
    if config_path.exists():
        return yaml.safe_load(config_path.read_text())["steps"]
    trial = run_dir.with_name(run_dir.name + "-trial")
    train(name + " (timing)", {**config, "steps": 60, "warmup_steps": 6}, trial, prior_workers)
    wall = pd.read_csv(trial / "loss.csv")["wall_s"]
    return max(10, int(minutes * 60 / ((wall.iloc[-1] - wall.iloc[19]) / 40)))


def per_dataset_table(frames: list[pd.DataFrame], baselines: pd.DataFrame) -> str:
    """Markdown: per dataset, each variant's mean ROC-AUC over seeds, its delta from the first
    variant (the base), and the reference models'; the median and mean over datasets below."""
    scores = pd.concat([*frames, baselines], ignore_index=True)
    wide = scores.pivot_table(index="dataset", columns="model", values="roc_auc", aggfunc="mean")
    variants = [f["model"].iloc[0] for f in frames]
    columns = {v: wide[v] for v in variants}
    for v in variants[1:]:
        columns[f"Δ {v}"] = wide[v] - wide[variants[0]]
    columns.update({m: wide[m] for m in dict.fromkeys(baselines["model"])})
    table = pd.DataFrame(columns)
    summary = pd.DataFrame({"median": table.median(), "mean": table.mean()}).T
    summary.index = ["**median**", "**mean**"]
    for v in variants[1:]:  # on the median row: the change of the median (the mean row is both)
        summary.loc["**median**", f"Δ {v}"] = table[v].median() - table[variants[0]].median()
    wins = {f"Δ {v}": f"{int((table[f'Δ {v}'] > 0).sum())}/{len(table)} up" for v in variants[1:]}
    body = pd.concat([table, summary])
    lines = [f"## Per dataset (mean ROC-AUC over seeds; Δ: minus `{variants[0]}`)", "",
             body.to_markdown(floatfmt=".3f"), "",
             "Datasets each variant improves: " + ", ".join(f"{k[2:]} {w}" for k, w in wins.items()) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=ROOT / "causalmix" / "configs" / "pretrain-wide.yaml")
    parser.add_argument("--variant", action="append", required=True, metavar="NAME:key=value,...")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--minutes", type=float, help="equal time instead of equal steps: each variant's steps "
                        "fill this many trainer minutes, timed by a 60-step trial")
    parser.add_argument("--prior-workers", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="scoring processes (%(default)s)")
    parser.add_argument("--baselines", type=Path, default=ROOT / "benchmarks" / "results" / "tiny_model.csv")
    parser.add_argument("--compare", nargs="*", default=[], help="more models whose rows --baselines holds "
                        "(e.g. causalmix-wide in model_quality.csv), shown beside the baselines")
    parser.add_argument("--datasets-config", type=Path, default=ROOT / "causalmix" / "configs" / "standard.yaml",
                        help="a study config whose `datasets` are scored (default: the standard study's 17)")
    parser.add_argument("--datasets", nargs="*", help="these datasets instead of --datasets-config's")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "recipes")
    parser.add_argument("--name", default="recipes")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)

    base = yaml.safe_load(args.base.read_text())
    variants = dict(parse_variant(v) for v in args.variant)
    if len(variants) != len(args.variant):
        raise SystemExit("error: give each --variant its own name.")
    settings = {name: text.partition(":")[2] or "base" for name, text in zip(variants, args.variant)}
    for name, overrides in variants.items():
        config = recipe(base, overrides, args.steps)
        if args.minutes:
            steps = steps_for_minutes(name, config, args.runs / name, args.minutes, args.prior_workers)
            config = recipe(base, overrides, steps)
        train(name, config, args.runs / name, args.prior_workers)

    datasets = args.datasets or yaml.safe_load(args.datasets_config.read_text())["datasets"]
    frames, rows = [], []
    for name in variants:
        run_dir = args.runs / name
        scores = tiny_model.run(model=str(run_dir / "latest.ckpt"), datasets=datasets, n_trains=[args.n_train],
                                seeds=args.seeds, n_estimators=4, test_cap=500, baselines=(), jobs=args.jobs)
        frames.append(scores.assign(model=name))
        loss = pd.read_csv(run_dir / "loss.csv")
        per_dataset = scores.groupby("dataset")["roc_auc"].mean()
        rows.append({"variant": name, "settings": settings[name],
                     "steps": len(loss), "CPU min": loss["wall_s"].iloc[-1] / 60,
                     "prior wait": loss["prior_s"].sum() / loss["wall_s"].iloc[-1],
                     "median": per_dataset.median(), "mean": per_dataset.mean()})
        print(f"{name}: median ROC-AUC {per_dataset.median():.3f}", flush=True)
    baselines = tiny_model.reused_rows(args.baselines, [*args.compare, *tiny_model.BASELINES], frames[0], test_cap=500)
    for model, group in baselines.groupby("model"):
        per_dataset = group.groupby("dataset")["roc_auc"].mean()
        rows.append({"variant": model, "settings": f"from {args.baselines.name}", "median": per_dataset.median(),
                     "mean": per_dataset.mean()})
    table = pd.DataFrame(rows).astype({"steps": "Int64"}).astype(object).fillna("")
    budget = "time" if args.minutes else "steps"
    if any("steps" in overrides for overrides in variants.values()):
        budget += ", or the steps a variant sets"
    text = "\n".join([
        f"# Pretraining recipes at equal {budget} (`{os.path.relpath(args.base.resolve(), ROOT)}` + overrides)", "",
        f"Zero-shot ROC-AUC over {len(datasets)} shared datasets at n_train {args.n_train}, {args.seeds} seeds "
        "(benchmarks/tiny_model.py's splits, 4 estimators, test rows capped at 500); CPU min: the trainer's "
        f"wall minutes on one thread, with {args.prior_workers} prior process(es) drawing batches ahead; prior "
        "wait: the share of those minutes the trainer waited for a batch.", "",
        table.to_markdown(index=False, floatfmt=".3f"), "", per_dataset_table(frames, baselines), ""])
    print(text)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    pd.concat(frames, ignore_index=True).to_csv(args.out_dir / f"{args.name}.csv", index=False)
    (args.out_dir / f"{args.name}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
