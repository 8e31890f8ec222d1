"""What every generator shares: the table codec (schema, encoding, restoration) and the estimator
base class (scikit-learn parameters, declared parameter constraints, ``fit_resample``).

:class:`TableCodec` turns a training table into the *encoded space* generators work in and turns
synthetic encoded rows back into a table with the training schema:

- Column kinds: numeric (int/float, including nullable ints) and categorical (``category``,
  object, string or bool). Datetimes, timedeltas, periods, intervals and complex numbers are
  rejected with a clear error.
- Encoded space: numeric columns as float64, categorical columns as integer codes into the
  observed levels, the label as a code into ``classes_``. Missing values are imputed (median for
  numeric, most frequent level for categorical) before a generator sees the data; after sampling,
  each column gets missing values back independently at its observed missing rate (MCAR).
- Restoration: numeric columns are cast back to their dtype (integer columns, and float columns
  holding only whole numbers in the training rows, rounded and clipped to the observed range),
  categorical ones to their dtype with the original category set (unused categories included),
  the label to the dtype of ``y``.

>>> X = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["u", "v", "u", "u"]})
>>> codec = TableCodec().fit(X, pd.Series(["a", "b", "a", "b"]))
>>> Xe, ye = codec.encode(X, pd.Series(["a", "b", "a", "b"]))
>>> Xe.to_dict("list"), ye.tolist()
({'x': [1.0, 2.0, 2.0, 4.0], 'c': [0.0, 1.0, 0.0, 0.0]}, [0, 1, 0, 1])
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from causalmix.params import Interval, validate_params
from causalmix.seeds import stream_seed

__all__ = ["ColumnSpec", "Generator", "GeneratorFallbackWarning", "TableCodec", "as_rng"]

ColumnKind = Literal["numeric", "categorical"]

#: Version of the pickled state of a fitted generator; a fitted generator pickled under another
#: version refuses to unpickle (a run cache then refits it instead of sampling with stale state).
PICKLE_FORMAT = 2


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """What a fitted generator remembers about one input column, to restore it exactly."""

    name: str
    kind: ColumnKind
    dtype: Any
    levels: tuple  # categorical: observed non-missing values, in code order; numeric: ()
    missing_rate: float
    is_integer: bool = False
    low: float = math.nan
    high: float = math.nan


def _column_kind(name: str, s: pd.Series) -> ColumnKind:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numeric"
    raise TypeError(
        f"Column {name!r} has unsupported dtype {dtype}: generators take numeric (int/float) and "
        f"categorical (category/object/string/bool) columns. Convert it first, e.g. a datetime to "
        f"a numeric timestamp or to its components."
    )


def _sorted_levels(values: pd.Series) -> tuple:
    uniq = pd.unique(values.dropna())
    try:
        return tuple(sorted(uniq))
    except TypeError:  # mixed types in an object column
        return tuple(sorted(uniq, key=lambda v: (type(v).__name__, str(v))))


def as_rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from an int seed, a Generator (returned as is) or ``None`` (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise TypeError(f"random_state must be an int, a numpy Generator or None, got {random_state!r}.")
    return np.random.default_rng(random_state)


def validate_table(X: Any, y: Any) -> tuple[pd.DataFrame, pd.Series]:
    """Check a training table ``(X, y)`` for a generator; returns both with a fresh 0..n-1 index
    (``y`` as a Series named ``"target"`` when given as an array)."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}.")
    if X.shape[0] == 0:
        raise ValueError("X has no rows: a generator needs at least a few training rows.")
    if X.shape[1] == 0:
        raise ValueError("X has no columns: a generator needs at least one feature.")
    if X.columns.has_duplicates:
        dup = X.columns[X.columns.duplicated()].tolist()
        raise ValueError(f"X has duplicate column names {dup}; rename them.")
    if not all(isinstance(c, str) for c in X.columns):
        raise TypeError("X column names must be strings; rename them, e.g. X.columns = X.columns.astype(str).")
    if not isinstance(y, pd.Series):
        arr = np.asarray(y)
        if arr.ndim != 1:
            raise ValueError(f"y must be one-dimensional, got shape {arr.shape}.")
        y = pd.Series(arr, name="target")
    if len(y) != len(X):
        raise ValueError(f"X and y have different lengths ({len(X)} vs {len(y)}).")
    if y.isna().any():
        raise ValueError(f"y has {int(y.isna().sum())} missing labels; drop those rows first.")
    if y.nunique() < 2:
        raise ValueError(f"y has {y.nunique()} class(es); a classification generator needs at least 2.")
    if y.name is not None and y.name in X.columns:
        raise ValueError(f"The label name {y.name!r} is also a column of X; rename one of them.")
    for c in X.columns:
        _column_kind(c, X[c])
    _column_kind("y", y)
    return X.reset_index(drop=True), y.reset_index(drop=True)


