"""A generator's synthetic rows, written to a file (``causalmix sample``).

The rows are those a run of the same (dataset, n_train, seed, method, generator parameters) would
mix in: the generator is fitted on that run's training split with the run's ``generator_fit`` seed,
and rows are drawn from the ``synthetic`` stream (:mod:`causalmix.seeds`).

>>> sample_rows("diabetes", method="smote", n_train=64, seed=0, n=5).shape   # doctest: +SKIP
(5, 9)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.clidoc import check_generator
from causalmix.generators import make_generator
from causalmix.runs import METHODS, RunSpec, dataset_fingerprint, run_dataset, run_split
from causalmix.seeds import stream_seed

__all__ = ["sample_rows", "write_rows"]


def sample_rows(dataset: str, *, method: str = "causalmix", n_train: int = 256, seed: int = 0, n: int | None = None,
                generator: Mapping[str, Any] | None = None, target: str | None = None, n_val: int | None = None,
                progress: bool = False, with_real: bool = False) -> pd.DataFrame:
    """``n`` synthetic rows (default ``n_train``) of ``method``'s generator fitted on the training rows
    of the run's split; the label is the last column (named as the dataset's label). ``with_real``
    appends the real training rows too, with a ``source`` column (``real``/``synthetic``)."""
    if METHODS.get(method) is None:
        raise ValueError(f"{method!r} makes no synthetic rows; choose one of "
                         f"{', '.join(m for m, g in METHODS.items() if g)}.")
    params = dict(generator or {})
    check_generator(method, params)
    spec = RunSpec(dataset=dataset, n_train=n_train, seed=seed, method=method, n_val=n_val, target=target,
                   generator=params)
    ds = run_dataset(spec.dataset, spec.target, dataset_fingerprint(spec.dataset))
    split = run_split(spec, ds)
    probe = make_generator(METHODS[method], **params)
    defaults = {"random_state": stream_seed(seed, "generator_fit")}
    if progress and "progress" in probe.get_params():
        defaults["progress"] = True  # CausalMixFT: a bar over the discovery runs and SCM fits
    params.update({k: v for k, v in defaults.items() if k in probe.get_params() and k not in params})
    gen = make_generator(METHODS[method], **params).fit(split.X_train, split.y_train)
    X, y = gen.sample(int(n_train if n is None else n), random_state=stream_seed(seed, "synthetic"))
    label = str(ds.y.name or target or "label")
    rows = X.assign(**{label: y.to_numpy()})
    if with_real:
        real = split.X_train.assign(**{label: split.y_train.to_numpy()})
        rows = pd.concat([real.assign(source="real"), rows.assign(source="synthetic")], ignore_index=True)
    return rows


def write_rows(rows: pd.DataFrame, path: str | Path) -> Path:
    """Write ``rows`` as CSV (``.csv``, ``.csv.gz``) or parquet (``.parquet``, ``.pq``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".parquet", ".pq"):
        rows.to_parquet(path, index=False)
    elif path.name.endswith((".csv", ".csv.gz")):
        rows.to_csv(path, index=False)
    else:
        raise ValueError(f"{path}: write .csv, .csv.gz, .parquet or .pq.")
    return path
