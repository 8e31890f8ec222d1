"""TabPFN fine-tuned with synthetic context rows, as a scikit-learn classifier (``fit``, ``predict_proba``,
``predict``, ``score``, ``clone``): the loop of :mod:`causalmix.finetuning` behind the estimator API."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from causalmix.encoding import as_frame
from causalmix.finetune_config import FinetuneConfig
from causalmix.finetuning import finetune_loop
from causalmix.generators import make_generator
from causalmix.model import DEFAULT_MODEL

__all__ = ["CausalMixFinetunedClassifier"]


class CausalMixFinetunedClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier: TabPFN fine-tuned with (optionally) synthetic context rows.

    >>> clf = CausalMixFinetunedClassifier(generator="causalmix", config=FinetuneConfig(max_steps=20))  # doctest: +SKIP
    >>> clf.fit(X_train, y_train, X_val, y_val).predict_proba(X_test)                                 # doctest: +SKIP
    >>> clf.score(X_test, y_test)                                                                     # doctest: +SKIP

    Args:
        model: model spec or ``TabPFNClassifier`` (default ``"causalmix-wide"``, the shipped
            offline checkpoint).
        generator: ``None`` (default fine-tuning: real rows only), a registry name of
            :func:`causalmix.generators.make_generator` (e.g. ``"causalmix"``, ``"smote"``) or a
            generator instance.
        generator_params: keyword parameters for a generator given by name (default none).
        config: :class:`FinetuneConfig` (``None`` = its defaults).
        random_state: the run's seed (0).

    Fitted attributes: ``classes_``, ``result_`` (:class:`FinetuneResult`), ``classifier_`` (a
    ``TabPFNClassifier`` fitted on the training rows with the fine-tuned weights of the best
    step, which takes the encoded rows), ``generator_``, ``feature_names_in_``.
    """

    def __init__(self, *, model: Any = DEFAULT_MODEL, generator: Any = None,
                 generator_params: dict[str, Any] | None = None, config: FinetuneConfig | None = None,
                 random_state: int = 0):
        self.model = model
        self.generator = generator
        self.generator_params = generator_params
        self.config = config
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any, X_val: pd.DataFrame | None = None, y_val: Any = None,
            *, progress: bool = False) -> CausalMixFinetunedClassifier:
        """Fine-tune on ``(X, y)``; without ``X_val`` a stratified quarter of ``X`` (at least two rows
        per class) is held out for early stopping. Returns ``self``."""
        X = as_frame(X, "X")
        y = pd.Series(np.asarray(y))
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither (a validation split is then held out).")
        if X_val is None:
            n_val = max(len(y) // 4, 2 * y.nunique())
            idx_tr, idx_val = train_test_split(np.arange(len(y)), test_size=n_val, stratify=y,
                                               random_state=self.random_state)
            X, X_val, y, y_val = X.iloc[idx_tr], X.iloc[idx_val], y.iloc[idx_tr], y.iloc[idx_val]
        gen = self.generator
        if isinstance(gen, str):
            gen = make_generator(gen, **(self.generator_params or {}))
        elif gen is not None:
            gen = copy.deepcopy(gen)
        self.result_, self._evaluator, self._encoder, self._columns = finetune_loop(
            self.model, X, y, X_val, y_val, test_sets=None, generator=gen,
            config=self.config or FinetuneConfig(), seed=self.random_state, progress=progress,
        )
        self.classifier_ = self._evaluator.fit_context().classifier_
        self.generator_ = gen
        self.classes_ = self._encoder.classes
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``; the training rows are the
        context and each row's probabilities depend only on that row."""
        if not hasattr(self, "classifier_"):
            raise RuntimeError("This CausalMixFinetunedClassifier is not fitted yet: call fit(X, y) first.")
        X = as_frame(X, "X")
        if list(X.columns) == list(self.feature_names_in_):
            X = X[self._columns]
        return self._evaluator.predict_proba(self._encoder.X(X, "X"))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def score(self, X: pd.DataFrame, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of :meth:`predict` on ``(X, y)`` (scikit-learn's classifier score; ROC-AUC and
        the other metrics: :func:`causalmix.metrics.classification_metrics` on :meth:`predict_proba`)."""
        return float(accuracy_score(np.asarray(y, dtype=object), self.predict(X).astype(object),
                                    sample_weight=sample_weight))