class TableCodec:
    """The schema of a training table, and the encoding generators work in (module docstring).

    Fitted attributes: ``columns_`` (tuple of :class:`ColumnSpec`), ``feature_names_in_``,
    ``n_features_in_``, ``classes_`` (the labels seen, sorted), ``class_counts_``, ``y_dtype_``,
    ``y_name_``.
    """

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> TableCodec:
        """Validate ``(X, y)`` and learn their schema. Returns ``self``."""
        X, y = validate_table(X, y)
        specs = []
        for c in X.columns:
            s = X[c]
            kind = _column_kind(c, s)
            miss = float(s.isna().mean())
            if kind == "categorical":
                specs.append(ColumnSpec(c, kind, s.dtype, _sorted_levels(s), miss))
            else:
                vals = pd.to_numeric(s, errors="coerce").astype(float)
                finite = vals[np.isfinite(vals)]
                # whole-number columns (counts, codes, years) stored as float stay whole numbers
                is_int = pd.api.types.is_integer_dtype(s.dtype) or (
                    len(finite) > 0 and bool(np.all(finite == np.round(finite)))
                )
                lo, hi = (float(vals.min()), float(vals.max())) if vals.notna().any() else (math.nan, math.nan)
                specs.append(ColumnSpec(c, kind, s.dtype, (), miss, is_int, lo, hi))
        self.columns_ = tuple(specs)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        numeric_y = pd.api.types.is_numeric_dtype(y.dtype) and not isinstance(y.dtype, pd.CategoricalDtype)
        self.classes_ = np.asarray(_sorted_levels(y), dtype=None if numeric_y else object)
        self.y_dtype_ = y.dtype
        self.y_name_ = y.name
        self.class_counts_ = np.bincount(self.encode_y(y), minlength=len(self.classes_))
        return self

    @property
    def categorical(self) -> list[str]:
        """The categorical columns, in column order."""
        return [s.name for s in self.columns_ if s.kind == "categorical"]

    @property
    def numeric(self) -> list[str]:
        """The numeric columns, in column order."""
        return [s.name for s in self.columns_ if s.kind == "numeric"]

    def encode_y(self, y: pd.Series) -> np.ndarray:
        """Labels -> integer codes into ``classes_``."""
        lookup = {v: i for i, v in enumerate(self.classes_)}
        return np.asarray([lookup[v] for v in y], dtype=np.int64)

    def encode(self, X: pd.DataFrame, y: pd.Series | np.ndarray, *, impute: bool = True
               ) -> tuple[pd.DataFrame, np.ndarray]:
        """``(Xe, ye)``: the encoded frame (numeric float64, categorical float codes) with missing
        values imputed (``impute=False``: left NaN), and the label codes."""
        X, y = validate_table(X, y)
        out = {}
        for spec in self.columns_:
            s = X[spec.name]
            if spec.kind == "numeric":
                out[spec.name] = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
            else:
                lookup = {v: float(i) for i, v in enumerate(spec.levels)}
                vals = s.astype(object).to_numpy()
                out[spec.name] = np.array(
                    [np.nan if pd.isna(v) else lookup[v] for v in vals], dtype="float64"
                )
        Xe = pd.DataFrame(out, columns=list(self.feature_names_in_))
        return (self.impute(Xe) if impute else Xe), self.encode_y(y)

    def impute(self, Xe: pd.DataFrame) -> pd.DataFrame:
        """Median (numeric) / most frequent code (categorical); all-missing columns become 0."""
        Xe = Xe.copy()
        for spec in self.columns_:
            col = Xe[spec.name]
            if not col.isna().any():
                continue
            if col.notna().any():
                fill = col.median() if spec.kind == "numeric" else col.mode().iloc[0]
            else:
                fill = 0.0
            Xe[spec.name] = col.fillna(fill)
        return Xe

    def empty(self) -> tuple[pd.DataFrame, pd.Series]:
        """Zero rows with the fitted schema."""
        Xe = pd.DataFrame({c: np.zeros(0) for c in self.feature_names_in_})
        return self.decode(Xe, np.zeros(0, dtype=np.int64), np.random.default_rng(0))

    def decode(self, Xe: pd.DataFrame, ye: np.ndarray, random_state: int | np.random.Generator | None
               ) -> tuple[pd.DataFrame, pd.Series]:
        """Encoded rows -> ``(X, y)`` with the fitted schema; missing values re-inserted at each
        column's observed rate, drawn from ``random_state``."""
        rng = as_rng(random_state)
        n = len(Xe)
        cols = {}
        for spec in self.columns_:
            v = np.asarray(Xe[spec.name], dtype=float)
            missing = rng.random(n) < spec.missing_rate if spec.missing_rate > 0 else np.zeros(n, bool)
            if spec.kind == "numeric":
                if spec.is_integer and n:
                    v = np.clip(np.round(v), spec.low, spec.high)
                v = v.copy()
                v[missing] = np.nan
                s = pd.Series(v)
                if pd.api.types.is_integer_dtype(spec.dtype) and not missing.any():
                    s = s.astype(spec.dtype)
                elif pd.api.types.is_integer_dtype(spec.dtype) and isinstance(spec.dtype, np.dtype):
                    s = s.astype("float64")  # numpy ints cannot hold NaN (only when fit data had none)
                else:
                    s = s.astype(spec.dtype)
            else:
                if spec.levels:
                    codes = np.clip(np.round(np.nan_to_num(v)), 0, len(spec.levels) - 1).astype(int)
                    levels = np.empty(len(spec.levels), dtype=object)
                    levels[:] = list(spec.levels)
                    vals = levels[codes]
                else:
                    vals = np.full(n, np.nan, dtype=object)
                    missing = np.ones(n, bool)
                vals = vals.astype(object)
                vals[missing] = np.nan
                if isinstance(spec.dtype, pd.CategoricalDtype):
                    s = pd.Series(pd.Categorical(vals, dtype=spec.dtype))
                elif pd.api.types.is_bool_dtype(spec.dtype):
                    s = pd.Series(vals).astype(spec.dtype)
                else:
                    s = pd.Series(vals, dtype=spec.dtype)
            cols[spec.name] = s
        X_syn = pd.DataFrame(cols, columns=list(self.feature_names_in_))
        labels = np.asarray(self.classes_)[np.asarray(ye, dtype=np.int64)] if n else self.classes_[:0]
        if isinstance(self.y_dtype_, pd.CategoricalDtype):
            y_syn = pd.Series(pd.Categorical(labels, dtype=self.y_dtype_), name=self.y_name_)
        else:
            y_syn = pd.Series(labels, name=self.y_name_).astype(self.y_dtype_)
        return X_syn, y_syn


