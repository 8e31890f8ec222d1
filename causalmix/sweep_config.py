"""Sweep configurations: a flat YAML (``configs/<name>.yaml``) validated in one place, expanded into runs.

Keys (unknown keys are an error; :class:`SweepConfig` validates them): ``name``, ``model``,
``device``, ``datasets``, ``n_train`` (list), ``n_val`` (null = SPEC default), ``seeds`` (list),
``methods`` (list), ``finetune`` (FinetuneConfig fields), ``generators`` (method -> generator
params), ``test_cap``, ``domain_shift`` (list of ``{dataset, column, values | between, n_train,
seeds, methods}``), ``out_dir`` (default ``results/<name>``), ``threads`` (null = cores // jobs),
``variants`` (name -> ``{method, generator, finetune}``: a method with other settings, listed in
``methods`` by its name — ablations), ``seeds_by_method`` (method -> a subset of ``seeds``: an
expensive method on fewer seeds of the grid).

>>> specs = expand_config("smoke")
>>> len(specs) == len({s.run_id for s in specs}) and specs[0].dataset in load_config("smoke").datasets
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from causalmix.data import DEFAULT_TEST_CAP
from causalmix.model import DEFAULT_MODEL
from causalmix.runs import METHODS, RunSpec

__all__ = ["CONFIG_DIR", "SweepConfig", "expand_config", "load_config", "resolve_config"]

#: The repository's configurations, found by name (``"quick"``) by :func:`resolve_config`.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"

DOMAIN_KEYS = {"dataset", "column", "values", "between", "n_train", "n_val", "seeds", "methods"}


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepConfig:
    """A sweep configuration, validated in one place (see the module docstring for the keys).

    Defaults are those of a single run (:class:`~causalmix.runs.RunSpec`,
    :class:`~causalmix.finetuning.FinetuneConfig`), so a sweep, ``causalmix run`` and the library
    agree when a key is left out.
    """

    name: str = "sweep"
    model: str = DEFAULT_MODEL
    device: str = "auto"
    datasets: tuple[str, ...] = ()
    n_train: tuple[int, ...] = (128,)
    n_val: int | None = None
    seeds: tuple[int, ...] = (0,)
    methods: tuple[str, ...] = ("pretrained", "finetune")
    finetune: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    generators: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    test_cap: int = DEFAULT_TEST_CAP
    domain_shift: tuple[Mapping[str, Any], ...] = ()
    out_dir: str | None = None
    threads: int | None = None
    variants: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    seeds_by_method: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen: normalise once here
        for key in ("datasets", "n_train", "seeds", "methods"):
            set_(key, tuple(_as_list(getattr(self, key))))
        set_("finetune", dict(self.finetune or {}))
        set_("generators", {k: dict(v or {}) for k, v in (self.generators or {}).items()})
        set_("domain_shift", tuple(dict(b) for b in (self.domain_shift or ())))
        set_("out_dir", str(self.out_dir or Path("results") / self.name))
        set_("variants", {k: dict(v or {}) for k, v in (self.variants or {}).items()})
        set_("seeds_by_method", {k: tuple(_as_list(v)) for k, v in (self.seeds_by_method or {}).items()})
        for method, seeds in self.seeds_by_method.items():
            if method not in self.methods or not seeds or set(seeds) - set(self.seeds):
                raise ValueError(f"seeds_by_method[{method!r}]: needs a method of `methods` and a non-empty subset of "
                                 f"`seeds` {list(self.seeds)}, got {list(seeds)}.")
        for name, v in self.variants.items():
            bad = sorted(set(v) - {"method", "generator", "finetune"})
            if name in METHODS or v.get("method") not in METHODS or bad:
                raise ValueError(f"variants[{name!r}]: needs a name that is not a method, `method` (one of "
                                 f"{', '.join(METHODS)}) and optionally `generator` and `finetune`; unknown keys {bad}.")
        bad_methods = sorted(set(self.methods) - set(METHODS) - set(self.variants))
        if bad_methods:
            raise ValueError(f"methods: unknown {bad_methods}; valid: {', '.join(METHODS)}.")
        unknown_gen = sorted(set(self.generators) - set(METHODS))
        if unknown_gen:
            raise ValueError(f"generators: unknown methods {unknown_gen}; valid: {', '.join(METHODS)}.")
        for i, block in enumerate(self.domain_shift):
            bad = sorted(set(block) - DOMAIN_KEYS)
            if bad or "dataset" not in block or "column" not in block:
                raise ValueError(f"domain_shift[{i}]: needs dataset and column; unknown keys {bad}; "
                                 f"valid {sorted(DOMAIN_KEYS)}.")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ValueError(f"threads must be an int >= 1 or null, got {self.threads!r}.")
        from causalmix.finetuning import FinetuneConfig

        FinetuneConfig.from_dict(self.finetune)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SweepConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"Unknown sweep configuration keys {unknown}; valid: {sorted(known)}.")
        return cls(**raw)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for key in ("datasets", "n_train", "seeds", "methods", "domain_shift"):
            d[key] = list(d[key])
        d["seeds_by_method"] = {k: list(v) for k, v in d["seeds_by_method"].items()}
        return d


def resolve_config(config: str | Path) -> Path:
    """A configuration's name (``"quick"``: ``configs/quick.yaml``) or a YAML file's path -> the file's path.

    >>> resolve_config("quick").name
    'quick.yaml'
    """
    path = Path(config)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path.resolve()
    named = CONFIG_DIR / f"{config}.yaml"
    if named.is_file():
        return named
    known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if not p.stem.startswith("pretrain"))
    raise FileNotFoundError(f"No configuration {str(config)!r}: not a YAML file and not one of {known} in {CONFIG_DIR}.")


def load_config(config: str | Path | Mapping[str, Any] | SweepConfig) -> SweepConfig:
    """A sweep configuration from a YAML path, a configuration's name in ``configs/``, a mapping or a
    :class:`SweepConfig`, validated."""
    if isinstance(config, SweepConfig):
        return config
    if isinstance(config, (str, Path)):
        import yaml

        path = resolve_config(config)
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path} must hold a mapping of settings.")
        raw.setdefault("name", path.stem)
    else:
        raw = dict(config)
    return SweepConfig.from_dict(raw)


def expand_config(config: str | Path | Mapping[str, Any] | SweepConfig) -> list[RunSpec]:
    """The runs of a sweep configuration, in a stable order (datasets, n_train, seeds, methods)."""
    cfg = load_config(config)
    common = dict(model=cfg.model, device=cfg.device, finetune=dict(cfg.finetune), test_cap=cfg.test_cap)

    def settings(name: str) -> dict[str, Any]:
        variant = cfg.variants.get(name)
        if variant is None:
            return dict(method=name, generator=dict(cfg.generators.get(name) or {}), **common)
        base = variant["method"]
        return dict(common, method=base, variant=name,
                    generator={**(cfg.generators.get(base) or {}), **(variant.get("generator") or {})},
                    finetune={**common["finetune"], **(variant.get("finetune") or {})})

    def runs(dataset, n_trains, seeds, methods, n_val, domain=None, seeds_by_method=None):
        for n in n_trains:
            for seed in seeds:
                for method in methods:
                    if seeds_by_method and seed not in seeds_by_method.get(method, (seed,)):
                        continue
                    yield RunSpec(dataset=dataset, n_train=int(n), seed=int(seed), n_val=n_val, domain=domain,
                                  **settings(method))

    specs = [s for d in cfg.datasets for s in runs(d, cfg.n_train, cfg.seeds, cfg.methods, cfg.n_val,
                                                   seeds_by_method=cfg.seeds_by_method)]
    for block in cfg.domain_shift:
        domain = {k: block[k] for k in ("column", "values", "between") if k in block}
        specs += runs(block["dataset"], _as_list(block.get("n_train", cfg.n_train)),
                      _as_list(block.get("seeds", cfg.seeds)), _as_list(block.get("methods", cfg.methods)),
                      block.get("n_val", cfg.n_val), domain)
    seen, unique = set(), []
    for s in specs:
        if s.run_id not in seen:
            seen.add(s.run_id)
            unique.append(s)
    return unique
