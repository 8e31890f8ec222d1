"""Zero-shot ROC-AUC of a TabPFN-architecture checkpoint (default: the shipped ``causalmix-tiny``)
beside scikit-learn baselines.

For every dataset of the standard study (the 17 first ones; ``--acceptance``: the 14 reserved ones of the
confirmatory study, for issue 29's one acceptance run; ``--datasets``: any), every ``n_train`` and every
seed: a stratified low-data split (``causalmix.data.low_data_split``; the test set capped
for speed), then

- ``causalmix-tiny``: in-context prediction through ``TabPFNClassifier`` (no fine-tuning);
- ``logreg``, ``random_forest``, ``hist_gb``: scikit-learn defaults (logistic regression with
  ``max_iter=1000`` so it converges), numeric columns median-imputed (and standardised for the
  logistic regression), categorical ones one-hot encoded.

ROC-AUC: binary on the positive class, multiclass one-vs-rest macro (``causalmix.metrics.roc_auc``).
Writes ``benchmarks/results/tiny_model.csv`` (one row per dataset, n_train, seed, model) and
``tiny_model.md`` (per-dataset means and the median over datasets per n_train) and prints the table.

    python benchmarks/tiny_model.py                       # the full grid, about 10 min on 2 cores
    python benchmarks/tiny_model.py --datasets wdbc diabetes --n-train 256 --seeds 1 --no-write
    python benchmarks/tiny_model.py --reuse-baselines benchmarks/results/tiny_model.csv  # new model only
    python benchmarks/tiny_model.py --model causalmix-wide --reuse-baselines benchmarks/results/tiny_model.csv \
        --compare causalmix-tiny --name model_quality     # beside the previous model, on the same splits
    python benchmarks/tiny_model.py --acceptance --model CANDIDATE.ckpt causalmix-wide --name acceptance
                                                          # issue 29's one acceptance run, both side by side
    python benchmarks/tiny_model.py --model causalmix-wide --datasets splice kr-vs-kp --n-train 256 --seeds 3 \
        --categorical default codes onehot cfg-numeric --reuse-baselines benchmarks/results/model_quality.csv \
        --name categorical_inference                      # ways of handing over categorical columns

The tabpfn model runs with the project's defaults (``load_classifier``: 4 estimators and the
inference config stored in the checkpoint). ``--categorical`` scores it once per way of handing it
the categorical columns (:data:`CATEGORICAL_MODES`), on the same splits and weights; every mode but
``default`` gets its own column, ``<model>[<mode>]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CAUSALMIX_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TABPFN_DISABLE_TELEMETRY", "1")
# One thread per process: on a shared 2-core machine OpenMP oversubscription makes torch and
# HistGradientBoosting many times slower. Parallelism comes from --jobs processes instead.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from causalmix.data import DatasetError, load_dataset, low_data_split  # noqa: E402
from causalmix.metrics import roc_auc  # noqa: E402

BASELINES = ("logreg", "random_forest", "hist_gb")

#: How the tabpfn model gets a table's categorical columns (``--categorical``); the weights never change.
CATEGORICAL_MODES = {
    "default": "the DataFrame as is: pandas category columns, which tabpfn takes as declared categorical",
    "indices": "causalmix's own path: Encoder float codes with categorical_features_indices (make_classifier)",
    "codes": "the same codes without indices: tabpfn then infers as categorical only the columns with fewer "
             "than MIN_UNIQUE_FOR_NUMERICAL_FEATURES distinct training values",
    "onehot": "categorical columns one-hot encoded (training levels) ahead of tabpfn, numeric ones as they are, "
              "no indices (0/1 columns then count as inferred categorical)",
    **{f"cfg-{name}": f"the DataFrame as in default, every PREPROCESS_TRANSFORMS entry of the checkpoint's "
                      f"inference config with categorical_name={name!r}"
       for name in ("numeric", "onehot", "ordinal", "ordinal_shuffled", "none")},
}


def _sklearn_model(name: str, categorical: list[str], numeric: list[str], seed: int):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num_steps = [SimpleImputer(strategy="median")] + ([StandardScaler()] if name == "logreg" else [])
    cat_steps = [SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")]
    pre = ColumnTransformer(
        [("num", make_pipeline(*num_steps), numeric), ("cat", make_pipeline(*cat_steps), categorical)],
        sparse_threshold=0.0,
    )
    model = {
        "logreg": lambda: LogisticRegression(max_iter=1000),
        "random_forest": lambda: RandomForestClassifier(random_state=seed, n_jobs=1),
        "hist_gb": lambda: HistGradientBoostingClassifier(random_state=seed),
    }[name]()
    return make_pipeline(pre, model)


def _categorical_inputs(mode: str, model: str, X_train: pd.DataFrame, X_test: pd.DataFrame, y_train):
    """``(X_train, X_test, classifier kwargs)`` for the tabpfn ``model`` under a :data:`CATEGORICAL_MODES` mode."""
    if mode == "default":
        return X_train, X_test, {}
    if mode.startswith("cfg-"):
        import dataclasses

        from causalmix.model import load_classifier

        probe = load_classifier(model, device="cpu")
        probe._initialize_model_variables()  # the checkpoint's inference config
        transforms = [dataclasses.replace(t, categorical_name=mode[len("cfg-"):])
                      for t in probe.inference_config_.PREPROCESS_TRANSFORMS]
        return X_train, X_test, {"inference_config": {"PREPROCESS_TRANSFORMS": transforms}}
    from causalmix.encoding import Encoder

    enc = Encoder.fit(X_train, y_train)
    train, test = enc.X(X_train, "X_train"), enc.X(X_test, "X_test")
    if mode == "indices":
        return train, test, {"categorical_features_indices": enc.categorical_indices or None}
    if mode == "codes":
        return train, test, {}
    if mode == "onehot":
        from sklearn.preprocessing import OneHotEncoder

        cat = enc.categorical_indices
        num = [j for j in range(train.shape[1]) if j not in cat]
        if not cat:
            return train, test, {}
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32).fit(train[:, cat])
        return (np.hstack([train[:, num], onehot.transform(train[:, cat])]),
                np.hstack([test[:, num], onehot.transform(test[:, cat])]), {})
    raise ValueError(f"Unknown categorical mode {mode!r}; choose from {sorted(CATEGORICAL_MODES)}.")


def _proba_in_order(model, X, classes) -> np.ndarray:
    proba = model.predict_proba(X)
    index = {c: i for i, c in enumerate(model.classes_)}
    out = np.zeros((len(X), len(classes)))
    for j, c in enumerate(classes):
        if c in index:
            out[:, j] = proba[:, index[c]]
    return out


def _evaluate_split(models: tuple[str, ...], name: str, n_train: int, seed: int, n_estimators: int, test_cap: int,
                    baselines: tuple[str, ...], categorical: tuple[str, ...] = ("default",)) -> list[dict]:
    import torch

    from causalmix.model import load_classifier

    torch.set_num_threads(1)
    ds = load_dataset(name)
    try:
        split = low_data_split(ds, n_train=n_train, n_val=len(ds.classes), seed=seed, test_cap=test_cap)
    except DatasetError:
        return []  # too few rows for this n_train
    categorical_columns = [c for c in ds.X.columns if c in ds.categorical_features]
    numeric = [c for c in ds.X.columns if c not in ds.categorical_features]
    rows = []
    runs = [(model, model_label(model, mode), mode) for model in models for mode in categorical]
    for model, label, mode in runs + [(None, b, None) for b in baselines]:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if mode is not None:
                X_train, X_test, kwargs = _categorical_inputs(mode, model, split.X_train, split.X_test, split.y_train)
                clf = load_classifier(model, device="cpu", n_estimators=n_estimators, random_state=seed, **kwargs)
            else:
                X_train, X_test = split.X_train, split.X_test
                clf = _sklearn_model(label, categorical_columns, numeric, seed)
            clf.fit(X_train, y=split.y_train)
            proba = _proba_in_order(clf, X_test, ds.classes)
        rows.append(
            {
                "dataset": name,
                "task": ds.task,
                "n_train": n_train,
                "seed": seed,
                "model": label,
                "roc_auc": roc_auc(split.y_test, proba, ds.classes),
                "n_test": len(split.y_test),
                "n_features": X_train.shape[1],
                "seconds": round(time.perf_counter() - start, 3),
            }
        )
    return rows


def run(
    *,
    model: str | list[str] | None,
    datasets: list[str],
    n_trains: list[int],
    seeds: int,
    n_estimators: int,
    test_cap: int,
    baselines: tuple[str, ...],
    jobs: int = 1,
    categorical: tuple[str, ...] = ("default",),
) -> pd.DataFrame:
    """All (dataset, n_train, seed) splits, in ``jobs`` processes; one row per split and model (``model``: one
    spec or several, each scored on every split)."""
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    # Big splits first so the parallel workers finish together.
    grid = sorted(((d, n, s) for d in datasets for n in n_trains for s in range(seeds)), key=lambda j: -j[1])
    models = (model,) if isinstance(model, str) else tuple(model or ())
    tasks = (delayed(_evaluate_split)(models, d, n, s, n_estimators, test_cap, baselines, categorical)
             for d, n, s in grid)
    results = Parallel(n_jobs=jobs, return_as="generator")(tasks)
    rows = [row for split_rows in tqdm(results, total=len(grid), desc="benchmark", dynamic_ncols=True)
            for row in split_rows]
    return pd.DataFrame(rows)


def reused_rows(path: Path, models: list[str], splits: pd.DataFrame, test_cap: int) -> pd.DataFrame:
    """The rows of ``models`` that an earlier run wrote to ``path``, on exactly ``splits``' (dataset,
    n_train, seed) splits; exits with a message when the file does not cover them all."""
    old = pd.read_csv(path)
    keys = ["dataset", "n_train", "seed"]
    splits = splits[keys].drop_duplicates()
    old = old[old["model"].isin(models)].merge(splits, on=keys)
    if len(old[keys].drop_duplicates()) != len(splits) or old["n_test"].max() > test_cap:
        raise SystemExit(f"{path} does not cover this grid (datasets, n_train, seeds, test cap).")
    return old


def model_label(model: str, categorical: str = "default") -> str:
    """The model's column name: a shipped name as is, a checkpoint path by its file stem; a
    ``--categorical`` mode other than ``default`` in brackets after it."""
    stem = Path(str(model)).stem
    return stem if categorical == "default" else f"{stem}[{categorical}]"


def summarise(results: pd.DataFrame) -> str:
    """Markdown: per-dataset mean ROC-AUC per model, per n_train, and the median over datasets."""
    models = list(dict.fromkeys(m for m in results["model"] if m not in BASELINES))  # the run's model first
    order = [*models, *[m for m in BASELINES if m in set(results["model"])]]
    parts = []
    for n_train, group in results.groupby("n_train"):
        table = group.pivot_table(index="dataset", columns="model", values="roc_auc", aggfunc="mean")[order]
        table.loc["**median**"] = table.median()
        table.loc["**mean**"] = table.iloc[:-1].mean()
        both = bool(models) and "logreg" in order
        wins = (table.iloc[:-2][models[0]] >= table.iloc[:-2]["logreg"]).sum() if both else None
        lines = [f"### n_train = {n_train}", "", "| dataset | " + " | ".join(order) + " |",
                 "|---|" + "---|" * len(order)]
        for idx, row in table.iterrows():
            lines.append(f"| {idx} | " + " | ".join(f"{v:.3f}" for v in row.to_numpy()) + " |")
        if wins is not None:
            lines += ["", f"{models[0]} >= logreg on {wins} of {len(table) - 2} datasets."]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", default=["causalmix-tiny"],
                        help="model specs or checkpoint paths, each scored on the same splits (%(default)s)")
    parser.add_argument("--datasets", nargs="*", help="default: the standard study's 17 (first_study_datasets)")
    parser.add_argument("--acceptance", action="store_true", help="score the 14 datasets reserved for acceptance "
                        "(the confirmatory study's): once, for the final candidate; nothing may be tuned on them")
    parser.add_argument("--n-train", nargs="+", type=int, default=[64, 256, 1024])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-estimators", type=int, default=4, help="tabpfn ensemble size (%(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (%(default)s)")
    parser.add_argument("--categorical", nargs="+", default=["default"], choices=list(CATEGORICAL_MODES),
                        metavar="MODE", help="ways of handing the tabpfn model the categorical columns, each "
                        "scored on the same splits: " + "; ".join(f"{k}: {v}" for k, v in CATEGORICAL_MODES.items()))
    parser.add_argument("--test-cap", type=int, default=500, help="most test rows per split (%(default)s)")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--baselines-only", action="store_true", help="skip the tabpfn model")
    parser.add_argument("--reuse-baselines", type=Path,
                        help="take the baseline rows from this earlier results CSV (same grid) "
                             "instead of refitting them; they do not depend on the model")
    parser.add_argument("--compare", nargs="*", default=[], metavar="MODEL",
                        help="with --reuse-baselines: also reuse these models' rows (e.g. the previous shipped model)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--name", default="tiny_model", help="output file stem (%(default)s)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    if args.acceptance and args.datasets:
        parser.error("--acceptance scores the reserved datasets; it does not take --datasets")
    datasets = args.datasets or (acceptance_datasets() if args.acceptance else first_study_datasets())
    start = time.perf_counter()
    baselines = () if (args.no_baselines or args.reuse_baselines) else BASELINES
    results = run(
        model=None if args.baselines_only else args.model,
        datasets=datasets,
        n_trains=args.n_train,
        seeds=args.seeds,
        n_estimators=args.n_estimators,
        test_cap=args.test_cap,
        baselines=baselines,
        jobs=args.jobs,
        categorical=tuple(args.categorical),
    )
    if args.reuse_baselines:
        old = reused_rows(args.reuse_baselines, [*BASELINES, *args.compare], results, args.test_cap)
        results = pd.concat([results, old], ignore_index=True)
    elapsed = time.perf_counter() - start
    header = (
        f"# Zero-shot {', '.join(f'`{Path(str(m)).name}`' for m in args.model)} vs scikit-learn baselines (ROC-AUC)\n\n"
        f"Datasets: {len(datasets)} ({'the reserved acceptance set' if args.acceptance else 'from'} "
        f"`{Path(os.environ['CAUSALMIX_DATA_DIR']).name}/`); n_train {args.n_train}; {args.seeds} seeds; tabpfn n_estimators="
        f"{args.n_estimators}; test rows capped at {args.test_cap}; wall time {elapsed / 60:.1f} min "
        f"({args.jobs} processes, 1 thread each).\n"
        f"Multiclass: one-vs-rest macro ROC-AUC. Splits too small for an n_train are skipped.\n"
        + (f"Categorical columns handed to the model as: {', '.join(args.categorical)} (`--categorical`).\n"
           if args.categorical != ["default"] else "")
        + (f"Baseline rows reused from `{args.reuse_baselines}` (not refitted in this run).\n"
           if args.reuse_baselines else "")
        + "\n"
    )
    report = header + summarise(results)
    print(report)
    if not args.no_write:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        results.to_csv(args.out_dir / f"{args.name}.csv", index=False)
        (args.out_dir / f"{args.name}.md").write_text(report)
    return 0


def first_study_datasets() -> list[str]:
    """The standard study's 17 datasets: every recipe and model decision is scored on these only. Never the
    data folder's whole manifest, which also lists the 14 reserved for the confirmatory study and acceptance."""
    from causalmix.study import settings

    return list(settings("standard")["datasets"])


def acceptance_datasets() -> list[str]:
    """The 14 datasets reserved for the confirmatory study and issue 29's acceptance run (``--acceptance``)."""
    from causalmix.study import settings

    reserved = [d for d in settings("confirmatory")["datasets"] if d not in set(first_study_datasets())]
    if len(reserved) != 14:
        raise SystemExit(f"error: the confirmatory study lists {len(reserved)} datasets outside the standard study's, "
                         "not the 14 reserved ones; check causalmix/configs/confirmatory.yaml")
    return reserved


if __name__ == "__main__":
    raise SystemExit(main())