class GeneratorFallbackWarning(UserWarning):
    """A generator used a documented fallback (also listed in its ``fallbacks_``)."""


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}.")
    return int(n)


class Generator(BaseEstimator):
    """Base class: a scikit-learn estimator and imbalanced-learn sampler of synthetic rows.

    ``__init__`` (keyword-only, in subclasses) only stores parameters; ``get_params(deep)``,
    ``set_params`` and :func:`sklearn.base.clone` work as for any scikit-learn estimator. The
    parameters' accepted values are data (``parameter_constraints``), checked by
    :meth:`check_params` and at the start of :meth:`fit`. ``fit(X, y)`` returns ``self``;
    ``sample(n, random_state)`` draws ``n`` rows; ``fit_resample(X, y)`` returns the real rows
    followed by synthetic ones, so a generator is a step of an ``imblearn.pipeline.Pipeline``.

    Subclasses implement ``_fit(Xe, ye)`` and ``_sample(n, rng) -> (Xe_syn, ye_syn)`` in the
    encoded space of :class:`TableCodec`. Fitted attributes: ``codec_`` (the :class:`TableCodec`)
    and, from it, ``feature_names_in_``, ``n_features_in_``, ``classes_``, ``class_counts_``,
    ``columns_``.
    """

    #: registry name; set on subclasses
    name: ClassVar[str] = ""
    #: parameter -> accepted values (see :mod:`causalmix.params`); extended by subclasses
    parameter_constraints: ClassVar[dict[str, list]] = {
        "resample_ratio": [Interval("real", 0, None)],
        "random_state": [Interval("int", 0, None), None],
    }

    # -- public protocol -------------------------------------------------------------------
    def check_params(self) -> Generator:
        """Raise a ``ValueError`` naming the first parameter whose value is not accepted (nothing
        is fitted or drawn: a sweep can check its generators before running). Returns ``self``."""
        validate_params(self.parameter_constraints, self.get_params(deep=False), type(self).__name__)
        self._check_params_together()
        return self

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> Generator:
        """Check the parameters, validate ``X``/``y``, remember their schema, then learn the
        generator. Returns ``self``."""
        self.check_params()
        codec = TableCodec().fit(X, y)
        self.codec_ = codec
        self.columns_, self.classes_, self.class_counts_ = codec.columns_, codec.classes_, codec.class_counts_
        self.feature_names_in_, self.n_features_in_ = codec.feature_names_in_, codec.n_features_in_
        Xe, ye = codec.encode(X, y)
        self._fit(Xe, ye)
        return self

    def sample(
        self, n: int, random_state: int | np.random.Generator | None = None
    ) -> tuple[pd.DataFrame, pd.Series]:
        """Draw ``n`` synthetic rows ``(X_syn, y_syn)`` with the fitted schema.

        The same int ``random_state`` gives identical rows; ``None`` uses fresh entropy.
        """
        if not hasattr(self, "codec_"):
            raise RuntimeError(f"This {type(self).__name__} is not fitted yet: call fit(X, y) first.")
        n = _check_n(n)
        rng = as_rng(random_state)
        if n == 0:
            return self.codec_.empty()
        Xe, ye = self._sample(n, rng)
        return self._decode(Xe, np.asarray(ye), rng)

    def fit_resample(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> tuple[pd.DataFrame, Any]:
        """Fit on ``(X, y)``, then return the real rows followed by ``round(resample_ratio * len(X))``
        synthetic ones (imbalanced-learn's sampler contract; ``y`` comes back as the type it was
        given). The synthetic rows are drawn from the ``synthetic`` stream of ``random_state``
        (:mod:`causalmix.seeds`), so the draw never repeats the fit's random numbers.

        >>> X_res, y_res = make_generator("mixup").fit_resample(X, y)   # doctest: +SKIP
        >>> len(X_res) == 2 * len(X)                                   # doctest: +SKIP
        True
        """
        self.fit(X, y)
        params = self.get_params(deep=False)
        seed = params.get("random_state", 0)
        n = int(round(params.get("resample_ratio", 1.0) * len(X)))
        X_syn, y_syn = self.sample(n, random_state=None if seed is None else stream_seed(seed, "synthetic"))
        X_res = pd.concat([X.reset_index(drop=True), X_syn], ignore_index=True)
        if isinstance(y, pd.Series):
            return X_res, pd.concat([y.reset_index(drop=True), y_syn.rename(y.name)], ignore_index=True)
        return X_res, np.concatenate([np.asarray(y), y_syn.to_numpy(dtype=np.asarray(y).dtype)])

    def __repr__(self) -> str:
        params = self.get_params(deep=False)
        order = [p for p in inspect.signature(type(self).__init__).parameters if p in params]
        return f"{type(self).__name__}({', '.join(f'{k}={params[k]!r}' for k in order)})"

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "_pickle_format": PICKLE_FORMAT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "columns_" in state and state.get("_pickle_format") != PICKLE_FORMAT:
            raise ValueError(f"This fitted {type(self).__name__} was pickled by another causalmix version "
                             f"(pickle format {state.get('_pickle_format', 1)}, now {PICKLE_FORMAT}); refit it.")
        state = dict(state)
        state.pop("_pickle_format", None)
        super().__setstate__(state)

    # -- to implement ----------------------------------------------------------------------
    def _check_params_together(self) -> None:
        """Rules that involve several parameters (raise ``ValueError``); none by default."""

    def _fit(self, Xe: pd.DataFrame, ye: np.ndarray) -> None:
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        raise NotImplementedError

    # -- shared helpers --------------------------------------------------------------------
    def _decode(self, Xe: pd.DataFrame, ye: np.ndarray, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
        return self.codec_.decode(Xe, ye, rng)

    @property
    def _categorical(self) -> list[str]:
        return self.codec_.categorical

    @property
    def _numeric(self) -> list[str]:
        return self.codec_.numeric
