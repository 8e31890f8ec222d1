"""Held-out datasets for checking a model on tables that no decision here was tuned on.

Every recipe and model choice was made on the 17 shared datasets. This writes five classification
tables that ship inside installed packages (so they are available offline) into a data folder that
``CAUSALMIX_DATA_DIR`` can point at:

- ``iris``, ``wine``, ``digits`` (scikit-learn's bundled copies; 3, 3 and 10 classes; digits has 64
  pixel columns);
- ``affairs`` (statsmodels ``fair``: 6,366 survey answers; label: any extramarital affair, i.e.
  ``affairs > 0``, the usual binary reading of this data);
- ``anes96`` (statsmodels: 944 voters of the 1996 American National Election Study; label: the vote,
  Dole vs Clinton; ``logpopul`` dropped as a copy of ``popul``).

    python benchmarks/heldout_data.py runs/heldout-data
    CAUSALMIX_DATA_DIR=runs/heldout-data python benchmarks/tiny_model.py --model causalmix-wide \\
        --datasets iris wine digits affairs anes96 --name heldout
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from causalmix.data import add_dataset  # noqa: E402


def tables() -> dict[str, pd.DataFrame]:
    """Each held-out table with its label in the column ``label``."""
    import statsmodels.api as sm
    from sklearn import datasets

    out = {}
    for name, load in [("iris", datasets.load_iris), ("wine", datasets.load_wine), ("digits", datasets.load_digits)]:
        X, y = load(return_X_y=True, as_frame=True)
        out[name] = X.assign(label=y.astype(str))
    fair = sm.datasets.fair.load_pandas().data
    affair = (fair["affairs"] > 0).map({True: "yes", False: "no"})
    out["affairs"] = fair.drop(columns="affairs").assign(label=affair)
    anes = sm.datasets.anes96.load_pandas().data
    vote = anes["vote"].map({0.0: "clinton", 1.0: "dole"})
    out["anes96"] = anes.drop(columns=["vote", "logpopul"]).assign(label=vote)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder to write the datasets and their manifest.json into")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in tables().items():
            path = Path(tmp) / f"{name}.csv"
            frame.to_csv(path, index=False)
            ds = add_dataset(path, target="label", data_dir=args.data_dir, name=name)
            print(f"{name}: {len(ds.y)} rows, {ds.X.shape[1]} features, {len(ds.classes)} classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
