"""In-prior check (issue 29): can a model learn the rule prior's own tables? Zero-shot ROC-AUC on fresh
noise-free binary rule tables (:mod:`causalmix.rule_prior`; 256 train and 500 test rows, ``--tables``
per shape) of recipe checkpoints, the shipped ``causalmix-wide`` and a random forest on the same rows.
By default the checkpoints ``benchmarks/recipes.py`` trained (``runs/recipes/{base,rules30}``); ``--models``
names others (a pretraining run's step checkpoints, issue 29's long run):

    python benchmarks/rule_prior_check.py [--tables 10] [--seed 123]
    python benchmarks/rule_prior_check.py --models xl-4000=runs/pretrain-xl/step_004000.ckpt causalmix-wide=causalmix-wide
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
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


def two_class_table(g: torch.Generator, n_features: int, config: RuleConfig) -> tuple[np.ndarray, np.ndarray, str]:
    """A rule table whose train and test rows both hold two classes (redrawn up to 20 times)."""
    for _ in range(20):
        x, y, kind = sample_rule_table(g, n_rows=N_TRAIN + N_TEST, n_features=n_features, max_classes=2, config=config)
        x, y = x.numpy(), y.numpy()
        if len(np.unique(y[:N_TRAIN])) == 2 and len(np.unique(y[N_TRAIN:])) == 2:
            break
    return x, y, kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10, help="tables per shape (default %(default)s)")
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--models", nargs="+", metavar="LABEL=SPEC", help="checkpoints or model specs to score "
                        "(default: " + " ".join(f"{k}={v}" for k, v in MODELS.items()) + ")")
    args = parser.parse_args()
    models = dict(m.split("=", 1) for m in args.models) if args.models else MODELS
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(args.seed)
    for label, (n_features, config) in SHAPES.items():
        scores: dict[str, list[float]] = {m: [] for m in [*models, "random_forest"]}
        kinds = []
        for _ in range(args.tables):
            x, y, kind = two_class_table(g, n_features, config)
            kinds.append(kind)
            train, test = slice(0, N_TRAIN), slice(N_TRAIN, None)
            for name, spec in models.items():
                clf = load_classifier(spec, device="cpu", n_estimators=2, random_state=0).fit(x[train], y[train])
                scores[name].append(roc_auc_score(y[test], clf.predict_proba(x[test])[:, 1]))
            forest = RandomForestClassifier(100, random_state=0, n_jobs=1).fit(x[train], y[train])
            scores["random_forest"].append(roc_auc_score(y[test], forest.predict_proba(x[test])[:, 1]))
        print(label, "kinds:", ",".join(kinds), flush=True)
        for name, values in scores.items():
            print(f"  {name:15s} mean {np.mean(values):.3f} median {np.median(values):.3f}", flush=True)


if __name__ == "__main__":
    main()
