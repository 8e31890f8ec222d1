"""Scoring query rows against a fixed context: one unit for fine-tuning curves, the fine-tuned
classifier and zero-shot (``pretrained``) runs.

SPEC rule: *a prediction depends only on the context and the row itself*. A
:class:`ContextEvaluator` fits tabpfn's preprocessing on the context rows and scores any query set
through tabpfn's cached inference (``fit_mode="fit_with_cache"``): the context's keys and values
are computed once per set of weights, and every query row is transformed with the context's
fitted preprocessing and attends only to the context. tabpfn's default mode
(``"fit_preprocessors"``) runs context and query rows through the network together, and the v2
architecture then decides which columns are constant, and how feature groups are scaled, over all
rows of that batch: a row's probabilities can change with the other query rows when a column is
constant in the context but not among the queries (on anneal by up to 0.07 at 64 training rows and
0.03 at 256; ``benchmarks/throughput.py``).
The cached mode fits those statistics on the context alone. Where no such column exists the two
modes give identical numbers; before any fine-tuning step the numbers are exactly those of a
plain ``TabPFNClassifier(fit_mode="fit_with_cache")`` with the same checkpoint, ensemble size and
seed. Fine-tuned weights are copied in before scoring (:meth:`load_weights`); the context's cache
is rebuilt once for them, then every query set reuses it. The preprocessing does not depend on the
weights, so a query set scored again and again (``predict_proba(X, cache=True)``: a fine-tuning
run's validation and test rows at every evaluation) is transformed by each member once.

Every feature reaches the model: :func:`ensemble_size` raises a configured ensemble size to the
number of members whose per-member feature caps together cover every column.

>>> ev = ContextEvaluator("causalmix-tiny", X_train, y_train, n_estimators=2, seed=0)  # doctest: +SKIP
>>> proba = ev.predict_proba(X_test)                  # the pre-trained model   # doctest: +SKIP
>>> ev.load_weights(net); proba = ev.predict_proba(X_test)   # fine-tuned weights  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import functools
import hashlib
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from causalmix.model import load_classifier

__all__ = ["ContextEvaluator", "ensemble_size", "feature_cap", "make_classifier", "max_model_features"]


def make_classifier(model: Any, *, n_estimators: int, seed: int, device: str, fit_mode: str,
                    categorical_indices: Sequence[int] = (), mixed_precision: bool = False):
    """A ``TabPFNClassifier`` for a model spec (or a copy of a given classifier), its model loaded.

    A given classifier is copied, never changed in place. ``mixed_precision``: tabpfn's autocast
    (``inference_precision="autocast"``) instead of float32.
    """
    precision = "autocast" if mixed_precision else torch.float32
    if hasattr(model, "predict_proba") and hasattr(model, "fit_from_preprocessed"):
        clf = copy.deepcopy(model)
        clf.n_estimators, clf.random_state, clf.fit_mode, clf.device = n_estimators, seed, fit_mode, device
        clf.inference_precision = precision
    else:
        clf = load_classifier(model, device=device, n_estimators=n_estimators, fit_mode=fit_mode, random_state=seed,
                              inference_precision=precision)
    clf.categorical_features_indices = list(categorical_indices) or None
    clf.show_progress_bar = False
    clf._initialize_model_variables()  # loads the weights and the checkpoint's inference config
    return clf


def feature_cap(clf) -> int | None:
    """Most features one ensemble member sees under the model's inference config (None: no cap)."""
    caps = [c.max_features_per_estimator for c in clf.inference_config_.PREPROCESS_TRANSFORMS
            if getattr(c, "max_features_per_estimator", None)]
    return min(caps) if caps else None


def max_model_features(clf) -> int:
    """Most features the model accepts at all (tabpfn's ``MAX_NUMBER_OF_FEATURES``; 500 for v2)."""
    return int(clf.inference_config_.MAX_NUMBER_OF_FEATURES)


def ensemble_size(clf, n_features: int, minimum: int) -> int:
    """``minimum`` raised so the members' feature caps together cover all ``n_features`` columns.

    tabpfn subsamples features per member in a balanced way, so ``k`` members of cap ``c``
    cover ``k * c`` columns.

    >>> class _Cfg: max_features_per_estimator = 20
    >>> class _Clf: inference_config_ = type("I", (), {"PREPROCESS_TRANSFORMS": [_Cfg()]})
    >>> ensemble_size(_Clf(), 30, 1), ensemble_size(_Clf(), 30, 4), ensemble_size(_Clf(), 8, 1)
    (2, 4, 1)
    """
    cap = feature_cap(clf)
    return minimum if not cap else max(minimum, math.ceil(n_features / cap))


#: Test-only hook: a relative noise level put on every predicted probability, as another CPU's float
#: rounding would (``tests/test_verify.py`` shows it cannot change a verification's outcome).
OUTPUT_NOISE_ENV = "CAUSALMIX_TEST_OUTPUT_NOISE"


