"""Fidelity diagnostics: how close synthetic rows are to the real ones.

``fidelity_report(real, synthetic)`` compares two labelled tables (each an ``(X, y)`` pair) with
the same columns:

- per column (features and the label): the Kolmogorov-Smirnov statistic for numeric columns,
  the total-variation distance for categorical ones (both in [0, 1], 0 = identical marginals),
  and the missing rates;
- association matrices over all columns (label included): Spearman correlation between numeric
  columns, Cramér's V between categorical ones, the correlation ratio eta between a numeric and a
  categorical one; ``association_diff`` is the mean absolute difference over column pairs;
- a classifier two-sample test: a gradient-boosting classifier tries to tell real from synthetic
  rows (equal numbers of each, 5-fold cross-validated ROC-AUC; 0.5 = indistinguishable). An AUC
  well *below* 0.5 means the synthetic rows are near-copies of the real ones: a real row and its
  copy land in different folds and the classifier, having learned one, mislabels the other;
- train-on-synthetic / test-on-real utility: a logistic regression (one-hot categoricals,
  standardized numerics, median imputation) trained on the synthetic rows and scored (ROC-AUC,
  one-vs-rest macro for multiclass) on ``real_test`` if given, else on ``real`` itself (optimistic
  for generators that copy real rows); with ``real_test`` the same model trained on ``real`` gives
  the train-on-real reference ``trtr_auc``.

>>> rep = fidelity_report((X, y), gen.sample(1000, random_state=0))   # doctest: +SKIP
>>> rep.summary()                                                     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

__all__ = ["FidelityReport", "association_matrix", "fidelity_report"]


@dataclasses.dataclass(frozen=True)
class FidelityReport:
    """Result of :func:`fidelity_report`.

    Attributes:
        columns: one row per column (label last): ``column``, ``kind`` ("numeric"/"categorical"),
            ``metric`` ("ks"/"tv"), ``distance`` in [0, 1], ``missing_real``, ``missing_synthetic``.
        association_real, association_synthetic: column x column association matrices.
        association_diff: mean absolute difference of the two matrices over column pairs.
        c2st_auc: classifier two-sample test ROC-AUC (0.5 = indistinguishable, 1 = separable).
        tstr_auc: ROC-AUC on real rows of a model trained on the synthetic rows.
        trtr_auc: ROC-AUC on ``real_test`` of the same model trained on ``real`` (NaN without it).
        n_real, n_synthetic: row counts.
    """

    columns: pd.DataFrame
    association_real: pd.DataFrame
    association_synthetic: pd.DataFrame
    association_diff: float
    c2st_auc: float
    tstr_auc: float
    trtr_auc: float
    n_real: int
    n_synthetic: int

    def summary(self) -> dict[str, float]:
        """One row of scalars, to build a table over generators: ``pd.DataFrame([r.summary() ...])``."""
        d = self.columns["distance"]
        return {
            "marginal_mean": float(d.mean()),
            "marginal_max": float(d.max()),
            "association_diff": self.association_diff,
            "c2st_auc": self.c2st_auc,
            "tstr_auc": self.tstr_auc,
            "trtr_auc": self.trtr_auc,
            "n_real": self.n_real,
            "n_synthetic": self.n_synthetic,
        }


def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype) or isinstance(
        s.dtype, pd.CategoricalDtype
    )


def _joined(data, name: str) -> pd.DataFrame:
    if not (isinstance(data, tuple) and len(data) == 2):
        raise TypeError(f"{name} must be an (X, y) pair, got {type(data).__name__}.")
    X, y = data
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"{name}[0] must be a pandas DataFrame, got {type(X).__name__}.")
    y = pd.Series(np.asarray(y), name=getattr(y, "name", None) or "target")
    if len(y) != len(X):
        raise ValueError(f"{name}: X and y have different lengths ({len(X)} vs {len(y)}).")
    df = X.reset_index(drop=True).copy()
    label = y.name if y.name not in df.columns else "__label__"
    df[label] = y.astype(str).to_numpy()
    return df


def _cramers_v(a: pd.Series, b: pd.Series) -> float:
    table = pd.crosstab(a, b).to_numpy(dtype=float)
    n = table.sum()
    if n == 0 or min(table.shape) < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / np.where(expected > 0, expected, 1)).sum()
    return float(math.sqrt(chi2 / n / (min(table.shape) - 1)))


def _eta(num: pd.Series, cat: pd.Series) -> float:
    ok = num.notna() & cat.notna()
    x, g = num[ok].to_numpy(dtype=float), cat[ok].astype(str).to_numpy()
    if len(x) < 2 or x.var() == 0:
        return 0.0
    between = sum((g == k).sum() * (x[g == k].mean() - x.mean()) ** 2 for k in np.unique(g))
    return float(math.sqrt(between / (x.var() * len(x))))


def association_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Mixed-type association matrix: Spearman (numeric pairs, signed), Cramér's V (categorical
    pairs), correlation ratio eta (numeric x categorical); pairwise-complete rows; 1 on the diagonal.
    Constant columns associate 0 with everything."""
    cols = list(df.columns)
    cat = {c: _is_categorical(df[c]) for c in cols}
    ranks = {c: df[c].rank() for c in cols if not cat[c]}
    A = np.eye(len(cols))
    for i, a in enumerate(cols):
        for j in range(i + 1, len(cols)):
            b = cols[j]
            if not cat[a] and not cat[b]:
                v = ranks[a].corr(ranks[b])
            elif cat[a] and cat[b]:
                v = _cramers_v(df[a].astype(str).where(df[a].notna()), df[b].astype(str).where(df[b].notna()))
            else:
                num, c = (a, b) if cat[b] else (b, a)
                v = _eta(df[num].astype(float), df[c])
            A[i, j] = A[j, i] = 0.0 if v is None or not np.isfinite(v) else v
    return pd.DataFrame(A, index=cols, columns=cols)


