"""Generators of extra training rows, all behind one protocol, and the registry that names them.

Every generator follows scikit-learn conventions: the keyword-only ``__init__`` stores parameters,
``fit(X, y)`` validates the data, learns, and returns ``self``; ``sample(n, random_state)`` returns
``(X_syn, y_syn)`` where ``X_syn`` has exactly the columns, order, dtypes and category sets of the
fitted ``X`` and ``y_syn`` has the dtype of ``y`` with values among the fitted classes ``classes_``.

>>> gen = make_generator("smote").fit(X_train, y_train)        # doctest: +SKIP
>>> X_syn, y_syn = gen.sample(256, random_state=0)             # doctest: +SKIP

Shared behaviour (implemented once, in :class:`Generator`):

- Column kinds: numeric (int/float, including nullable ints) and categorical (``category``,
  object, string or bool). Datetimes, timedeltas, periods, intervals and complex numbers are
  rejected with a clear error.
- Generators work in an *encoded space*: numeric columns as float64, categorical columns as
  integer codes into the observed levels, the label as a code into ``classes_``. Missing values are
  imputed (median for numeric, most frequent level for categorical) before a generator sees the
  data; after sampling, each column gets missing values back independently at its observed
  missing rate (MCAR), so synthetic rows show the real missingness pattern column by column.
- Restoration: numeric columns are cast back to their dtype (integer columns, and float columns
  holding only whole numbers in the training rows, rounded and clipped to the observed range), categorical ones to their dtype with the original category set (unused
  categories included), the label to the dtype of ``y``.
- ``sample(n, random_state)``: ``random_state`` is an int (same int -> identical rows) or ``None``
  (fresh entropy). ``n == 0`` returns zero rows with the right schema.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from causalmix.data import allocate

__all__ = [
    "GENERATORS",
    "CTGANGenerator",
    "GaussianCopulaGenerator",
    "Generator",
    "GeneratorFallbackWarning",
    "MixupGenerator",
    "NoneGenerator",
    "SMOTEGenerator",
    "TableAugmentGenerator",
    "make_generator",
]

ColumnKind = Literal["numeric", "categorical"]


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


def _as_rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise TypeError(f"random_state must be an int, a numpy Generator or None, got {random_state!r}.")
    return np.random.default_rng(random_state)


class GeneratorFallbackWarning(UserWarning):
    """A generator used a documented fallback (also listed in its ``fallbacks_``)."""


class Generator:
    """Base class: validation, encoding and dtype restoration shared by every generator.

    Subclasses implement ``_fit(Xe, ye)`` and ``_sample(n, rng) -> (Xe_syn, ye_syn)``, where ``Xe``
    is the imputed encoded frame (numeric float64, categorical integer codes, see the module
    docstring) and ``ye`` the integer label codes into ``classes_``.

    Fitted attributes: ``feature_names_in_``, ``n_features_in_``, ``classes_`` (numpy array of the
    labels seen in fit, sorted), ``columns_`` (tuple of :class:`ColumnSpec`).
    """

    #: registry name; set on subclasses
    name: str = ""

    # -- public protocol -------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> Generator:
        """Validate ``X``/``y``, remember their schema, then learn the generator. Returns ``self``."""
        X, y = self._validate_fit_input(X, y)
        self._learn_schema(X, y)
        Xe, ye = self._encode(X, y)
        self._fit(self._impute(Xe), ye)
        return self

    def sample(
        self, n: int, random_state: int | np.random.Generator | None = None
    ) -> tuple[pd.DataFrame, pd.Series]:
        """Draw ``n`` synthetic rows ``(X_syn, y_syn)`` with the fitted schema.

        The same int ``random_state`` gives identical rows; ``None`` uses fresh entropy.
        """
        if not hasattr(self, "columns_"):
            raise RuntimeError(f"This {type(self).__name__} is not fitted yet: call fit(X, y) first.")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}.")
        n = int(n)
        rng = _as_rng(random_state)
        if n == 0:
            return self._empty()
        Xe, ye = self._sample(n, rng)
        return self._decode(Xe, np.asarray(ye), rng)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (scikit-learn style)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    # -- to implement ----------------------------------------------------------------------
    def _fit(self, Xe: pd.DataFrame, ye: np.ndarray) -> None:
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        raise NotImplementedError

    # -- shared helpers --------------------------------------------------------------------
    @staticmethod
    def _validate_fit_input(X: Any, y: Any) -> tuple[pd.DataFrame, pd.Series]:
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

    def _learn_schema(self, X: pd.DataFrame, y: pd.Series) -> None:
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
        self._y_dtype = y.dtype
        self._y_name = y.name
        self.class_counts_ = np.bincount(self._encode_y(y), minlength=len(self.classes_))

    def _encode_y(self, y: pd.Series) -> np.ndarray:
        lookup = {v: i for i, v in enumerate(self.classes_)}
        return np.asarray([lookup[v] for v in y], dtype=np.int64)

    def _encode(self, X: pd.DataFrame, y: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
        """Encoded frame (numeric float64, categorical float codes with NaN for missing)."""
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
        return pd.DataFrame(out, columns=list(self.feature_names_in_)), self._encode_y(y)

    def _impute(self, Xe: pd.DataFrame) -> pd.DataFrame:
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

    def _empty(self) -> tuple[pd.DataFrame, pd.Series]:
        Xe = pd.DataFrame({c: np.zeros(0) for c in self.feature_names_in_})
        return self._decode(Xe, np.zeros(0, dtype=np.int64), np.random.default_rng(0))

    def _decode(
        self, Xe: pd.DataFrame, ye: np.ndarray, rng: np.random.Generator
    ) -> tuple[pd.DataFrame, pd.Series]:
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
        if isinstance(self._y_dtype, pd.CategoricalDtype):
            y_syn = pd.Series(pd.Categorical(labels, dtype=self._y_dtype), name=self._y_name)
        else:
            y_syn = pd.Series(labels, name=self._y_name).astype(self._y_dtype)
        return X_syn, y_syn

    # categorical / numeric column names, for subclasses
    @property
    def _categorical(self) -> list[str]:
        return [s.name for s in self.columns_ if s.kind == "categorical"]

    @property
    def _numeric(self) -> list[str]:
        return [s.name for s in self.columns_ if s.kind == "numeric"]


# ------------------------------------------------------------------------------------------
class NoneGenerator(Generator):
    """No augmentation: ``sample(n)`` returns zero rows with the fitted schema, whatever ``n``.

    >>> X_syn, y_syn = NoneGenerator().fit(X, y).sample(100)   # doctest: +SKIP
    >>> len(X_syn)                                              # doctest: +SKIP
    0
    """

    name = "none"

    def __init__(self) -> None:
        pass

    def _fit(self, Xe, ye):
        pass

    def sample(self, n, random_state=None):
        super().sample(0, random_state)  # validates fitted state
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}.")
        return self._empty()


class SMOTEGenerator(Generator):
    """SMOTE (imbalanced-learn) as a row generator: SMOTE on numeric-only data, SMOTENC with mixed
    columns, SMOTEN with categorical-only columns.

    ``sample(n)`` returns exactly ``n`` synthetic rows. How many of each class: ``class_balance``
    ``"proportional"`` (default) splits ``n`` in proportion to the real class counts, so mixing the
    rows with the real ones keeps the class prior the model sees in its context; ``"balanced"``
    splits ``n`` evenly over the classes (classic SMOTE oversampling of minorities). SMOTE then
    draws that many interpolated rows per class (``sampling_strategy={class: count + n_class}``).

    ``k_neighbors`` (default 5, imbalanced-learn's default) is lowered to ``smallest class - 1`` for
    tiny classes; a class with a single row cannot be interpolated, so its synthetic rows are
    copies of that row (recorded in ``fallbacks_``).
    """

    name = "smote"

    def __init__(self, *, k_neighbors: int = 5, class_balance: Literal["proportional", "balanced"] = "proportional"):
        self.k_neighbors = k_neighbors
        self.class_balance = class_balance

    def _fit(self, Xe, ye):
        if self.class_balance not in ("proportional", "balanced"):
            raise ValueError(f"class_balance must be 'proportional' or 'balanced', got {self.class_balance!r}.")
        if not isinstance(self.k_neighbors, (int, np.integer)) or self.k_neighbors < 1:
            raise ValueError(f"k_neighbors must be a positive int, got {self.k_neighbors!r}.")
        self._Xe = Xe
        self._ye = ye
        fallbacks = [f"class {self.classes_[c]!r} has a single row: its synthetic rows are copies of it"
                     for c in np.flatnonzero(self.class_counts_ == 1)]
        multi = self.class_counts_[self.class_counts_ > 1]
        if len(multi) and multi.min() - 1 < self.k_neighbors:
            fallbacks.append(f"k_neighbors lowered from {self.k_neighbors} to {int(multi.min()) - 1}: "
                             f"the smallest class has {int(multi.min())} rows")
        self.fallbacks_ = tuple(fallbacks)
        for message in fallbacks:
            warnings.warn(f"SMOTE: {message}", GeneratorFallbackWarning, stacklevel=4)

    def _sample(self, n, rng):
        from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

        weights = self.class_counts_ if self.class_balance == "proportional" else np.ones(len(self.classes_))
        per_class = allocate(n, weights)
        seed = int(rng.integers(2**31 - 1))
        cat_idx = [i for i, s in enumerate(self.columns_) if s.kind == "categorical"]
        smote_classes = [c for c in range(len(self.classes_)) if per_class[c] > 0 and self.class_counts_[c] > 1]
        parts_X, parts_y = [], []
        if smote_classes:
            k = int(min(self.k_neighbors, min(self.class_counts_[c] for c in smote_classes) - 1))
            strategy = {c: int(self.class_counts_[c] + per_class[c]) for c in smote_classes}
            X_in = self._Xe.to_numpy()
            if len(cat_idx) == len(self.columns_):
                sampler = SMOTEN(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
                X_in = X_in.astype(np.int64)
            elif cat_idx:
                sampler = SMOTENC(
                    categorical_features=cat_idx, sampling_strategy=strategy, k_neighbors=k, random_state=seed
                )
            else:
                sampler = SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
            X_res, y_res = sampler.fit_resample(X_in, self._ye)
            parts_X.append(np.asarray(X_res[len(X_in):], dtype=float))
            parts_y.append(np.asarray(y_res[len(X_in):]))
        for c in range(len(self.classes_)):
            if per_class[c] > 0 and self.class_counts_[c] == 1:
                row = self._Xe.to_numpy()[self._ye == c]
                parts_X.append(np.repeat(row, per_class[c], axis=0).astype(float))
                parts_y.append(np.full(per_class[c], c))
        X_syn = np.concatenate(parts_X)
        y_syn = np.concatenate(parts_y)
        perm = rng.permutation(len(y_syn))
        return pd.DataFrame(X_syn[perm], columns=self._Xe.columns), y_syn[perm]


class MixupGenerator(Generator):
    """Mixup for tables: convex combinations ``lam * x_i + (1 - lam) * x_j`` of two random real rows,
    ``lam ~ Beta(alpha, alpha)``.

    Numeric columns are mixed; categorical values *and the label* are taken from the dominant row
    (``x_i`` if ``lam >= 0.5``, else ``x_j``), so every synthetic row has a hard label among the
    fitted classes (a hard-label variant: the fine-tuning loss takes class labels, not soft
    targets). ``alpha`` default 0.2, the value Zhang et al. (2018) recommend, keeps most rows close
    to one real row. ``within_class`` (default False) pairs only rows of the same class.
    """

    name = "mixup"

    def __init__(self, *, alpha: float = 0.2, within_class: bool = False):
        self.alpha = alpha
        self.within_class = within_class

    def _fit(self, Xe, ye):
        if not (isinstance(self.alpha, (int, float)) and self.alpha > 0):
            raise ValueError(f"alpha must be a positive number, got {self.alpha!r}.")
        self._Xe = Xe.to_numpy(dtype=float)
        self._ye = ye
        self._num_mask = np.array([s.kind == "numeric" for s in self.columns_])

    def _sample(self, n, rng):
        m = len(self._ye)
        i = rng.integers(m, size=n)
        if self.within_class:
            j = np.empty(n, dtype=np.int64)
            for c in np.unique(self._ye[i]):
                rows = np.flatnonzero(self._ye == c)
                sel = self._ye[i] == c
                j[sel] = rows[rng.integers(len(rows), size=sel.sum())]
        else:
            j = rng.integers(m, size=n)
        lam = rng.beta(self.alpha, self.alpha, size=n)
        dominant = np.where(lam >= 0.5, i, j)
        X = self._Xe[dominant].copy()
        X[:, self._num_mask] = (
            lam[:, None] * self._Xe[i][:, self._num_mask] + (1 - lam[:, None]) * self._Xe[j][:, self._num_mask]
        )
        return pd.DataFrame(X, columns=list(self.feature_names_in_)), self._ye[dominant]


class TableAugmentGenerator(Generator):
    """TableAugment: bootstrap real rows, then mask random features.

    Each synthetic row is a real row drawn with replacement (label kept); each of its feature values
    is masked independently with probability ``mask_prob`` (default 0.1, a light corruption that
    keeps rows realistic). A masked value is replaced by the column's value in another random real
    row (``mask_value="marginal"``, default: the column keeps its marginal distribution and no new
    missing values appear) or set missing (``"nan"``; TabPFN handles missing values natively; numpy
    integer and bool columns then come back as float / object, the dtypes that can hold NaN).
    """

    name = "tableaugment"

    def __init__(self, *, mask_prob: float = 0.1, mask_value: Literal["marginal", "nan"] = "marginal"):
        self.mask_prob = mask_prob
        self.mask_value = mask_value

    def _fit(self, Xe, ye):
        if not (0 <= self.mask_prob <= 1):
            raise ValueError(f"mask_prob must be in [0, 1], got {self.mask_prob!r}.")
        if self.mask_value not in ("marginal", "nan"):
            raise ValueError(f"mask_value must be 'marginal' or 'nan', got {self.mask_value!r}.")
        self._Xe = Xe.to_numpy(dtype=float)
        self._ye = ye

    def _sample(self, n, rng):
        m, d = self._Xe.shape
        rows = rng.integers(m, size=n)
        X = self._Xe[rows].copy()
        mask = rng.random((n, d)) < self.mask_prob
        if self.mask_value == "marginal":
            donors = rng.integers(m, size=(n, d))
            X[mask] = self._Xe[donors, np.arange(d)[None, :].repeat(n, 0)][mask]
        else:
            X[mask] = np.nan
        return pd.DataFrame(X, columns=list(self.feature_names_in_)), self._ye[rows]

    def _decode(self, Xe, ye, rng):
        if self.mask_value != "nan":
            return super()._decode(Xe, ye, rng)
        # keep masked cells missing through the categorical decoding
        masked = Xe.isna()
        X_syn, y_syn = super()._decode(Xe.fillna(0.0), ye, rng)
        for c in X_syn.columns:
            if masked[c].any():
                if pd.api.types.is_integer_dtype(X_syn[c].dtype) and isinstance(X_syn[c].dtype, np.dtype):
                    X_syn[c] = X_syn[c].astype("float64")
                elif pd.api.types.is_bool_dtype(X_syn[c].dtype):
                    X_syn[c] = X_syn[c].astype(object)
                X_syn.loc[masked[c].to_numpy(), c] = np.nan
        return X_syn, y_syn


class GaussianCopulaGenerator(Generator):
    """Gaussian copula over all columns and the label (no extra dependency).

    Each column is mapped to normal scores: numeric columns through their ranks
    (``Phi^-1(rank / (n + 1))``), categorical columns and the label through frequency intervals
    (each level owns a slice of [0, 1] as wide as its frequency; a value maps to a uniform point in
    its slice, drawn with ``random_state``). The scores' correlation matrix (plus ``shrinkage`` times
    the identity, default 1e-3, to keep it positive definite with constant or duplicate columns)
    defines a multivariate normal; samples go back through the empirical quantile functions
    (numeric, interpolated between observed values) and the slices (categorical, label).
    """

    name = "gaussian_copula"

    def __init__(self, *, shrinkage: float = 1e-3, random_state: int | None = 0):
        self.shrinkage = shrinkage
        self.random_state = random_state

    def _fit(self, Xe, ye):
        from scipy.stats import norm, rankdata

        rng = _as_rng(self.random_state)
        cols = [(s.kind, Xe[s.name].to_numpy(dtype=float)) for s in self.columns_]
        cols.append(("categorical", ye.astype(float)))
        m = len(ye)
        scores, self._margins = [], []
        for kind, v in cols:
            if kind == "numeric":
                u = rankdata(v) / (m + 1)
                self._margins.append(("numeric", np.sort(v)))
            else:
                codes = v.astype(int)
                k = int(codes.max()) + 1
                freq = np.bincount(codes, minlength=k) / m
                edges = np.concatenate([[0.0], np.cumsum(freq)])
                u = edges[codes] + rng.random(m) * freq[codes]
                u = np.clip(u, 1e-6, 1 - 1e-6)
                self._margins.append(("categorical", edges))
            scores.append(norm.ppf(u))
        Z = np.column_stack(scores)
        corr = np.corrcoef(Z, rowvar=False) if m > 1 else np.eye(Z.shape[1])
        corr = np.nan_to_num(corr, nan=0.0)
        np.fill_diagonal(corr, 1.0)
        corr = (corr + self.shrinkage * np.eye(len(corr))) / (1 + self.shrinkage)
        self.correlation_ = corr

    def _sample(self, n, rng):
        from scipy.stats import norm

        d = self.correlation_.shape[0]
        L = np.linalg.cholesky(self.correlation_)
        U = norm.cdf(rng.standard_normal((n, d)) @ L.T)
        out = []
        for (kind, ref), u in zip(self._margins, U.T):
            if kind == "numeric":
                out.append(np.quantile(ref, u))
            else:
                out.append(np.clip(np.searchsorted(ref, u, side="right") - 1, 0, len(ref) - 2).astype(float))
        X = np.column_stack(out[:-1])
        return pd.DataFrame(X, columns=list(self.feature_names_in_)), out[-1].astype(np.int64)


class CTGANGenerator(Generator):
    """CTGAN (Xu et al., 2019) through the optional ``ctgan`` package: ``pip install 'causalmix[ctgan]'``.

    The label is modelled as one more discrete column. ``epochs`` default 300 (the package default);
    ``random_state`` seeds training. Without the package, ``fit`` raises an ImportError saying how
    to install it.
    """

    name = "ctgan"

    def __init__(self, *, epochs: int = 300, batch_size: int = 500, random_state: int | None = 0, **ctgan_kwargs):
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.ctgan_kwargs = ctgan_kwargs

    def get_params(self):
        return {"epochs": self.epochs, "batch_size": self.batch_size, "random_state": self.random_state,
                **self.ctgan_kwargs}

    def fit(self, X, y):
        try:
            import ctgan  # noqa: F401
        except ImportError as err:
            raise ImportError(
                "The 'ctgan' generator needs the optional ctgan package, which is not installed. "
                "Install it with: pip install 'causalmix[ctgan]' (note: ctgan requires pandas < 3). "
                "Or pick another generator: " + ", ".join(n for n in GENERATORS if n != "ctgan")
            ) from err
        return super().fit(X, y)

    def _fit(self, Xe, ye):
        import torch
        from ctgan import CTGAN

        self._label_col = "__label__"
        df = Xe.copy()
        for c in self._categorical:
            df[c] = df[c].astype(int).astype(str)
        df[self._label_col] = ye.astype(str)
        discrete = self._categorical + [self._label_col]
        if self.random_state is not None:
            torch.manual_seed(self.random_state)
            np.random.seed(self.random_state)
        batch = max(10, min(self.batch_size, len(df) // 10 * 10))
        self._model = CTGAN(epochs=self.epochs, batch_size=batch, pac=1, **self.ctgan_kwargs)
        self._model.fit(df, discrete_columns=discrete)

    def _sample(self, n, rng):
        self._model.set_random_state(int(rng.integers(2**31 - 1)))
        df = self._model.sample(n)
        ye = df.pop(self._label_col).astype(int).to_numpy()
        return df.astype(float), ye


GENERATORS: dict[str, Any] = {
    "none": NoneGenerator,
    "causalmix": "causalmix.scm:CausalMixGenerator",  # imported on use (dowhy, causal-learn)
    "smote": SMOTEGenerator,
    "mixup": MixupGenerator,
    "tableaugment": TableAugmentGenerator,
    "gaussian_copula": GaussianCopulaGenerator,
    "ctgan": CTGANGenerator,
    "tabebm": "causalmix.tabebm:TabEBMGenerator",  # imported on use (torch, tabpfn)
}
"""Method name -> generator class, or ``"module:Class"`` for those whose imports are heavy (loaded on
first use, so this module never imports them: no import cycle with the modules that build on it)."""


def make_generator(name: str, **params: Any) -> Generator:
    """Build the generator registered as ``name`` with keyword ``params`` (unfitted).

    >>> make_generator("mixup", alpha=0.4)
    MixupGenerator(alpha=0.4, within_class=False)
    """
    try:
        factory = GENERATORS[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown generator {name!r}; valid names: {', '.join(GENERATORS)}.") from None
    if isinstance(factory, str):
        import importlib

        module, cls = factory.split(":")
        factory = getattr(importlib.import_module(module), cls)
    try:
        return factory(**params)
    except TypeError as err:
        raise TypeError(f"Bad parameters for generator {name!r}: {err}") from err
