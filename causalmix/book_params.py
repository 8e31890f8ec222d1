"""The book's notebook parameters that follow from a study's YAML (the anatomy page's split, the
low-resource page's dataset), and the parameters a notebook declares (so none is passed that it does
not take). :func:`causalmix.reproduce.parameters_for` applies both.

>>> configuration_parameters({"datasets": ["passengers"], "n_train": [64, 128], "seeds": [0, 1, 2]})["01_scm_anatomy"]
{'dataset': 'passengers', 'n_train': 128}
>>> configuration_parameters({"datasets": ["adult"], "anatomy": {"dataset": "diabetes", "n_synthetic": 300}})["01_scm_anatomy"]
{'dataset': 'diabetes', 'n_synthetic': 300}
>>> configuration_parameters({"datasets": ["adult", "wdbc"], "extension": {"dataset": "wdbc", "n_train": [32]}})["06_adult_low_resource"]
{'low_resource_dataset': 'wdbc'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ANATOMY_DEFAULT", "configuration_parameters", "declared_parameters", "low_resource_dataset"]

#: The anatomy page's dataset for a study without datasets.
ANATOMY_DEFAULT = "diabetes"


def low_resource_dataset(config: Mapping[str, Any]) -> str:
    """The dataset of the low-resource page: the extension's, else Adult when the study has it (the
    research question's), else its first dataset."""
    extension = config.get("extension") or {}
    datasets = list(config.get("datasets") or [])
    return extension.get("dataset") or ("adult" if "adult" in datasets else (datasets[0] if datasets else "adult"))


def configuration_parameters(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per notebook stem, the parameters the study's YAML decides: the anatomy page's split (its
    ``anatomy`` block; without one, the study's first dataset at its largest training size up to
    256) and the low-resource page's dataset."""
    datasets = list(config.get("datasets") or [])
    sizes = sorted(int(n) for n in config.get("n_train") or [128])
    anatomy = dict(config.get("anatomy") or {}) or {
        "dataset": datasets[0] if datasets else ANATOMY_DEFAULT, "n_train": max([n for n in sizes if n <= 256] or [sizes[0]])}
    return {"01_scm_anatomy": anatomy, "06_adult_low_resource": {"low_resource_dataset": low_resource_dataset(config)}}


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
