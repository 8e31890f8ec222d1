"""In-prior check (issue 29): can a model learn the rule prior's own tables? Zero-shot ROC-AUC on fresh
noise-free binary rule tables (:mod:`causalmix.rule_prior`; 256 train and 500 test rows, ``--tables``
per shape) of recipe checkpoints, the shipped ``causalmix-wide`` and a random forest on the same rows.
By default the checkpoints ``benchmarks/recipes.py`` trained (``runs/recipes/{base,rules30}``); ``--models``
names others (a pretraining run's step checkpoints, issue 29's long run):

    python benchmarks/rule_prior_check.py [--tables 10] [--seed 123]
    python benchmarks/rule_prior_check.py --models xl-4000=runs/pretrain-xl/step_004000.ckpt --name pretrain_xl_rules

``--name`` writes the scores of every table to ``benchmarks/results/<name>.csv`` and their mean / median per
shape and model to ``<name>.md``; models already in that CSV (same ``--seed`` and ``--tables``) are not
scored again, so a long run's checkpoints are added one at a time.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

from causalmix.model import load_classifier
from causalmix.rule_prior import RuleConfig, sample_rule_table

MODELS = {"base": "runs/recipes/base/latest.ckpt", "rules30": "runs/recipes/rules30/latest.ckpt",
          "causalmix-wide": "causalmix-wide"}
#: shape -> (features, rule settings): generic tables, and splice-like ones (many small categorical columns)
SHAPES = {"generic (8 cols)": (8, RuleConfig(noise_prob=0.0)),
          "splice-like (60 cat cols)": (60, RuleConfig(all_categorical_prob=1.0, max_categories=5, noise_prob=0.0))}
N_TRAIN, N_TEST = 256, 500
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def two_class_table(g: torch.Generator, n_features: int, config: RuleConfig) -> tuple[np.ndarray, np.ndarray, str]:
    """A rule table whose train and test rows both hold two classes (redrawn up to 20 times)."""
    for _ in range(20):
        x, y, kind = sample_rule_table(g, n_rows=N_TRAIN + N_TEST, n_features=n_features, max_classes=2, config=config)
        x, y = x.numpy(), y.numpy()
        if len(np.unique(y[:N_TRAIN])) == 2 and len(np.unique(y[N_TRAIN:])) == 2:
            break
    return x, y, kind


def score(models: dict[str, str], *, tables: int, seed: int) -> pd.DataFrame:
    """One row per shape, table and model (the random forest included): its ROC-AUC on that table."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for label, (n_features, config) in SHAPES.items():
        for table in range(tables):
            x, y, kind = two_class_table(g, n_features, config)
            train, test = slice(0, N_TRAIN), slice(N_TRAIN, None)
            classifiers = {**{name: load_classifier(spec, device="cpu", n_estimators=2, random_state=0)
                              for name, spec in models.items()},
                           "random_forest": RandomForestClassifier(100, random_state=0, n_jobs=1)}
            for name, clf in classifiers.items():
                clf.fit(x[train], y[train])
                rows.append((label, table, kind, name, roc_auc_score(y[test], clf.predict_proba(x[test])[:, 1])))
    frame = pd.DataFrame(rows, columns=["shape", "table", "kind", "model", "roc_auc"])
    return frame.assign(seed=seed, tables=tables)


def summary(scores: pd.DataFrame, order: list[str] = ()) -> pd.DataFrame:
    """Per shape (rows) and model (columns: ``order``'s first, then the others in the order scored, the random
    forest last): "mean / median"."""
    models = [m for m in dict.fromkeys([*order, *scores["model"]]) if m != "random_forest"] + ["random_forest"]
    stats = scores.groupby(["shape", "model"], sort=False)["roc_auc"].agg(["mean", "median"])
    text = stats["mean"].map("{:.3f}".format) + " / " + stats["median"].map("{:.3f}".format)
    return text.unstack("model").reindex(index=list(SHAPES), columns=models)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10, help="tables per shape (default %(default)s)")
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--models", nargs="+", metavar="LABEL=SPEC", help="checkpoints or model specs to score "
                        "(default: " + " ".join(f"{k}={v}" for k, v in MODELS.items()) + ")")
    parser.add_argument("--name", help="write benchmarks/results/<name>.csv and .md (adding to them)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    models = dict(m.split("=", 1) for m in args.models) if args.models else MODELS
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    csv = args.out_dir / f"{args.name}.csv" if args.name else None
    earlier = pd.read_csv(csv) if csv is not None and csv.exists() else None
    if earlier is not None and {(args.seed, args.tables)} != set(zip(earlier["seed"], earlier["tables"])):
        raise SystemExit(f"error: {csv} holds other tables (--seed/--tables); give another --name.")
    new = {k: v for k, v in models.items() if earlier is None or k not in set(earlier["model"])}
    scores = score(new, tables=args.tables, seed=args.seed) if new or earlier is None else earlier.iloc[:0]
    if earlier is not None:  # the random forest's rows are the same tables' again
        scores = pd.concat([earlier, scores[scores["model"] != "random_forest"]], ignore_index=True)
    table = summary(scores, [m for m in models if m in set(scores["model"])])
    print(table.to_markdown(), flush=True)
    if csv is not None:
        scores.to_csv(csv, index=False)
        (csv.with_suffix(".md")).write_text(
            f"# In-prior rule-table check (`benchmarks/rule_prior_check.py --name {args.name}`)\n\n"
            f"Zero-shot ROC-AUC on fresh noise-free binary rule tables ({N_TRAIN} train / {N_TEST} test rows, "
            f"{args.tables} tables per shape, seed {args.seed}), mean / median over the tables; every table's "
            f"score in `{csv.name}`.\n\n" + table.to_markdown() + "\n")


if __name__ == "__main__":
    main()
