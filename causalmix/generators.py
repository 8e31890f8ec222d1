"""Generators of extra training rows, all behind one protocol, and the registry that names them.

Every generator is a scikit-learn estimator (:class:`~causalmix.generator_base.Generator`): the
keyword-only ``__init__`` stores parameters (``get_params``, ``set_params`` and
:func:`sklearn.base.clone` work), ``fit(X, y)`` checks the parameters against their declared
constraints, validates the data, learns, and returns ``self``; ``sample(n, random_state)`` returns
``(X_syn, y_syn)`` where ``X_syn`` has exactly the columns, order, dtypes and category sets of the
fitted ``X`` and ``y_syn`` has the dtype of ``y`` with values among the fitted classes
``classes_``; ``fit_resample(X, y)`` returns the real rows followed by synthetic ones, so a
generator is a step of an imbalanced-learn ``Pipeline``.

>>> gen = make_generator("smote").fit(X_train, y_train)        # doctest: +SKIP
>>> X_syn, y_syn = gen.sample(256, random_state=0)             # doctest: +SKIP

Encoding, missing values and dtype restoration are shared (:class:`~causalmix.generator_base.TableCodec`).
``sample(n, random_state)``: ``random_state`` is an int (same int -> identical rows) or ``None``
(fresh entropy). ``n == 0`` returns zero rows with the right schema.

Parameters every generator but ``none`` has: ``resample_ratio`` (synthetic rows per real row in
``fit_resample``; default 1.0, SPEC's 1 synthetic : 1 real mix) and ``random_state`` (the seed of
the fit's randomness, where it has any, and of ``fit_resample``'s draw; default 0). Neither changes
what ``fit`` learns or what ``sample`` draws for a given ``random_state`` argument.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from causalmix.data import allocate
from causalmix.generator_base import (  # noqa: F401 - re-exported: the public import paths
    ColumnSpec,
    Generator,
    GeneratorFallbackWarning,
    TableCodec,
    as_rng,
)
from causalmix.params import Interval, Options

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
    "TableCodec",
    "make_generator",
]


# ------------------------------------------------------------------------------------------
class NoneGenerator(Generator):
    """No augmentation: ``sample(n)`` returns zero rows with the fitted schema, whatever ``n``.

    >>> X_syn, y_syn = NoneGenerator().fit(X, y).sample(100)   # doctest: +SKIP
    >>> len(X_syn)                                              # doctest: +SKIP
    0
    """

    name = "none"
    parameter_constraints: dict[str, list] = {}

    def __init__(self) -> None:
        pass

    def _fit(self, Xe, ye):
        pass

    def sample(self, n, random_state=None):
        super().sample(0, random_state)  # validates fitted state
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}.")
        return self.codec_.empty()


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

    Args:
        k_neighbors: neighbours interpolated between (5).
        class_balance: ``"proportional"``, ``"balanced"`` (above).
        resample_ratio: synthetic rows per real row that :meth:`fit_resample` adds (1.0: SPEC's
            1 synthetic : 1 real mix).
        random_state: seed of :meth:`fit_resample`'s draw (0); ``sample`` seeds the interpolation
            from its own ``random_state`` argument.

    >>> SMOTEGenerator(k_neighbors=3)
    SMOTEGenerator(k_neighbors=3, class_balance='proportional', resample_ratio=1.0, random_state=0)
    """

    name = "smote"
    parameter_constraints = {
        **Generator.parameter_constraints,
        "k_neighbors": [Interval("int", 1, None)],
        "class_balance": [Options("proportional", "balanced")],
    }

    def __init__(self, *, k_neighbors: int = 5, class_balance: Literal["proportional", "balanced"] = "proportional",
                 resample_ratio: float = 1.0, random_state: int | None = 0):
        self.k_neighbors = k_neighbors
        self.class_balance = class_balance
        self.resample_ratio = resample_ratio
        self.random_state = random_state

    def _fit(self, Xe, ye):
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

    Args:
        alpha: the Beta distribution's parameter (0.2, above).
        within_class: pair rows of the same class only (False).
        resample_ratio: synthetic rows per real row that :meth:`fit_resample` adds (1.0: SPEC's
            1 synthetic : 1 real mix).
        random_state: seed of :meth:`fit_resample`'s draw (0).
    """

    name = "mixup"
    parameter_constraints = {
        **Generator.parameter_constraints,
        "alpha": [Interval("real", 0, None, closed="neither")],
        "within_class": [bool, np.bool_],
    }

    def __init__(self, *, alpha: float = 0.2, within_class: bool = False, resample_ratio: float = 1.0,
                 random_state: int | None = 0):
        self.alpha = alpha
        self.within_class = within_class
        self.resample_ratio = resample_ratio
        self.random_state = random_state

    def _fit(self, Xe, ye):
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

    Args:
        mask_prob: probability that a value is masked (0.1).
        mask_value: ``"marginal"`` or ``"nan"`` (above).
        resample_ratio: synthetic rows per real row that :meth:`fit_resample` adds (1.0: SPEC's
            1 synthetic : 1 real mix).
        random_state: seed of :meth:`fit_resample`'s draw (0).
    """

    name = "tableaugment"
    parameter_constraints = {
        **Generator.parameter_constraints,
        "mask_prob": [Interval("real", 0, 1)],
        "mask_value": [Options("marginal", "nan")],
    }

    def __init__(self, *, mask_prob: float = 0.1, mask_value: Literal["marginal", "nan"] = "marginal",
                 resample_ratio: float = 1.0, random_state: int | None = 0):
        self.mask_prob = mask_prob
        self.mask_value = mask_value
        self.resample_ratio = resample_ratio
        self.random_state = random_state

    def _fit(self, Xe, ye):
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

    Args:
        shrinkage: identity weight added to the correlation matrix (1e-3, above).
        resample_ratio: synthetic rows per real row that :meth:`fit_resample` adds (1.0: SPEC's
            1 synthetic : 1 real mix).
        random_state: seed of the categorical slices' uniform points at fit, and of
            :meth:`fit_resample`'s draw (0).
    """

    name = "gaussian_copula"
    parameter_constraints = {**Generator.parameter_constraints, "shrinkage": [Interval("real", 0, None)]}

    def __init__(self, *, shrinkage: float = 1e-3, resample_ratio: float = 1.0, random_state: int | None = 0):
        self.shrinkage = shrinkage
        self.resample_ratio = resample_ratio
        self.random_state = random_state

    def _fit(self, Xe, ye):
        from scipy.stats import norm, rankdata

        rng = as_rng(self.random_state)
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
    ``batch_size`` default 500 (the package default, lowered to the rows available);
    ``random_state`` seeds training and :meth:`fit_resample`'s draw; ``resample_ratio`` as every
    generator (1.0); ``ctgan_params``: further keyword arguments of ``ctgan.CTGAN`` as one dict
    (default ``None``: the package's defaults; a dict parameter rather than ``**kwargs``, so
    ``get_params``, ``set_params`` and ``clone`` see it like any other). Without the package,
    ``fit`` raises an ImportError saying how to install it.
    """

    name = "ctgan"
    parameter_constraints = {
        **Generator.parameter_constraints,
        "epochs": [Interval("int", 1, None)],
        "batch_size": [Interval("int", 1, None)],
        "ctgan_params": [dict, None],
    }

    def __init__(self, *, epochs: int = 300, batch_size: int = 500, ctgan_params: dict[str, Any] | None = None,
                 resample_ratio: float = 1.0, random_state: int | None = 0):
        self.epochs = epochs
        self.batch_size = batch_size
        self.ctgan_params = ctgan_params
        self.resample_ratio = resample_ratio
        self.random_state = random_state

    def fit(self, X, y):
        self.check_params()  # a bad parameter is named even where the package is missing
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
        from joblib import parallel_config

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
        self._model = CTGAN(epochs=self.epochs, batch_size=batch, pac=1, **(self.ctgan_params or {}))
        # From 500 rows ctgan transforms columns with joblib.Parallel(n_jobs=-1): loky processes that oversubscribe
        # a sweep's cores and that a sweep worker then waits on forever at exit. The sequential backend gives the
        # same transform (column by column) without them.
        with parallel_config(backend="sequential"):
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
    MixupGenerator(alpha=0.4, within_class=False, resample_ratio=1.0, random_state=0)
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
