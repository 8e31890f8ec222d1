"""Studies: one YAML declares a study's parts, this module composes, runs and plans them.

A study is a configuration (``causalmix/configs/<name>.yaml``, validated by
:class:`~causalmix.sweep_config.SweepConfig`) with up to three parts, each a sweep of runs:

- ``grid`` — datasets × n_train × seeds × methods, and its domain-shift blocks;
- ``extension`` — more training sizes on one dataset (the low-resource page), same settings and
  folder as the grid, so runs it shares with the grid are recorded once;
- ``ablation`` — one factor at a time around CausalMixFT (:data:`ABLATION_FACTORS`), in
  ``<results folder>/ablation``.

The book only reads a study's records: ``causalmix study run NAME`` (or ``make reproduce FRESH=1``)
computes them first. Which records belong to a study is decided here too (:func:`current_records`,
:func:`in_sweep`, :func:`with_current_settings`), so the report, publication and verification agree.

>>> study = load_study("smoke")
>>> sorted(study.parts)
['ablation', 'extension', 'grid']
>>> study.extension["datasets"], study.extension["n_train"]
(['diabetes'], [32])
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.experiment import SweepSummary, run_sweep
from causalmix.finetune_config import FinetuneConfig
from causalmix.generators import make_generator
from causalmix.io import write_bytes_atomic
from causalmix.model import model_fingerprint
from causalmix.plan import SweepPlan, plan_sweep
from causalmix.records import read_json
from causalmix.runs import RESULT_VERSION, RunSpec
from causalmix.sweep_config import config_methods, expand_config, resolve_config
from causalmix.sweep_config import load_config as load_sweep_config

__all__ = ["ABLATION_FACTORS", "BASELINE_VARIANT", "PARTS", "Study", "ablation_config", "current_records",
           "extension_config", "in_sweep", "settings", "load_study", "plan_study", "results_dir", "reuse_records",
           "run_study", "with_current_settings", "with_part"]

#: A study's parts, in the order they run.
PARTS = ("grid", "extension", "ablation")

#: One factor at a time around the configuration's CausalMixFT settings: (section, key, values).
ABLATION_FACTORS: dict[str, tuple[str, str, tuple[Any, ...]]] = {
    "synthetic ratio": ("finetune", "synthetic_ratio", (0.0, 0.5, 2.0)),
    "synthetic rows in the query": ("finetune", "synthetic_query", (True,)),
    "DAGs": ("generator", "n_dags", (1, 5)),
    "bootstraps per algorithm": ("generator", "n_bootstrap", (1, 5)),
    "SCM feature cap (rest: side columns)": ("generator", "max_features", (5, None)),
    "mechanism quality": ("generator", "quality", ("better",)),
    "nominal variables in discovery": ("generator", "nominal_coding", ("ordinal",)),
}

#: The ablation's reference: CausalMixFT with the configuration's own settings.
BASELINE_VARIANT = "CausalMixFT as configured"


def settings(config: str | Path) -> dict[str, Any]:
    """A configuration's settings as a plain dict (what pages and captions read):
    :func:`causalmix.sweep_config.load_config` validates and completes them (``out_dir`` defaults to
    ``results/<name>``)."""
    return load_sweep_config(resolve_config(config)).to_dict()


def results_dir(config: str | Path, out_dir: str | Path | None = None) -> Path:
    """Where a configuration's run records live: ``out_dir``, else the config's, else ``results/<name>``.

    Relative paths are taken from the working folder, as on the command line; the book's notebooks
    run in the repository root (:mod:`causalmix.reproduce`).
    """
    if out_dir is None:
        cfg = settings(config)
        out_dir = cfg.get("out_dir") or f"results/{cfg['name']}"
    path = Path(out_dir).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _with_methods_and_seeds(cfg: dict[str, Any], methods: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    """``cfg`` on other methods and seeds, its ``seeds_by_method`` kept for the methods that remain,
    on the seeds that remain (a method left with none of its seeds is dropped)."""
    seeds = [int(s) for s in seeds]
    by_method = {m: [s for s in v if s in seeds] for m, v in (cfg.get("seeds_by_method") or {}).items() if m in methods}
    return {**cfg, "methods": [m for m in methods if by_method.get(m, True)], "seeds": seeds,
            "seeds_by_method": {m: v for m, v in by_method.items() if v}}


def _parts_removed(cfg: dict[str, Any]) -> dict[str, Any]:
    return {**cfg, "extension": None, "ablations": None, "anatomy": None}


def extension_config(config: str | Path, *, out_dir: str | Path | None = None) -> dict[str, Any] | None:
    """The study's extension as a sweep (None when it declares none): the grid's settings on one
    dataset at the extension's training sizes (no domain shift), in the grid's folder; a method the
    grid runs on fewer seeds (``seeds_by_method``) keeps them."""
    cfg = settings(config)
    block = cfg.get("extension")
    if not block:
        return None
    sweep = _with_methods_and_seeds(_parts_removed(cfg), list(block.get("methods") or cfg["methods"]),
                                    block.get("seeds") or cfg["seeds"])
    by_dataset = {d: v for d, v in (cfg.get("generators_by_dataset") or {}).items() if d == block["dataset"]}
    return {**sweep, "datasets": [block["dataset"]], "n_train": [int(n) for n in block["n_train"]],
            "generators_by_dataset": by_dataset, "domain_shift": [], "out_dir": str(results_dir(config, out_dir))}


def ablation_config(config: str | Path, *, out_dir: str | Path | None = None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The study's ablation sweep (None when it declares none) and its variant -> label: the grid's
    datasets at the ablation's training sizes and seeds (default: the grid's sizes, its first seed),
    no domain shift, CausalMixFT as configured plus one variant per value of :data:`ABLATION_FACTORS`
    that differs from the configured one. Records go to ``<results folder>/ablation``."""
    cfg = settings(config)
    block = cfg.get("ablations")
    current = {"generator": make_generator("causalmix", **(cfg["generators"].get("causalmix") or {})).get_params(),
               "finetune": FinetuneConfig.from_dict(cfg["finetune"]).to_dict()}
    variants, labels = {}, {"causalmix": BASELINE_VARIANT}
    for factor, (section, key, values) in ABLATION_FACTORS.items():
        for value in values:
            if current[section].get(key) == value:
                continue
            name = f"cm-{key}-{value}".replace("_", "-")
            variants[name] = {"method": "causalmix", section: {key: value}}
            labels[name] = f"{factor}: {value}"
    if block is None:
        return None, labels
    sweep = _with_methods_and_seeds(_parts_removed(cfg), ["causalmix", *variants], block.get("seeds") or cfg["seeds"][:1])
    return ({**sweep, "variants": variants, "domain_shift": [], "out_dir": str(results_dir(config, out_dir) / "ablation"),
             "n_train": [int(n) for n in block.get("n_train") or cfg["n_train"]]}, labels)