def _marginals(real: pd.DataFrame, syn: pd.DataFrame) -> pd.DataFrame:
    from scipy.stats import ks_2samp

    rows = []
    for c in real.columns:
        r, s = real[c], syn[c]
        if _is_categorical(r):
            p = r.dropna().astype(str).value_counts(normalize=True)
            q = s.dropna().astype(str).value_counts(normalize=True)
            dist = 0.5 * p.subtract(q, fill_value=0).abs().sum() if len(p) and len(q) else math.nan
            kind, metric = "categorical", "tv"
        else:
            rv, sv = r.dropna().to_numpy(dtype=float), s.dropna().to_numpy(dtype=float)
            dist = float(ks_2samp(rv, sv).statistic) if len(rv) and len(sv) else math.nan
            kind, metric = "numeric", "ks"
        rows.append(dict(column=c, kind=kind, metric=metric, distance=float(dist),
                         missing_real=float(r.isna().mean()), missing_synthetic=float(s.isna().mean())))
    return pd.DataFrame(rows)


def _encoder(frame: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [c for c in frame.columns if _is_categorical(frame[c])]
    num = [c for c in frame.columns if c not in cat]
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), num),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="__missing__"),
                              OneHotEncoder(handle_unknown="ignore")), cat),
    ])


def _prep_cat(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for c in frame.columns:
        if _is_categorical(frame[c]):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), np.nan).astype(object)
            frame[c] = frame[c].map(lambda v: v if pd.isna(v) else str(v))
    return frame


