"""Sweep configurations: a flat YAML (``causalmix/configs/<name>.yaml``) validated in one place, expanded into runs.

Keys (unknown keys are an error; :class:`SweepConfig` validates them): ``name``, ``model``,
``device``, ``datasets``, ``n_train`` (list), ``n_val`` (null = SPEC default), ``seeds`` (list),
``methods`` (list), ``finetune`` (FinetuneConfig fields), ``generators`` (method -> generator
params), ``test_cap``, ``domain_shift`` (list of ``{dataset, column, values | between, n_train,
seeds, methods}``), ``out_dir`` (default ``results/<name>``), ``threads`` (null = cores // jobs),
``variants`` (name -> ``{method, generator, finetune}``: a method with other settings, listed in
``methods`` by its name — ablations), ``seeds_by_method`` (method -> a subset of ``seeds``: an
expensive method on fewer seeds of the grid), ``generators_by_dataset`` (dataset -> method -> generator
params that update ``generators`` on that dataset's runs: a setting a dataset cannot take, stated in the file).

A configuration is a study's one file (:mod:`causalmix.study`): beside the grid it declares the
study's other parts, each optional — ``extension`` (``{dataset, n_train, seeds, methods}``: more
training sizes on one dataset, the low-resource page's; seeds and methods default to the grid's),
``ablations`` (``{n_train, seeds}``: one factor at a time around CausalMixFT, on the grid's datasets;
n_train defaults to the grid's, seeds to its first) and ``anatomy`` (``{dataset, n_train,
n_synthetic}``: the SCM anatomy page's split).

>>> specs = expand_config("smoke")
>>> len(specs) == len({s.run_id for s in specs}) and specs[0].dataset in load_config("smoke").datasets
True
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from causalmix.data import DEFAULT_TEST_CAP, check_name
from causalmix.finetune_config import FinetuneConfig
from causalmix.generators import make_generator
from causalmix.io import load_yaml
from causalmix.model import DEFAULT_MODEL
from causalmix.runs import METHODS, RunSpec

__all__ = ["CONFIG_DIR", "SweepConfig", "expand_config", "load_config", "resolve_config"]

#: The repository's configurations, found by name (``"quick"``) by :func:`resolve_config`.
CONFIG_DIR = Path(__file__).resolve().with_name("configs")

DOMAIN_KEYS = {"dataset", "column", "values", "between", "n_train", "n_val", "seeds", "methods"}
PART_KEYS = {"extension": {"dataset", "n_train", "seeds", "methods"}, "ablations": {"n_train", "seeds"},
             "anatomy": {"dataset", "n_train", "n_synthetic"}}


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_ints(key: str, values: Any, smallest: int) -> None:
    for v in _as_list(values):
        if not _is_int(v) or v < smallest:
            raise ValueError(f"{key}: every value must be an int >= {smallest} (no fractions, no booleans), got {v!r}.")


def _check_strings(key: str, values: Any) -> None:
    for v in _as_list(values):
        if not isinstance(v, str) or not v:
            raise ValueError(f"{key}: every value must be a non-empty string, got {v!r}.")


def check_generator_params(method: str, params: Mapping[str, Any], where: str) -> None:
    """A method's generator parameters, checked when a configuration is read, not when the first run
    fits the generator: unknown names are refused (with the closest valid one), values against the
    generator's declared constraints (:meth:`causalmix.generators.Generator.check_params`: types,
    ranges, options), each error naming ``where`` and the parameter."""
    import difflib

    name = METHODS.get(method)
    if not params:
        return
    if name is None:
        raise ValueError(f"{where}: {method!r} takes no generator parameters.")
    known = sorted(make_generator(name).get_params())
    for key in params:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{where}.{key}: unknown parameter of generator {name!r}.{hint} Valid: {', '.join(known)}.")
    try:
        make_generator(name, **dict(params)).check_params()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None


def _check_types(cfg: SweepConfig) -> None:
    """Types and ranges of every key, before anything is built from them; the message names the key."""
    import math

    check_name(cfg.name, "configuration name")  # it names the results folder: no '/', no '..'
    for key in ("model", "device"):
        if not isinstance(getattr(cfg, key), str) or not getattr(cfg, key):
            raise ValueError(f"{key} must be a non-empty string, got {getattr(cfg, key)!r}.")
    _check_strings("datasets", cfg.datasets)
    _check_strings("methods", cfg.methods)
    _check_ints("n_train", cfg.n_train, 1)
    _check_ints("seeds", cfg.seeds, 0)
    if cfg.n_val is not None:
        _check_ints("n_val", cfg.n_val, 1)
    _check_ints("test_cap", cfg.test_cap, 1)
    if cfg.out_dir is not None and not isinstance(cfg.out_dir, str):
        raise ValueError(f"out_dir must be a string (a folder) or null, got {cfg.out_dir!r}.")
    for key in ("finetune", "generators", "variants", "seeds_by_method", "generators_by_dataset"):
        if getattr(cfg, key) is not None and not isinstance(getattr(cfg, key), Mapping):
            raise ValueError(f"{key} must be a mapping, got {getattr(cfg, key)!r}.")
    for key in ("generators", "variants", "generators_by_dataset"):
        for k, v in (getattr(cfg, key) or {}).items():
            if v is not None and not isinstance(v, Mapping):
                raise ValueError(f"{key}[{k!r}] must be a mapping, got {v!r}.")
    for k, v in (cfg.variants or {}).items():
        check_name(k, "variants name")
    for k, v in (cfg.seeds_by_method or {}).items():
        _check_ints(f"seeds_by_method[{k!r}]", v, 0)
    for k, v in (cfg.generators or {}).items():
        check_generator_params(k, v or {}, f"generators[{k!r}]")
    for dataset, by_method in (cfg.generators_by_dataset or {}).items():
        for k, v in (by_method or {}).items():
            if v is not None and not isinstance(v, Mapping):
                raise ValueError(f"generators_by_dataset[{dataset!r}][{k!r}] must be a mapping, got {v!r}.")
            check_generator_params(k, {**((cfg.generators or {}).get(k) or {}), **(v or {})},
                                   f"generators_by_dataset[{dataset!r}][{k!r}]")
    for k, v in (cfg.variants or {}).items():
        if isinstance(v.get("generator"), Mapping):
            check_generator_params(str(v.get("method")), v["generator"], f"variants[{k!r}].generator")
    if not isinstance(cfg.domain_shift, (list, tuple)):
        raise ValueError(f"domain_shift must be a list of blocks, got {cfg.domain_shift!r}.")
    for i, block in enumerate(cfg.domain_shift or ()):
        where = f"domain_shift[{i}]"
        if not isinstance(block, Mapping):
            raise ValueError(f"{where} must be a mapping, got {block!r}.")
        for key in ("dataset", "column"):
            if key in block and (not isinstance(block[key], str) or not block[key]):
                raise ValueError(f"{where}.{key} must be a non-empty string, got {block[key]!r}.")
        for key, smallest in (("n_train", 1), ("seeds", 0), ("n_val", 1)):
            if block.get(key) is not None:
                _check_ints(f"{where}.{key}", block[key], smallest)
        if "methods" in block:
            _check_strings(f"{where}.methods", block["methods"])
        if "values" in block:
            values = block["values"]
            if not isinstance(values, (list, tuple)) or not values or len(values) > 10_000 or any(
                    isinstance(v, (list, tuple, Mapping)) or v is None for v in values):
                raise ValueError(f"{where}.values must be a non-empty list of plain values (at most 10000).")
        if "between" in block:
            b = block["between"]
            if (not isinstance(b, (list, tuple)) or len(b) != 2 or any(
                    isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in b)
                    or b[0] >= b[1]):
                raise ValueError(f"{where}.between must be [low, high], two finite numbers with low < high, got {b!r}.")


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
    generators_by_dataset: Mapping[str, Mapping[str, Mapping[str, Any]]] = dataclasses.field(default_factory=dict)
    extension: Mapping[str, Any] | None = None
    ablations: Mapping[str, Any] | None = None
    anatomy: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen: normalise once here
        _check_types(self)
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
        set_("generators_by_dataset", {d: {k: dict(v or {}) for k, v in (m or {}).items()}
                                       for d, m in (self.generators_by_dataset or {}).items()})
        for name, v in self.variants.items():
            bad = sorted(set(v) - {"method", "generator", "finetune"})
            if name in METHODS or v.get("method") not in METHODS or bad:
                raise ValueError(f"variants[{name!r}]: needs a name that is not a method, `method` (one of "
                                 f"{', '.join(METHODS)}) and optionally `generator` and `finetune`; unknown keys {bad}.")
        bad_methods = sorted(set(self.methods) - set(METHODS) - set(self.variants))
        if bad_methods:
            raise ValueError(f"methods: unknown {bad_methods}; valid: {', '.join(METHODS)}.")
        unknown_gen = sorted((set(self.generators) | {k for m in self.generators_by_dataset.values() for k in m})
                             - set(METHODS))
        if unknown_gen:
            raise ValueError(f"generators: unknown methods {unknown_gen}; valid: {', '.join(METHODS)}.")
        for i, block in enumerate(self.domain_shift):
            bad = sorted(set(block) - DOMAIN_KEYS)
            if bad or "dataset" not in block or "column" not in block:
                raise ValueError(f"domain_shift[{i}]: needs dataset and column; unknown keys {bad}; "
                                 f"valid {sorted(DOMAIN_KEYS)}.")
        known = self.all_datasets
        for dataset in self.generators_by_dataset:
            if dataset not in known:
                raise ValueError(f"generators_by_dataset[{dataset!r}]: not a dataset of this configuration; "
                                 f"its datasets (grid, then domain-shift blocks): {', '.join(map(str, known))}.")
        for part, keys in PART_KEYS.items():
            block = getattr(self, part)
            if block is None:
                continue
            if not isinstance(block, Mapping) or set(block) - keys or (part == "extension" and "dataset" not in block):
                raise ValueError(f"{part}: a mapping with keys {sorted(keys)}" + (" (dataset required)" if part == "extension"
                                 else "") + f", or null; got {block!r}.")
            set_(part, dict(block))
            for key in ("n_train", "seeds"):
                if block.get(key) is not None:
                    _check_ints(f"{part}.{key}", _as_list(block[key]), 1 if key == "n_train" else 0)
            if block.get("methods") is not None:
                _check_strings(f"{part}.methods", _as_list(block["methods"]))
        if self.threads is not None and (not _is_int(self.threads) or self.threads < 1):
            raise ValueError(f"threads must be an int >= 1 or null, got {self.threads!r}.")

        FinetuneConfig.from_dict(self.finetune)

    @property
    def all_datasets(self) -> list[str]:
        """Every dataset the configuration names: the grid's, then the domain-shift blocks', each once."""
        return list(dict.fromkeys([*self.datasets, *(b["dataset"] for b in self.domain_shift)]))

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
    """A configuration's name (``"quick"``: ``causalmix/configs/quick.yaml``) or a YAML file's path -> the file's path.

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
    """A sweep configuration from a YAML path, a configuration's name in ``causalmix/configs/``, a mapping or a
    :class:`SweepConfig`, validated."""
    if isinstance(config, SweepConfig):
        return config
    if isinstance(config, (str, Path)):
        path = resolve_config(config)
        raw = load_yaml(path) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path} must hold a mapping of settings.")
        raw.setdefault("name", path.stem)
    else:
        raw = dict(config)
    return SweepConfig.from_dict(raw)