@dataclasses.dataclass(frozen=True)
class Study:
    """A study's parts as sweep configurations (dicts :func:`~causalmix.experiment.run_sweep` takes)."""

    name: str
    config: Path
    parts: Mapping[str, dict[str, Any]]
    ablation_labels: Mapping[str, str]

    @property
    def grid(self) -> dict[str, Any]:
        return self.parts["grid"]

    @property
    def extension(self) -> dict[str, Any] | None:
        return self.parts.get("extension")

    @property
    def ablation(self) -> dict[str, Any] | None:
        return self.parts.get("ablation")

    def specs(self, part: str) -> list[RunSpec]:
        """The runs of one part."""
        return expand_config(self.parts[part])


def load_study(config: str | Path, *, out_dir: str | Path | None = None) -> Study:
    """The study a configuration declares; ``out_dir`` moves its records (the ablation's go below it)."""
    path = resolve_config(config)
    cfg = settings(path)
    parts = {"grid": {**_parts_removed(cfg), "out_dir": str(results_dir(path, out_dir))}}
    extension = extension_config(path, out_dir=out_dir)
    ablation, labels = ablation_config(path, out_dir=out_dir)
    if extension is not None:
        parts["extension"] = extension
    if ablation is not None:
        parts["ablation"] = ablation
    return Study(name=cfg["name"], config=path, parts=parts, ablation_labels=labels)