def _auc(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    present = np.unique(y_true)
    if len(present) < 2:
        return math.nan
    if len(classes) == 2:
        return float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    # one-vs-rest macro over the classes present in y_true
    scores = [roc_auc_score(y_true == k, proba[:, list(classes).index(k)]) for k in present if k in classes]
    return float(np.mean(scores)) if scores else math.nan


def _utility(train: pd.DataFrame, label: str, test: pd.DataFrame) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    y_train = train[label].to_numpy()
    if len(np.unique(y_train)) < 2:
        return math.nan
    Xtr, Xte = _prep_cat(train.drop(columns=label)), _prep_cat(test.drop(columns=label))
    model = make_pipeline(_encoder(Xtr), LogisticRegression(max_iter=2000))
    model.fit(Xtr, y_train)
    classes = model.classes_
    proba = model.predict_proba(Xte)
    y_test = test[label].to_numpy()
    known = np.isin(y_test, classes)
    return _auc(y_test[known], proba[known], classes)


def _c2st(real: pd.DataFrame, syn: pd.DataFrame, random_state: int, max_rows: int) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.preprocessing import OrdinalEncoder

    rng = np.random.default_rng(random_state)
    k = min(len(real), len(syn), max_rows)
    if k < 10:
        return math.nan
    both = pd.concat([real.iloc[rng.choice(len(real), k, replace=False)],
                      syn.iloc[rng.choice(len(syn), k, replace=False)]], ignore_index=True)
    both = _prep_cat(both)
    cat = [c for c in both.columns if _is_categorical(both[c])]
    X = both.copy()
    if cat:
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2)
        X[cat] = enc.fit_transform(both[cat].astype(object).where(both[cat].notna(), None).fillna("__missing__"))
    X = X.to_numpy(dtype=float)
    is_syn = np.r_[np.zeros(k), np.ones(k)]
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=random_state)
    cv = StratifiedKFold(5, shuffle=True, random_state=random_state)
    proba = cross_val_predict(clf, X, is_syn, cv=cv, method="predict_proba")[:, 1]
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(is_syn, proba))


def fidelity_report(
    real: tuple[pd.DataFrame, pd.Series],
    synthetic: tuple[pd.DataFrame, pd.Series],
    *,
    real_test: tuple[pd.DataFrame, pd.Series] | None = None,
    c2st_max_rows: int = 2000,
    random_state: int = 0,
) -> FidelityReport:
    """Compare synthetic rows with real ones; see the module docstring for each diagnostic.

    Args:
        real, synthetic: ``(X, y)`` pairs with the same columns (``synthetic`` as returned by a
            generator's ``sample``).
        real_test: held-out real rows for the utility scores. Default None: score on ``real``.
        c2st_max_rows: at most this many rows of each side enter the two-sample test. Default 2000
            (a few seconds on 2 cores; more rows barely change the AUC).
        random_state: seed of the subsampling and the classifiers.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # OpenMP oversubscription slows the classifiers 10x on a busy machine
        return _fidelity_report(real, synthetic, real_test, c2st_max_rows, random_state)


def _fidelity_report(real, synthetic, real_test, c2st_max_rows, random_state) -> FidelityReport:
    r, s = _joined(real, "real"), _joined(synthetic, "synthetic")
    if list(r.columns) != list(s.columns):
        raise ValueError(
            f"real and synthetic have different columns: only in real {sorted(set(r.columns) - set(s.columns))}, "
            f"only in synthetic {sorted(set(s.columns) - set(r.columns))}."
        )
    if len(r) == 0:
        raise ValueError("real has no rows.")
    label = r.columns[-1]
    columns = _marginals(r, s)
    A_r, A_s = association_matrix(r), association_matrix(s) if len(s) > 1 else None
    if A_s is None:
        A_s = pd.DataFrame(np.nan, index=A_r.index, columns=A_r.columns)
    iu = np.triu_indices(len(A_r), k=1)
    diff = float(np.nanmean(np.abs(A_r.to_numpy() - A_s.to_numpy())[iu])) if len(iu[0]) and len(s) > 1 else math.nan
    c2st = _c2st(r, s, random_state, c2st_max_rows) if len(s) else math.nan
    test = _joined(real_test, "real_test") if real_test is not None else r
    tstr = _utility(s, label, test) if len(s) else math.nan
    trtr = _utility(r, label, test) if real_test is not None else math.nan
    return FidelityReport(columns, A_r, A_s, diff, c2st, tstr, trtr, len(r), len(s))
