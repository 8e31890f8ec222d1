"""What a run costs before it runs: a model of wall time fitted to measured runs, priced from a run's own settings.

A run's time is the sum of its parts:

- **training steps**: expected steps (early stopping: at least ``patience × eval_every``, then a fitted
  share of the rest) × (a fixed cost per step + members of the training ensemble × seconds per
  member-step, a power law in the rows of a step's context — ``min(n_train, max_rows_per_step)``, plus
  synthetic rows at ``synthetic_ratio`` for a method with a generator — and the number of features);
- **evaluations**: ``1 + ceil(steps / eval_every)`` × (a fixed cost + members of the evaluation ensemble
  × a power law in ``n_train`` (the context), the features and the rows scored, ``n_val + n_test`` with
  the test capped by ``test_cap``);
- **generator**: a per-method level (the generator's fit and draws) × a power law in ``n_train`` and
  the features;
- **overhead**: set-up and preprocessing (a power law in the features and ``n_train``; a
  pre-trained-only run has none); and once per worker process the start-up (imports, model load).

The parts are fitted to their own measured ``time_*`` columns, least squares on the logarithms with a
robust loss (a few runs slowed by a busy machine do not tilt them); ``scale`` turns the fit's typical
run into an expected one (sum of measured over sum of predicted). The shipped coefficients
(``causalmix/cost_model.json``) are fitted to the published standard study (2,809 runs, mid-sized) and to
80 small runs of ``benchmarks/cost_calibration_{a,b}.yaml`` that separate the fixed costs
(``benchmarks/results/cost_calibration_runs.csv``, measured on a busy 2-core machine)::

    python -m causalmix.costs published/standard/runs.csv.gz benchmarks/results/cost_calibration_runs.csv

A folder's own finished runs of the configuration calibrate the estimate to the machine at hand
(:func:`calibration`: the median ratio of measured to predicted time; :func:`method_calibration`: per
method with at least 3 finished runs, else over all of them).

>>> model = CostModel.load()
>>> small = model.seconds(method="finetune", n_train=64, n_features=8, n_val=16, n_test=500, max_steps=20)
>>> large = model.seconds(method="finetune", n_train=512, n_features=8, n_val=128, n_test=500, max_steps=20)
>>> 0 < small < large
True
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmix.data import _local_manifest_entries, default_n_val, load_dataset, resolve_name
from causalmix.finetune_config import FinetuneConfig
from causalmix.records import load_records
from causalmix.runs import METHODS

__all__ = ["COST_MODEL", "CostModel", "calibration", "fit", "largest_first", "method_calibration", "run_shape",
           "spec_seconds"]

COST_MODEL = Path(__file__).with_name("cost_model.json")

_PARTS = {
    "train": ["log_rows", "log_features"],
    "eval": ["log_train", "log_features", "log_scored"],
    "generator": ["log_train", "log_features"],
    "overhead": ["log_features", "log_train"],
}


def _expected_steps(max_steps: int, patience: int, eval_every: int, share: float) -> float:
    floor = min(max_steps, patience * eval_every)
    return floor + share * (max_steps - floor)


@dataclasses.dataclass(frozen=True)
class CostModel:
    """Coefficients per part (intercept first, then :data:`_PARTS`' features), per-method generator
    levels, the fitted share of the steps after the patience floor, and what they were fitted to."""

    coefficients: dict[str, list[float]]
    generator_levels: dict[str, float]
    step_share: float
    fitted_to: str
    n_runs: int
    fixed: dict[str, float] = dataclasses.field(default_factory=dict)  # log seconds per step / evaluation
    #: Seconds the first run of a process takes longer (imports, model load): measured 2.9 and 4.5 s in
    #: the calibration sweeps (benchmarks/cost_calibration_*.yaml), once per worker of a sweep.
    startup_s: float = 3.7
    scale: float = 1.0  # sum of measured / sum of predicted on the fitted runs: the model's median -> a mean

    @classmethod
    def load(cls, path: str | Path | None = None) -> CostModel:
        return cls(**json.loads(Path(path or COST_MODEL).read_text()))

    def save(self, path: str | Path | None = None) -> Path:
        path = Path(path or COST_MODEL)
        path.write_text(json.dumps(dataclasses.asdict(self), indent=1) + "\n")
        return path

    def _part(self, part: str, members: float = 1.0, **logs: float) -> float:
        """``exp(fixed) + members × exp(intercept + Σ coef × log feature)``: a fixed cost per step or
        evaluation (Python, preprocessing) plus the compute that grows with its size."""
        coef = self.coefficients[part]
        fixed = self.fixed.get(part)
        scaled = members * math.exp(coef[0] + sum(c * logs[name] for c, name in zip(coef[1:], _PARTS[part])))
        return float(scaled + (math.exp(fixed) if fixed is not None else 0.0))

    def parts(self, *, method: str, n_train: int, n_features: int, n_val: int, n_test: int, max_steps: int = 50,
              eval_every: int = 5, patience: int = 4, n_estimators: int = 2, n_estimators_eval: int | None = None,
              synthetic_ratio: float = 1.0, max_rows_per_step: int | None = 1024,
              generator: bool | None = None) -> dict[str, float]:
        """Seconds per part of one run (see the module docstring)."""
        generator = METHODS.get(method) is not None if generator is None else generator
        features = max(1, int(n_features))
        logs = {"log_features": math.log(features), "log_train": math.log(max(2, n_train)),
                "log_scored": math.log(max(2, n_val + n_test))}
        members_eval = n_estimators_eval or n_estimators
        if method == "pretrained" or max_steps == 0:
            return {"train": 0.0, "eval": self._part("eval", members_eval, **logs), "generator": 0.0, "overhead": 0.0}
        steps = _expected_steps(max_steps, patience, eval_every, self.step_share)
        rows = min(n_train, max_rows_per_step or n_train) * (1 + (synthetic_ratio if generator else 0.0))
        evaluations = 1 + math.ceil(steps / eval_every)
        level = self.generator_levels.get(method, self.generator_levels.get("default", 0.0)) if generator else None
        return {
            "train": steps * self._part("train", n_estimators, log_rows=math.log(max(2, rows)), **logs),
            "eval": evaluations * self._part("eval", members_eval, **logs),
            "generator": 0.0 if level is None else math.exp(level) * self._part("generator", **logs),
            "overhead": self._part("overhead", **logs),
        }

    def seconds(self, **shape: Any) -> float:
        """Expected seconds of one run (the sum of :meth:`parts`, times :attr:`scale`)."""
        return self.scale * float(sum(self.parts(**shape).values()))


# --- a run's shape from its spec ------------------------------------------------------------------


def _dataset_shape(name: str, *, load: bool = True) -> tuple[int, int, int] | None:
    """(rows, features, classes) of a dataset from its manifest entry (no loading), else by loading
    it (``load``: never, when False); None when it cannot be read here."""
    try:
        entry = _local_manifest_entries().get(resolve_name(name))
        if entry and {"n_rows", "n_features", "n_classes"} <= set(entry):
            return int(entry["n_rows"]), int(entry["n_features"]), int(entry["n_classes"])
        if not load:
            return None
        ds = load_dataset(name)
        return len(ds.X), ds.X.shape[1], len(ds.classes)
    except Exception:  # noqa: BLE001 - an estimate never fails a plan
        return None


def run_shape(spec, shapes: dict[str, Any] | None = None, *, load: bool = True) -> dict[str, Any] | None:
    """The :meth:`CostModel.parts` arguments of a :class:`~causalmix.runs.RunSpec` (None: its dataset
    cannot be read here). ``shapes`` caches datasets' shapes across calls; ``load=False`` reads the
    manifest's counts only, never the dataset's file."""
    shapes = {} if shapes is None else shapes
    if spec.dataset not in shapes:
        shapes[spec.dataset] = _dataset_shape(spec.dataset, load=load)
    shape = shapes[spec.dataset]
    if shape is None:
        return None
    n_rows, n_features, n_classes = shape
    ft = FinetuneConfig.from_dict(dict(spec.finetune))
    n_val = spec.n_val if spec.n_val is not None else default_n_val(spec.n_train, n_classes)
    n_test = max(0, min(spec.test_cap, n_rows - spec.n_train - n_val))
    return {"method": spec.method, "n_train": spec.n_train, "n_features": n_features, "n_val": n_val,
            "n_test": n_test * (2 if spec.domain else 1),  # a domain-shift run also scores out-of-domain rows
            "max_steps": 0 if spec.method == "pretrained" else ft.max_steps, "eval_every": ft.eval_every,
            "patience": ft.patience, "n_estimators": ft.n_estimators, "n_estimators_eval": ft.n_estimators_eval,
            "synthetic_ratio": ft.synthetic_ratio, "max_rows_per_step": ft.max_rows_per_step}


def spec_seconds(specs: Sequence, model: CostModel | None = None, *, load: bool = True) -> list[float]:
    """Estimated seconds of each run (NaN where its dataset cannot be read; with ``load=False``, where
    the data manifest gives no row, feature and class counts: no dataset file is opened)."""
    model = model or CostModel.load()
    shapes: dict[str, Any] = {}
    out = []
    for spec in specs:
        shape = run_shape(spec, shapes, load=load)
        out.append(math.nan if shape is None else model.seconds(**shape))
    return out


def largest_first(specs: Sequence) -> list:
    """``specs`` ordered by their estimated seconds, longest first (a run the cost model cannot price,
    e.g. of a dataset not on this machine, last); ties keep their order.

    >>> from causalmix.runs import RunSpec
    >>> specs = [RunSpec(dataset="diabetes", n_train=n, seed=0, method="finetune") for n in (64, 512)]
    >>> [s.n_train for s in largest_first(specs)]
    [512, 64]
    """
    seconds = spec_seconds(specs)
    order = sorted(range(len(specs)), key=lambda i: -seconds[i] if math.isfinite(seconds[i]) else math.inf)
    return [specs[i] for i in order]


def calibration(records: pd.DataFrame, specs_by_id: Mapping[str, Any], model: CostModel | None = None,
                minimum: int = 3) -> tuple[float, int]:
    """``(factor, runs)``: the median of measured / predicted time over the finished runs of
    ``records`` that are among ``specs_by_id`` (this configuration's runs); 1.0 with fewer than
    ``minimum`` such runs. A run's measured time is the shorter of its wall and CPU time: the CPU
    time when it shared its core with other work (its wall time waited), the wall time when it
    used several threads."""
    if records.empty or "wall_time_s" not in records:
        return 1.0, 0
    ok = records[(records["status"] == "ok") & records["run_id"].isin(specs_by_id)]
    if len(ok) < minimum:
        return 1.0, len(ok)
    predicted = spec_seconds([specs_by_id[r] for r in ok["run_id"]], model)
    cpu = ok["cpu_time_s"].to_numpy(float) if "cpu_time_s" in ok else np.full(len(ok), np.nan)
    ratio = np.fmin(ok["wall_time_s"].to_numpy(float), cpu) / np.asarray(predicted)
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    return (float(np.median(ratio)), len(ratio)) if len(ratio) >= minimum else (1.0, len(ratio))


def method_calibration(records: pd.DataFrame, specs_by_id: Mapping[str, Any], model: CostModel | None = None,
                       minimum: int = 3) -> tuple[dict[str, float], float, int]:
    """``(factor per method, factor of all, runs)``: :func:`calibration` per method that has at least
    ``minimum`` finished runs (methods differ: a generator's cost is fitted less tightly than
    fine-tuning's), and over all the runs for the other methods."""
    overall, n = calibration(records, specs_by_id, model, minimum)
    if n < minimum or "method" not in records:
        return {}, overall, n
    return _factors(records.groupby("method"), specs_by_id, model, minimum), overall, n


def _factors(groups, specs_by_id: Mapping[str, Any], model: CostModel | None, minimum: int) -> dict[Any, float]:
    """:func:`calibration` of each group of a ``groupby``, for the groups with at least ``minimum`` runs."""
    per = {key: calibration(group, specs_by_id, model, minimum) for key, group in groups}
    return {key: f for key, (f, k) in per.items() if k >= minimum}


def dataset_calibration(records: pd.DataFrame, specs_by_id: Mapping[str, Any], model: CostModel | None = None,
                        minimum: int = 3) -> dict[tuple[str, str], float]:
    """``{(method, dataset): factor}``: :func:`calibration` per method and dataset with at least
    ``minimum`` finished runs. A method's cost can depend on a dataset in a way the model does not see
    (TabEBM's chains move in one indicator column per category level: 8x the model's estimate on a
    table with a 73-level column)."""
    if records.empty or "method" not in records:
        return {}
    mine = records[records["run_id"].isin(specs_by_id)]
    dataset = mine["run_id"].map(lambda r: specs_by_id[r].dataset)
    return _factors(mine.groupby([mine["method"], dataset]), specs_by_id, model, minimum)


# --- fitting --------------------------------------------------------------------------------------


def _fit_part(X: np.ndarray, members: np.ndarray, seconds: np.ndarray) -> tuple[list[float], float]:
    """``(intercept and coefficients, log fixed seconds)`` of ``seconds ≈ exp(fixed) + members × exp(X β)``,
    least squares on the logarithms with a robust (soft L1) loss, started from the log-linear fit."""
    from scipy.optimize import least_squares

    keep = np.isfinite(seconds) & (seconds > 0)
    X, members, y = X[keep], members[keep], np.log(seconds[keep])
    start = _huber(X, y - np.log(members))
    x0 = np.array([math.log(max(1e-4, float(np.quantile(seconds[keep], 0.02)) / 4)), *start])

    def residuals(theta):
        return np.logaddexp(theta[0], np.log(members) + theta[1] + X @ theta[2:]) - y

    sol = least_squares(residuals, x0, loss="soft_l1", f_scale=0.3)
    return [float(v) for v in sol.x[1:]], float(sol.x[0])


def _huber(X: np.ndarray, y: np.ndarray) -> list[float]:
    from sklearn.linear_model import HuberRegressor

    reg = HuberRegressor(alpha=0.0, max_iter=1000).fit(X, y)
    return [float(reg.intercept_), *map(float, reg.coef_)]


def fit(runs: pd.DataFrame, *, fitted_to: str = "") -> CostModel:
    """Fit :class:`CostModel` to finished runs with ``time_*`` breakdowns (a published ``runs.csv.gz``
    or :func:`causalmix.records.load_records`)."""
    runs = runs.copy()
    numeric = ["n_features_used", "n_train", "n_val", "n_test", "n_test_ood", "n_steps", "n_estimators", "n_estimators_eval",
               "wall_time_s", "ft_max_steps", "ft_eval_every", "ft_patience", "ft_synthetic_ratio"]
    for c in numeric + [c for c in runs.columns if c.startswith("time_")]:
        if c in runs:
            runs[c] = pd.to_numeric(runs[c], errors="coerce")
    r = runs[(runs["status"] == "ok") & runs["n_features_used"].notna()].copy()
    r["log_features"] = np.log(r["n_features_used"].clip(lower=1))
    r["log_train"] = np.log(r["n_train"])
    n_test = r["n_test"].fillna(0) + r.get("n_test_ood", pd.Series(0, index=r.index)).fillna(0)
    r["log_scored"] = np.log(r["n_val"] + n_test)

    has_gen = r["method"].map(lambda m: METHODS.get(m) is not None)
    ratio = r.get("ft_synthetic_ratio", pd.Series(1.0, index=r.index)).fillna(1.0)
    max_rows = 1024
    r["log_rows"] = np.log(np.minimum(r["n_train"], max_rows) * (1 + ratio * has_gen))
    coefficients = {}

    fixed = {}
    tuned = r[(r["method"] != "pretrained") & (r["n_steps"] > 0) & (r["time_train"] > 0)]
    coefficients["train"], fixed["train"] = _fit_part(tuned[_PARTS["train"]].to_numpy(), tuned["n_estimators"].to_numpy(float),
                                                      (tuned["time_train"] / tuned["n_steps"]).to_numpy())
    evals = 1 + np.ceil(r["n_steps"].fillna(0) / r["ft_eval_every"].fillna(5))
    evaluated = r[r["time_eval"] > 0]
    coefficients["eval"], fixed["eval"] = _fit_part(evaluated[_PARTS["eval"]].to_numpy(),
                                                    evaluated["n_estimators_eval"].to_numpy(float),
                                                    (evaluated["time_eval"] / evals[evaluated.index]).to_numpy())
    fitted = r[has_gen & ~r.get("generator_cached", pd.Series(False, index=r.index)).fillna(False).astype(bool)]
    gen_time = (fitted["time_generator_fit"].fillna(0) + fitted["time_synthetic"].fillna(0)).clip(lower=1e-3)
    dummies = pd.get_dummies(fitted["method"], dtype=float)
    X = np.column_stack([fitted[_PARTS["generator"]].to_numpy(), dummies.to_numpy()])
    from sklearn.linear_model import HuberRegressor

    reg = HuberRegressor(alpha=0.0, max_iter=1000, fit_intercept=False).fit(X, np.log(gen_time).to_numpy())
    k = len(_PARTS["generator"])
    coefficients["generator"] = [0.0, *map(float, reg.coef_[:k])]
    levels = {m: float(c) for m, c in zip(dummies.columns, reg.coef_[k:])}
    levels["default"] = float(np.median(list(levels.values())))
    over = (tuned["wall_time_s"] - tuned["time_train"] - tuned["time_eval"] - tuned["time_generator_fit"].fillna(0)
            - tuned["time_synthetic"].fillna(0)).clip(lower=1e-2)
    coefficients["overhead"] = _huber(tuned[_PARTS["overhead"]].to_numpy(), np.log(over).to_numpy())
    floor = np.minimum(tuned["ft_max_steps"], tuned["ft_patience"] * tuned["ft_eval_every"])
    rest = (tuned["ft_max_steps"] - floor).replace(0, np.nan)
    share = float(np.nanmean(((tuned["n_steps"] - floor) / rest).clip(0, 1)))
    model = CostModel(coefficients=coefficients, generator_levels=levels, step_share=round(share, 4),
                      fitted_to=fitted_to, n_runs=int(len(r)), fixed=fixed)
    predicted = np.array([model.seconds(**shape) for shape in _shapes_of(r)])
    scale = float(r["wall_time_s"].sum() / predicted.sum())
    return dataclasses.replace(model, scale=round(scale, 4))


def _shapes_of(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """:meth:`CostModel.parts` arguments of recorded runs (their ``ft_*`` columns; FinetuneConfig defaults)."""
    d = FinetuneConfig()

    def get(row, key, default):
        v = getattr(row, f"ft_{key}", None)
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else v

    out = []
    for row in runs.itertuples(index=False):
        ood = getattr(row, "n_test_ood", 0)
        out.append({"method": row.method, "n_train": int(row.n_train), "n_features": int(row.n_features_used),
                    "n_val": int(row.n_val), "n_test": int(row.n_test) + (0 if ood is None or ood != ood else int(ood)),
                    "max_steps": 0 if row.method == "pretrained" else int(get(row, "max_steps", d.max_steps)),
                    "eval_every": int(get(row, "eval_every", d.eval_every)),
                    "patience": int(get(row, "patience", d.patience)),
                    "n_estimators": int(get(row, "n_estimators", d.n_estimators)),
                    "n_estimators_eval": int(get(row, "n_estimators_eval", d.n_estimators_eval or d.n_estimators)),
                    "synthetic_ratio": float(get(row, "synthetic_ratio", d.synthetic_ratio))})
    return out


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - refit: python -m causalmix.costs RUNS
    import argparse

    parser = argparse.ArgumentParser(description="fit the cost model to measured runs and write causalmix/cost_model.json")
    parser.add_argument("runs", nargs="+", help="published runs.csv.gz files or results folders (records/)")
    parser.add_argument("--out", default=str(COST_MODEL))
    args = parser.parse_args(argv)

    frames = []
    for source in args.runs:
        path = Path(source)
        frames.append(load_records(path) if path.is_dir() else pd.read_csv(path, low_memory=False))
    model = fit(pd.concat(frames, ignore_index=True), fitted_to=" + ".join(args.runs))
    print(json.dumps(dataclasses.asdict(model), indent=1))
    print(f"written to {model.save(args.out)}")


def plan_estimate(specs: Sequence, records: pd.DataFrame | None = None, *, device: str = "cpu",
                  model: CostModel | None = None, jobs: int = 1) -> tuple[list[float], str]:
    """Estimated seconds of each of ``specs`` and a sentence saying how: the cost model priced from
    each run's own settings, calibrated by the folder's finished runs of these specs when there are
    at least 3 (:func:`calibration`): per method and dataset, else per method, else over all of them.
    On a GPU the CPU-fitted model does not apply: NaN."""
    if device != "cpu":
        return [math.nan] * len(specs), "no cost model for this device"
    model = model or CostModel.load()
    records = records if records is not None else pd.DataFrame()
    by_id = {s.run_id: s for s in specs}
    per, factor, n = method_calibration(records, by_id, model)
    cells = dataset_calibration(records, by_id, model)  # empty when n < 3: a cell needs 3 of the n runs
    seconds = [v * cells.get((s.method, s.dataset), per.get(s.method, factor))
               for s, v in zip(specs, spec_seconds(specs, model))]
    done = set() if records.empty else set(records.loc[records["status"] == "ok", "run_id"])
    first = [i for i, s in enumerate(specs) if s.run_id not in done][:max(1, jobs)]
    for i in first:  # each worker process pays the start-up once
        seconds[i] += model.startup_s
    by_method = ", ".join(f"{m} x{f:.2f}" for m, f in sorted(per.items()))
    how = (f"cost model ({model.n_runs} measured runs) priced from each run's settings"
           + (f", calibrated x{factor:.2f} on this folder's {n} records of its runs" if n >= 3 else "")
           + (f" (per method: {by_method})" if len(per) > 1 else "")
           + (f"; per method and dataset where it has 3 runs ({len(cells)} pairs)" if cells else ""))
    return seconds, how + busy_note()


def busy_note() -> str:
    """``"; this machine is busy now (load 6.2 on 2 cores): ..."`` when the 1-minute load average
    exceeds the cores (the estimate assumes a free core per job), else ``""``."""
    import os

    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
    except (AttributeError, OSError):
        return ""
    if load <= cores:
        return ""
    return (f"; this machine is busy now (load {load:.1f} on {cores} cores): runs sharing a core take up to "
            f"{load / cores:.1f}x longer than estimated")


if __name__ == "__main__":  # pragma: no cover
    main()
