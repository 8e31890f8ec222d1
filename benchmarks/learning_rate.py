"""The fine-tuning learning rate that belongs to a checkpoint, measured on validation sets only.

Default fine-tuning (real rows only) of ``--model`` on the quick configuration's datasets and
seeds at n_train 128, with the quick configuration's fine-tuning settings, for each candidate
rate. Per rate: the validation ROC-AUC gain of the validation-selected step over step 0 and of
the last step over step 0, mean over seeds per dataset, then the median across datasets. No test
row is scored. The recommended rate (the ``recommended_learning_rate`` of the checkpoint's sidecar)
is the one with the largest median validation gain at the *last* step: the gain at the selected
step is the best of many noisy evaluations on the same small validation set, so it grows with any
rate that makes the curve noisier (it is printed beside it).

    python benchmarks/learning_rate.py [--rates 1e-5 1e-4 3e-4 1e-3] [--out benchmarks/results/learning_rate.md]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from causalmix.data import load_dataset, low_data_split
from causalmix.finetuning import FinetuneConfig, finetune
from causalmix.model import DEFAULT_MODEL
from causalmix.provenance import git_commit, hardware

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--config", default=str(ROOT / "causalmix" / "configs" / "quick.yaml"))
    parser.add_argument("--rates", nargs="+", type=float, default=[1e-5, 1e-4, 3e-4, 1e-3])
    parser.add_argument("--n-train", type=int, default=128)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = yaml.safe_load(Path(args.config).read_text())
    settings = {k: v for k, v in (cfg.get("finetune") or {}).items() if k != "learning_rate"}
    t0, rows = time.perf_counter(), []
    for name in cfg["datasets"]:
        ds = load_dataset(name)
        for seed in cfg["seeds"]:
            split = low_data_split(ds, n_train=args.n_train, seed=seed, test_cap=1)
            for rate in args.rates:
                r = finetune(args.model, split.X_train, split.y_train, split.X_val, split.y_val,
                             config=FinetuneConfig(**{**settings, "learning_rate": rate, "device": "cpu"}), seed=seed)
                val = r.curve["val_roc_auc"]
                rows.append({"dataset": name, "seed": seed, "rate": rate, "best_step": r.best_step,
                             "gain_selected": r.metrics_best["val_roc_auc"] - val.iloc[0],
                             "gain_last": val.iloc[-1] - val.iloc[0]})
                print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    per_dataset = frame.groupby(["rate", "dataset"])[["gain_selected", "gain_last"]].mean()
    table = per_dataset.groupby(level="rate").median().add_prefix("median val ROC-AUC ")
    table["runs that moved off step 0"] = frame.groupby("rate")["best_step"].apply(lambda s: int((s > 0).sum()))
    table["runs"] = frame.groupby("rate").size()
    best = table["median val ROC-AUC gain_last"].idxmax()
    text = (f"# Fine-tuning learning rate of {args.model}: default fine-tuning, datasets {cfg['datasets']}, "
            f"seeds {cfg['seeds']}, n_train {args.n_train}, settings {settings}; validation sets only; "
            f"{hardware()}, 1 torch thread; commit {git_commit(short=True)}; {time.perf_counter() - t0:.0f} s\n\n"
            + table.reset_index().to_markdown(index=False, floatfmt=("g", ".4f", ".4f", "d", "d"))
            + f"\n\nrecommended learning rate: {best:g}\n")
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
