"""The benchmark results as the model section reads them (``benchmarks/results/``, the weights' sidecars).

Scores are aggregated as the benchmarks aggregate them (``benchmarks/tiny_model.py``, ``recipes.py``,
``pretrain_efficiency.py``): per dataset the mean ROC-AUC over seeds, then the median (or mean) across
datasets. What no CSV holds is parsed from the markdown a benchmark printed beside its CSV:
:func:`recipe_runs` (each recipe variant's settings, steps and trainer minutes, from ``recipes.py``'s
summary table) and :func:`in_prior_scores` (the in-prior rule-table check in ``prior_rules.md``).

>>> import pandas as pd
>>> runs = pd.DataFrame({"dataset": ["a", "a", "b"], "n_train": 64, "seed": [0, 1, 0], "model": "m",
...                      "roc_auc": [0.6, 0.8, 0.9]})
>>> per_dataset_scores(runs)["m"].round(3).tolist(), score_summary(runs).round(3).loc["m"].tolist()
([0.7, 0.9], [0.8, 0.8])
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml

from causalmix.io import markdown_table
from causalmix.provenance import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"
WEIGHTS = REPO_ROOT / "causalmix" / "weights"


def per_dataset_scores(runs: pd.DataFrame, n_train: int | None = None) -> pd.DataFrame:
    """Per dataset (rows) and model (columns) the mean ROC-AUC over seeds, at ``n_train`` (or the only one)."""
    if n_train is not None:
        runs = runs[runs["n_train"] == n_train]
    return runs.pivot_table(index="dataset", columns="model", values="roc_auc", aggfunc="mean")


def score_summary(runs: pd.DataFrame, n_train: int | None = None) -> pd.DataFrame:
    """Per model the median and mean across datasets of :func:`per_dataset_scores`."""
    cells = per_dataset_scores(runs, n_train)
    return pd.DataFrame({"median": cells.median(), "mean": cells.mean()})


def checkpoint_medians(runs: pd.DataFrame) -> pd.DataFrame:
    """A ``pretrain_efficiency.py`` CSV per run and checkpoint: ``run``, ``step``, ``cpu_minutes`` and ``median``,
    the median over datasets of the mean ROC-AUC over seeds (the script's table and figure, and the model section)."""
    return (runs.groupby(["run", "step", "cpu_minutes", "dataset"], sort=False)["roc_auc"].mean()
            .groupby(level=["run", "step", "cpu_minutes"], sort=False).median().rename("median").reset_index())


def first_reaching(medians: pd.DataFrame, target: float) -> pd.Series | None:
    """The first checkpoint (in ``medians``' order, a :func:`checkpoint_medians` frame) whose median, rounded to 3
    decimals as the tables show it, is at least ``target``; ``None`` if none is.

    >>> medians = pd.DataFrame({"step": [1000, 2000, 3000], "median": [0.80, 0.8495, 0.86]})
    >>> int(first_reaching(medians, 0.85)["step"]), first_reaching(medians, 0.9)
    (2000, None)
    """
    hits = medians[medians["median"].round(3) >= target]
    return hits.iloc[0] if len(hits) else None


def first_not_rising(medians: pd.DataFrame) -> pd.Series | None:
    """The first checkpoint (in ``medians``' order) whose median, rounded to 3 decimals as the tables show it, is
    not above the previous checkpoint's: where a "train on while the median rises" rule stops; ``None`` if every
    one rises.

    >>> medians = pd.DataFrame({"step": [4000, 8000, 12000], "median": [0.80, 0.8604, 0.8596]})
    >>> int(first_not_rising(medians)["step"]), first_not_rising(medians.head(2))
    (12000, None)
    """
    shown = medians["median"].round(3)
    flat = medians[shown.le(shown.shift())]
    return flat.iloc[0] if len(flat) else None


def sidecar(name: str, weights: Path = WEIGHTS) -> dict:
    """A shipped model's sidecar (``causalmix/weights/<name>.json``)."""
    return json.loads((Path(weights) / f"{name}.json").read_text())


def training_minutes(card: dict) -> float:
    """A sidecar's training wall time in minutes."""
    return card["wall_time_s"] / 60


def recipe_runs(path: Path) -> pd.DataFrame:
    """The summary table of a ``benchmarks/recipes.py`` markdown (parsed: its CSV holds only the scores):
    per variant its ``settings`` (a dict), ``recipe`` (those settings over the base recipe, the YAML the
    header names as it is now), ``steps`` and trainer minutes (``CPU min``); the reference models' rows
    dropped. ``attrs``: ``equal`` (``"steps"`` or ``"time"``, as the header says) and ``config``."""
    text = Path(path).read_text()
    header = re.search(r"at equal (\w+)[^(]*\(`([^`]+)`", text)
    if header is None:
        raise ValueError(f"{path}: not a benchmarks/recipes.py summary (no 'at equal ... (`config`)' header)")
    rows = _table(text, "variant", path)
    table = pd.DataFrame(rows[1:], columns=rows[0]).set_index("variant")
    table = table[table["steps"] != ""]
    config = Path(header.group(2))
    base = yaml.safe_load(next(p for p in (REPO_ROOT / config, REPO_ROOT / "causalmix" / config) if p.is_file())
                          .read_text())
    table["settings"] = [_settings(s) for s in table["settings"]]
    table["recipe"] = [{**base, **s, "prior": {**base.get("prior", {}), **s["prior"]}} for s in table["settings"]]
    table = table.astype({"steps": int, "CPU min": float})
    table.attrs.update(equal=header.group(1), config=str(config))
    return table


def _table(text: str, first: str, path: Path) -> list[list[str]]:
    rows = markdown_table(text, first)
    if not rows:
        raise ValueError(f"{path}: no markdown table with a first column {first!r}")
    return rows


def _settings(text: str) -> dict:
    """A variant's settings as ``recipes.py`` reads them: ``"emsize=96,prior.mix_share=0.3"`` ->
    ``{"emsize": 96, "prior": {"mix_share": 0.3}}`` (``"base"``: none)."""
    settings: dict = {"prior": {}}
    for key, _, value in (item.partition("=") for item in text.split(",") if "=" in item):
        target = settings["prior"] if key.startswith("prior.") else settings
        target[key.removeprefix("prior.")] = yaml.safe_load(value)
    return settings


def in_prior_scores(path: Path, row: str = "categorical columns") -> tuple[int, dict[str, float]]:
    """The in-prior check of ``prior_rules.md`` (``benchmarks/rule_prior_check.py`` printed it; parsed):
    the row whose label holds ``row``, as its number of columns and each model's median ROC-AUC."""
    rows = _table(Path(path).read_text(), "tables", path)
    label, *cells = next(r for r in rows[1:] if row in r[0])
    return int(re.search(r"(\d+) " + row, label).group(1)), {
        model: float(cell.split("/")[1]) for model, cell in zip(rows[0][1:], cells)}
