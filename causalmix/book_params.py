"""The book's notebook parameters that follow from a configuration itself (for ``make reproduce CONFIG=``
on a configuration of your own), and the parameters a notebook declares (so none is passed that it
does not take). :func:`causalmix.reproduce.parameters_for` applies both.

>>> configuration_parameters({"datasets": ["passengers"], "n_train": [64, 128], "seeds": [0, 1, 2]})["01_scm_anatomy"]
{'dataset': 'passengers', 'n_train': 128}
>>> configuration_parameters({"datasets": ["passengers"], "n_train": [64], "seeds": [0]})["02_benchmark"]
{'low_resource_dataset': 'passengers', 'low_resource_n_train': []}
>>> configuration_parameters({"datasets": ["adult", "wdbc"], "n_train": [128], "seeds": [0]})["06_adult_low_resource"]
{'low_resource_dataset': 'adult'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ANATOMY_DEFAULT", "configuration_parameters", "declared_parameters", "low_resource_dataset"]

#: Notebook 01's default dataset (its parameters cell): kept for every configuration that has it.
ANATOMY_DEFAULT = "diabetes"


def low_resource_dataset(config: Mapping[str, Any]) -> str:
    """The dataset of the low-resource page: Adult when the configuration has it (the research
    question's), else its first dataset."""
    datasets = list(config.get("datasets") or [])
    return "adult" if "adult" in datasets else (datasets[0] if datasets else "adult")


def configuration_parameters(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per notebook stem, the parameters the configuration decides: the anatomy page's dataset (its
    first, at its largest training size up to 256, unless it has the page's default), and the
    low-resource dataset; a configuration
    without Adult gets no extra low-resource runs (its own grid is the low-resource study)."""
    datasets = list(config.get("datasets") or [])
    sizes = sorted(int(n) for n in config.get("n_train") or [128])
    anatomy = {} if ANATOMY_DEFAULT in datasets else {  # the page's own default where the study has it
        "dataset": datasets[0] if datasets else ANATOMY_DEFAULT, "n_train": max([n for n in sizes if n <= 256] or [sizes[0]])}
    low = low_resource_dataset(config)
    benchmark = {"low_resource_dataset": low}
    if low != "adult":
        benchmark["low_resource_n_train"] = []  # no extension runs on a dataset the study did not name
    return {"01_scm_anatomy": anatomy, "02_benchmark": benchmark, "06_adult_low_resource": {"low_resource_dataset": low}}


def declared_parameters(notebook: str | Path) -> set[str]:
    """The names a notebook's ``parameters`` cell assigns (papermill passes only these without a
    "Passed unknown parameter" warning)."""
    import ast

    nb = json.loads(Path(notebook).read_text())
    names: set[str] = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in (cell.get("metadata", {}).get("tags") or []):
            tree = ast.parse("".join(cell.get("source") or []))
            for node in ast.walk(tree):
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names