def _with_float_noise(proba: np.ndarray, X_query: np.ndarray, level: float) -> np.ndarray:
    """``proba`` times ``1 + level * u`` (u in [-1, 1]), renormalised; u is a function of the row's
    feature values and the class, so identical rows stay identical, as on a real CPU."""
    bits = np.ascontiguousarray(np.nan_to_num(X_query.astype(np.float64))).view(np.uint64)
    mixed = (bits * np.uint64(0x9E3779B97F4A7C15)).sum(axis=1, dtype=np.uint64)
    classes = np.arange(1, proba.shape[1] + 1, dtype=np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
    u = ((mixed[:, None] ^ classes[None, :]) >> np.uint64(11)).astype(np.float64) / 2.0**53 * 2 - 1
    noisy = proba * (1 + level * u)
    return noisy / noisy.sum(axis=1, keepdims=True)


class ContextEvaluator:
    """tabpfn's preprocessing fitted on the context once; any query set scored against it.

    Args:
        model: a model spec (``"causalmix-tiny"``, ``"tabpfn-v2"``, a checkpoint path) or a
            ``TabPFNClassifier`` (copied).
        X_context, y_context: the context rows (encoded float array, labels ``0..K-1``).
        categorical_indices: columns tabpfn treats as categorical.
        n_estimators: ensemble members (as given: raise it with :func:`ensemble_size` first).
        seed: seed of tabpfn's preprocessing ensemble.
        device: ``"cpu"`` or ``"cuda"``.
        chunk_rows: query rows per ``predict_proba`` call (bounds memory; no effect on numbers).
        mixed_precision: tabpfn's autocast instead of float32 (GPU speed; numbers may differ).
    """

    def __init__(self, model: Any, X_context: np.ndarray, y_context: np.ndarray, *,
                 categorical_indices: Sequence[int] = (), n_estimators: int, seed: int, device: str = "cpu",
                 chunk_rows: int = 4096, mixed_precision: bool = False):
        from tabpfn.base import ModelSpecs

        self.chunk_rows = int(chunk_rows)
        clf = make_classifier(model, n_estimators=n_estimators, seed=seed, device=device, fit_mode="fit_with_cache",
                              categorical_indices=categorical_indices, mixed_precision=mixed_precision)
        # tabpfn uses an in-memory model by reference: load_weights changes this network, and the
        # next fit builds the context cache from it.
        clf.model_path = ModelSpecs(model=clf.models_[0], architecture_config=clf.configs_[0],
                                    inference_config=clf.inference_config_)
        self.classifier_ = clf
        self._context, self._stale = (X_context, y_context), True
        # (member, query rows) -> the member's preprocessing of them: the context and seed never
        # change, so every rebuild fits the same preprocessing and only the network's cache differs.
        self._transformed: dict[tuple, np.ndarray] = {}
        self._caching = False

    def fit_context(self) -> ContextEvaluator:
        """Build the context's cache with the current weights (:meth:`predict_proba` does this
        when the weights changed since the last build); returns ``self``."""
        if self._stale:
            self.classifier_.fit(*self._context)
            for i, member in enumerate(self.classifier_.executor_.ensemble_members):
                member.transform_X_test = functools.partial(self._transform, i, member.transform_X_test)
            self._stale = False
        return self

    def _transform(self, member: int, transform, X):
        if not self._caching or not isinstance(X, np.ndarray):
            return transform(X)
        key = (member, X.shape, X.dtype.str, hashlib.sha256(np.ascontiguousarray(X).tobytes()).digest())
        if key not in self._transformed:
            self._transformed[key] = transform(X)
        return self._transformed[key].copy()  # tabpfn may change what it is handed

    @torch.no_grad()
    def load_weights(self, network: torch.nn.Module) -> None:
        """Score with ``network``'s current parameters from now on (copied; same architecture)."""
        self.classifier_.models_[0].load_state_dict(network.state_dict())
        self._stale = True

    @torch.no_grad()
    def predict_proba(self, X_query: np.ndarray, *, cache: bool = False) -> np.ndarray:
        """Class probabilities of each query row (columns: the context's classes in order), with
        the checkpoint's weights or those of the last :meth:`load_weights`. ``cache``: keep the
        rows' preprocessing for the next call with the same rows (same numbers, held in memory)."""
        clf = self.fit_context().classifier_
        if len(X_query) == 0:
            return np.zeros((0, clf.n_classes_))
        self._caching = cache
        try:
            parts = [clf.predict_proba(X_query[i : i + self.chunk_rows])
                     for i in range(0, len(X_query), self.chunk_rows)]
        finally:
            self._caching = False
        proba = np.concatenate(parts).astype(np.float64)
        noise = os.environ.get(OUTPUT_NOISE_ENV)
        return proba if not noise else _with_float_noise(proba, X_query, float(noise))
