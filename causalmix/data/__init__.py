"""Datasets: a registry of named classification datasets, three ways to load them, and the
low-data split protocol.

Three ways in:

1. a local data directory, ``CAUSALMIX_DATA_DIR``, holding ``<name>.csv.gz`` files and a
   ``manifest.json`` in the format of the project's shared datasets (offline; tests and CI);
   the code has no default for it (the Makefile sets it to ``../shared/datasets`` when that
   folder exists);
2. OpenML by dataset id, through the ``openml`` package and its cache (the route for users
   with internet; used when the variable is unset or its folder lacks the dataset; offline
   it fails at once, naming ``CAUSALMIX_DATA_DIR`` and ``causalmix add-dataset``);
3. any CSV or parquet file of yours: ``load_dataset("my.csv", target="label")``, or made a
   named dataset of a data directory with ``add_dataset`` / ``causalmix add-dataset``.

Names are names, never paths: ``check_name`` enforces ``NAME_RULE`` and ``safe_path`` keeps
every file written inside its folder.

One module per concern, re-exported here (``from causalmix.data import X``):

- :mod:`~causalmix.data.names` — names, paths and :class:`DatasetError`;
- :mod:`~causalmix.data.tables` — reading and cleaning a CSV/parquet file of yours;
- :mod:`~causalmix.data.registry` — the registry, the data folder's manifest and the loaders;
- :mod:`~causalmix.data.ingest` — :func:`add_dataset`, a file of yours made a named dataset;
- :mod:`~causalmix.data.splits` — the split protocol.

>>> ds = load_dataset("adult")                                  # doctest: +SKIP
>>> split = low_data_split(ds, n_train=256, seed=0)             # doctest: +SKIP
>>> split.X_train.shape, split.X_val.shape                      # doctest: +SKIP
((256, 14), (64, 14))
"""

from causalmix.data.ingest import add_dataset
from causalmix.data.names import NAME_MAX_LENGTH, NAME_RULE, DatasetError, check_name, safe_path, sanitize_name
from causalmix.data.registry import (  # noqa: F401 - the two private names: costs, runs, experiment and tests use them
    DATA_DIR_ENV,
    REGISTRY,
    TABARENA_33,
    Dataset,
    DatasetInfo,
    Task,
    _data_dir,
    _local_manifest_entries,
    list_datasets,
    load_dataset,
    resolve_name,
)
from causalmix.data.splits import (
    DEFAULT_TEST_CAP,
    Split,
    allocate,
    check_classes,
    check_splittable,
    default_n_val,
    domain_mask,
    domain_shift_split,
    low_data_split,
)
from causalmix.data.tables import MAX_ABS_VALUE, MISSING_MARKERS, DateHandling, read_table

__all__ = [
    "DATA_DIR_ENV", "DEFAULT_TEST_CAP", "MAX_ABS_VALUE", "MISSING_MARKERS", "NAME_MAX_LENGTH", "NAME_RULE", "REGISTRY",
    "TABARENA_33", "Dataset", "DatasetError", "DatasetInfo", "DateHandling", "Split", "Task", "add_dataset", "allocate",
    "check_classes", "check_name", "check_splittable", "default_n_val", "domain_mask", "domain_shift_split",
    "list_datasets", "load_dataset", "low_data_split", "read_table", "resolve_name", "safe_path", "sanitize_name",
]
