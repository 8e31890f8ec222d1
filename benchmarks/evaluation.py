"""Is every reported number right? The evaluator against a plain TabPFNClassifier, on real data.

For each of the shared datasets (n_train 256, split seed 0, test cap 2,000) this prints

- step-0 test ROC-AUC of :func:`causalmix.finetune` (``max_steps=0``) and of a plain
  ``TabPFNClassifier(model_path=..., n_estimators=k, random_state=seed)`` fitted on the same
  encoded training rows (they must agree: SPEC's evaluation rule);
- the largest change of any row's probability when the query batch changes (the test rows
  scored in one batch, then in a shuffled order, then in chunks of 7 rows);
- zero-shot ROC-AUC and seconds with the configured minimum ensemble size at 1, 2 and 4
  (raised per dataset to cover every feature: the size used is printed too).

    python benchmarks/evaluation.py [--datasets adult wdbc ...] [--out benchmarks/results/evaluation.md]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from causalmix.data import load_dataset, low_data_split
from causalmix.evaluation import ContextEvaluator
from causalmix.encoding import Encoder
from causalmix.finetuning import FinetuneConfig, finetune
from causalmix.metrics import roc_auc
from causalmix.model import DEFAULT_MODEL, load_classifier
from causalmix.provenance import git_commit, hardware

SHARED = ["adult", "anneal", "bank-customer-churn", "bank-marketing", "blood-transfusion", "churn", "coil2000",
          "credit-g", "diabetes", "fitness-club", "kr-vs-kp", "maternal-health-risk", "phoneme", "qsar-biodeg",
          "spambase", "splice", "wdbc"]


def measure(name: str, *, model: str, n_train: int, seed: int, test_cap: int) -> dict:
    split = low_data_split(load_dataset(name), n_train=n_train, seed=seed, test_cap=test_cap)
    enc = Encoder.fit(split.X_train, split.y_train)
    X_tr, y_tr, X_te = enc.X(split.X_train, "train"), enc.y(split.y_train, "train"), enc.X(split.X_test, "test")
    y_te, classes = enc.y(split.y_test, "test"), range(len(enc.classes))
    row = {"dataset": name, "features": X_tr.shape[1], "test rows": len(X_te)}
    for minimum in (1, 2, 4):
        t = time.perf_counter()
        result = finetune(model, split.X_train, split.y_train, split.X_val, split.y_val,
                          test_sets={"test": (split.X_test, split.y_test)},
                          config=FinetuneConfig(max_steps=0, n_estimators=minimum), seed=seed)
        row[f"roc_auc min{minimum}"] = result.metrics_step0["test_roc_auc"]
        row[f"members min{minimum}"] = result.n_estimators_eval
        row[f"s min{minimum}"] = time.perf_counter() - t
    k = row["members min2"]
    plain = load_classifier(model, n_estimators=k, random_state=seed, device="cpu")
    plain.categorical_features_indices = enc.categorical_indices or None
    plain.fit(X_tr, y_tr)
    row["plain roc_auc (min2)"] = roc_auc(y_te, plain.predict_proba(X_te), classes)
    row["|evaluator - plain|"] = abs(row["plain roc_auc (min2)"] - row["roc_auc min2"])
    ev = ContextEvaluator(model, X_tr, y_tr, categorical_indices=enc.categorical_indices, n_estimators=k, seed=seed)
    batch = ev.predict_proba(X_te)
    order = np.random.default_rng(seed).permutation(len(X_te))
    shuffled = np.empty_like(batch)
    shuffled[order] = ev.predict_proba(X_te[order])
    chunked = np.concatenate([ev.predict_proba(X_te[i : i + 7]) for i in range(0, len(X_te), 7)])
    row["max |Δp| batch change"] = float(max(np.abs(batch - shuffled).max(), np.abs(batch - chunked).max()))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=SHARED)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--n-train", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-cap", type=int, default=2000)
    parser.add_argument("--out", default=None, help="also write the table as Markdown here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    rows = []
    for name in args.datasets:
        rows.append(measure(name, model=args.model, n_train=args.n_train, seed=args.seed, test_cap=args.test_cap))
        print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format=lambda v: f"{v:.4f}"), flush=True)
    table = pd.DataFrame(rows)
    medians = table.drop(columns=["dataset"]).median(numeric_only=True)
    text = (f"# Evaluation check: model {args.model}, n_train {args.n_train}, seed {args.seed}, test cap "
            f"{args.test_cap}; {len(rows)} datasets; {hardware()}, 1 torch thread; commit {git_commit(short=True)}; "
            f"{time.perf_counter() - t0:.0f} s\n\n"
            + table.to_markdown(index=False, floatfmt=".4f") + "\n\nmedian over datasets:\n\n"
            + medians.to_frame("median").T.to_markdown(index=False, floatfmt=".4f") + "\n")
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