def config_methods(config: str | Path | Mapping[str, Any] | SweepConfig) -> list[str]:
    """The methods (and variants) a configuration lists, its grid's then its domain-shift blocks', once each."""
    cfg = load_config(config)
    return list(dict.fromkeys([*cfg.methods, *(m for b in cfg.domain_shift for m in _as_list(b.get("methods", ())))]))


def expand_config(config: str | Path | Mapping[str, Any] | SweepConfig, *,
                  methods: Sequence[str] | None = None) -> list[RunSpec]:
    """The runs of a sweep configuration, in a stable order (datasets, n_train, seeds, methods);
    ``methods`` keeps the runs of those methods only (names as the configuration lists them), with
    the run ids they have in the whole sweep, e.g. to compute a primary claim's methods first."""
    cfg = load_config(config)
    if methods is not None:
        unknown = sorted(set(methods) - set(config_methods(cfg)))
        if unknown:
            raise ValueError(f"Methods {unknown} are not in sweep '{cfg.name}'; its methods: "
                             f"{', '.join(config_methods(cfg))}.")
    common = dict(model=cfg.model, device=cfg.device, finetune=dict(cfg.finetune), test_cap=cfg.test_cap)

    def settings(name: str, dataset: str) -> dict[str, Any]:
        variant = cfg.variants.get(name)
        base = name if variant is None else variant["method"]
        generator = {**(cfg.generators.get(base) or {}),
                     **(cfg.generators_by_dataset.get(dataset, {}).get(base) or {})}
        if variant is None:
            return dict(method=name, generator=generator, **common)
        return dict(common, method=base, variant=name, generator={**generator, **(variant.get("generator") or {})},
                    finetune={**common["finetune"], **(variant.get("finetune") or {})})

    def runs(dataset, n_trains, seeds, methods, n_val, domain=None, seeds_by_method=None):
        for n in n_trains:
            for seed in seeds:
                for method in methods:
                    if seeds_by_method and seed not in seeds_by_method.get(method, (seed,)):
                        continue
                    yield RunSpec(dataset=dataset, n_train=int(n), seed=int(seed), n_val=n_val, domain=domain,
                                  **settings(method, dataset))

    specs = [s for d in cfg.datasets for s in runs(d, cfg.n_train, cfg.seeds, cfg.methods, cfg.n_val,
                                                   seeds_by_method=cfg.seeds_by_method)]
    for block in cfg.domain_shift:
        domain = {k: block[k] for k in ("column", "values", "between") if k in block}
        specs += runs(block["dataset"], _as_list(block.get("n_train", cfg.n_train)),
                      _as_list(block.get("seeds", cfg.seeds)), _as_list(block.get("methods", cfg.methods)),
                      block.get("n_val", cfg.n_val), domain)
    # the same settings are the same run (its run id adds only the data's and weights' hashes, the same for
    # every run of a dataset): deduplicated without hashing a data file, so expanding a study reads no data
    seen, unique = set(), []
    for s in specs:
        key = json.dumps(s.to_dict(), sort_keys=True, default=str)
        if key not in seen and (methods is None or (s.variant or s.method) in methods):
            seen.add(key)
            unique.append(s)
    return unique
