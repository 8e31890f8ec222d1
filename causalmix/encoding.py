"""Encoding: DataFrames -> the float arrays tabpfn takes, identically for real and synthetic rows.

:class:`Encoder` fixes the column order, the categorical levels and the classes of a training
frame once, then encodes every other frame (synthetic, validation, test) the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Encoder"]


@dataclasses.dataclass(frozen=True)
class Encoder:
    """Column order, categorical levels (from the training frame) and classes, fixed once.

    Categorical columns become float codes into the training frame's levels (unseen or missing
    values: NaN), so real, synthetic, validation and test rows are encoded identically. Labels
    become int64 codes into the sorted training classes; unknown labels and other columns are
    refused with a message naming them.

    >>> X = pd.DataFrame({"age": [31.0, 45.0, 27.0], "city": ["Oslo", "Rome", "Oslo"]})
    >>> enc = Encoder.fit(X, pd.Series(["no", "yes", "no"]))
    >>> enc.columns, enc.levels, enc.categorical_indices
    (('age', 'city'), {'city': ('Oslo', 'Rome')}, [1])
    >>> enc.X(pd.DataFrame({"age": [50.0, None], "city": ["Rome", None]}), "X_test").tolist()
    [[50.0, 1.0], [nan, nan]]
    >>> enc.y(["yes", "no"], "y_test").tolist()
    [1, 0]
    """

    columns: tuple[str, ...]
    levels: dict[str, tuple]  # categorical column -> levels, in code order
    classes: np.ndarray

    @classmethod
    def fit(cls, X: pd.DataFrame, y: pd.Series) -> Encoder:
        """The encoder of a training frame: its columns, the levels of its categorical (or
        non-numeric, or boolean) columns, and the sorted classes of ``y``."""
        levels = {}
        for c in X.columns:
            s = X[c]
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels[c] = tuple(s.cat.categories)
            elif not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
                levels[c] = tuple(sorted(pd.unique(s.dropna()), key=lambda v: (type(v).__name__, str(v))))
        return cls(tuple(X.columns), levels, np.unique(np.asarray(y)))

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical columns (what tabpfn's ``categorical_features_indices`` takes)."""
        return [i for i, c in enumerate(self.columns) if c in self.levels]

    def X(self, X: pd.DataFrame, what: str) -> np.ndarray:
        """``X`` (the training columns, in order) as float32; ``what`` names it in errors."""
        if list(X.columns) != list(self.columns):
            missing = sorted(set(self.columns) - set(X.columns))
            extra = sorted(set(X.columns) - set(self.columns))
            raise ValueError(
                f"{what} must have the training columns in the training order; "
                f"missing {missing}, unexpected {extra}. Select them with X[train_columns]."
            )
        out = np.empty((len(X), len(self.columns)), dtype=np.float32)
        for j, c in enumerate(self.columns):
            s = X[c]
            if c in self.levels:
                codes = pd.Categorical(s.astype(object), categories=list(self.levels[c])).codes
                out[:, j] = np.where(codes >= 0, codes, np.nan)
            else:
                try:
                    out[:, j] = pd.to_numeric(s, errors="raise").astype("float64").to_numpy()
                except (TypeError, ValueError) as err:
                    raise ValueError(f"{what}: column {c!r} is numeric in training but holds non-numbers ({err}).") from None
        return out

    def y(self, y: Any, what: str) -> np.ndarray:
        """Labels as int64 codes into :attr:`classes`; ``what`` names them in errors."""
        y = np.asarray(y)
        codes = np.searchsorted(self.classes, y)
        codes = np.clip(codes, 0, len(self.classes) - 1)
        unknown = self.classes[codes] != y
        if unknown.any():
            raise ValueError(
                f"{what} holds labels {sorted(map(str, set(y[unknown])))} that are not among the "
                f"training classes {list(self.classes)}."
            )
        return codes.astype(np.int64)


def as_frame(X: Any, what: str) -> pd.DataFrame:
    """``X`` as a DataFrame with a fresh index (an array gets columns ``x0, x1, ...``); ``what`` names it in
    the error for anything that is not rows x features."""
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True)
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-dimensional (rows x features), got shape {arr.shape}.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