def _chosen(study: Study, parts: Sequence[str] | None) -> list[str]:
    unknown = sorted(set(parts or ()) - set(PARTS))
    if unknown:
        raise ValueError(f"Unknown study parts {unknown}; valid: {', '.join(PARTS)}.")
    return [p for p in PARTS if p in study.parts and (not parts or p in parts)]


def run_study(study: Study, *, parts: Sequence[str] | None = None, jobs: int = 1, progress: bool = True,
              methods: Sequence[str] | None = None, **sweep_options: Any) -> dict[str, SweepSummary]:
    """Run the study's parts in order (all, or ``parts``); resumable like every sweep: recorded runs
    are reused, and a run an earlier part recorded in another folder (the ablation's CausalMixFT as
    configured is a grid run) is copied, not recomputed: the same run id is the same run. ``methods``
    keeps the runs of those methods (in the parts that have them), e.g. the primary claim's first.
    ``sweep_options`` go to :func:`~causalmix.experiment.run_sweep`."""
    summaries, folders = {}, []
    chosen = _with_methods(study, _chosen(study, parts), methods)
    for part, only in chosen.items():
        here = Path(study.parts[part]["out_dir"])
        for folder in folders:
            if folder != here:
                reuse_records({spec.run_id for spec in study.specs(part)}, source=folder, dest=here)
        summaries[part] = run_sweep(study.parts[part], jobs=jobs, progress=progress, methods=only, **sweep_options)
        folders.append(here)
    return summaries


def _with_methods(study: Study, parts: list[str], methods: Sequence[str] | None) -> dict[str, list[str] | None]:
    """Per chosen part, the methods to run there (None: all); a part without any of ``methods`` is left out."""
    if methods is None:
        return dict.fromkeys(parts)
    listed = {part: config_methods(study.parts[part]) for part in parts}
    unknown = sorted(set(methods) - {m for names in listed.values() for m in names})
    if unknown:
        known = ", ".join(dict.fromkeys(m for names in listed.values() for m in names))
        raise ValueError(f"Methods {unknown} are in no chosen part of study '{study.name}'; its methods: {known}.")
    return {part: [m for m in methods if m in names] for part, names in listed.items() if set(methods) & set(names)}


def reuse_records(run_ids: set[str], *, source: Path, dest: Path) -> int:
    """Copy the successful records (and curves) of ``run_ids`` from one results folder to another
    where they are missing; returns how many were copied."""
    copied = 0
    for run_id in sorted(run_ids):
        record, target = source / "records" / f"{run_id}.json", dest / "records" / f"{run_id}.json"
        found = read_json(record) if record.is_file() and not target.is_file() else None
        if found is None or found.get("status") != "ok" or found.get("run_id") != run_id:
            continue
        curve = record.with_name(f"{run_id}.curve.csv")
        if curve.is_file():
            write_bytes_atomic(target.with_name(curve.name), curve.read_bytes())
        write_bytes_atomic(target, record.read_bytes())  # the record last: a record means its curve is there
        copied += 1
    return copied


def plan_study(study: Study, *, parts: Sequence[str] | None = None, jobs: int = 1,
               methods: Sequence[str] | None = None) -> dict[str, SweepPlan]:
    """What :func:`run_study` would do, per part (nothing is run or written); a run an earlier part
    makes (the extension shares its grid sizes with the grid) counts as recorded in the later one."""
    plans, earlier = {}, frozenset()
    for part, only in _with_methods(study, _chosen(study, parts), methods).items():
        plans[part] = plan_sweep(study.parts[part], jobs=jobs, done_before=earlier, methods=only)
        earlier |= {spec.run_id for spec in study.specs(part)}
    return plans


def current_records(records: pd.DataFrame, model: str) -> pd.DataFrame:
    """The records made by ``model``'s current weights (sha256) and the current result version
    (:data:`causalmix.runs.RESULT_VERSION`): the only ones a page may mix (run ids cover the rest of
    what determines a run)."""
    version = records["result_version"] if "result_version" in records else pd.Series(math.nan, index=records.index)
    keep = (records["model"] == str(model)) & (version == RESULT_VERSION)
    if "model_sha256" in records:
        sha = model_fingerprint(model)
        keep &= records["model_sha256"].fillna(sha) == sha
    return records[keep]


def in_sweep(records: pd.DataFrame, config: str | Path | Mapping[str, Any]) -> pd.DataFrame:
    """The records of the configuration's own grid (datasets × n_train × seeds × methods and its
    domain-shift blocks) made by the current code, data and weights (run ids cover them), leaving
    out the other parts' runs that share the folder (the extension). Published records say which
    part they belong to (their ``part``, fixed at publication)."""
    if "part" in records:
        return records[records["part"] != "extra"]
    ids = {spec.run_id for spec in expand_config(config if isinstance(config, Mapping) else resolve_config(config))}
    return records[records["run_id"].isin(ids)]


def with_part(records: pd.DataFrame, config: str | Path | Mapping[str, Any], *, grid_part: str = "main",
              other_part: str | None = "extra") -> pd.DataFrame:
    """``records`` with the ``part`` a publication gives them: ``grid_part`` for the runs of the
    configuration's grid (:func:`in_sweep`), ``other_part`` for the rest (the extension), so records of
    several studies can be pooled and still be told apart; records that carry a part are returned as
    they are."""
    if "part" in records:
        return records
    inside = set(in_sweep(records, config)["run_id"])
    return records.assign(part=[grid_part if r in inside else other_part for r in records["run_id"]])


def with_current_settings(records: pd.DataFrame, config: str | Path | Mapping[str, Any]) -> pd.DataFrame:
    """The records made with the configuration's current settings (model, fine-tuning, generator,
    test cap, variants), data, weights and result version: a record is kept when the run of its own
    dataset, training size, seed, validation size and domain under the configuration's settings has
    its run id. Records of an earlier sweep with other settings in the same folder are left out; runs
    outside the grid made with the same settings (the extension) are kept (:func:`in_sweep` keeps
    the grid only). ``attrs["ignored"]`` counts those left out.

    Published records (with a ``part``) are returned as they are: their settings are checked at load."""
    if records.empty or "part" in records or "spec" not in records:
        return records
    cfg = load_sweep_config(config if isinstance(config, Mapping) else resolve_config(config))
    common = dict(model=cfg.model, device=cfg.device, test_cap=cfg.test_cap)
    keep = []
    for rec in records.itertuples(index=False):
        try:
            spec = json.loads(rec.spec) if isinstance(rec.spec, str) else dict(rec.spec or {})
            name = spec.get("variant") or spec["method"]
            variant = cfg.variants.get(name)
            method = variant["method"] if variant else name
            generator = {**(cfg.generators.get(method) or {}), **((variant or {}).get("generator") or {})}
            finetune = {**cfg.finetune, **((variant or {}).get("finetune") or {})}
            mine = RunSpec(dataset=spec["dataset"], n_train=spec["n_train"], seed=spec["seed"], n_val=spec.get("n_val"),
                           domain=spec.get("domain"), target=spec.get("target"), method=method,
                           variant=name if variant else None, generator=generator, finetune=finetune, **common)
            keep.append(mine.run_id == rec.run_id)
        except Exception:  # noqa: BLE001 - a record this configuration cannot describe is not one of its runs
            keep.append(False)
    kept = records[keep]
    kept.attrs["ignored"] = len(records) - len(kept)
    return kept
