"""Fine-tuning TabPFN on one small dataset, optionally mixing synthetic rows into the context.

One readable loop built on the tabpfn package's own fine-tuning pieces (``fit_mode="batched"``,
``DatasetCollectionWithPreprocessing`` with our own context/query split, ``meta_dataset_collator``,
``fit_from_preprocessed``, ``forward(..., return_raw_logits=True)``):

- step 0 evaluates the pre-trained model;
- each step partitions the real training rows (stratified) into context and query; an augmenting
  method adds ``synthetic_ratio`` synthetic rows per real context row, drawn fresh from the fitted
  generator, to the context; the query is real rows only (``synthetic_query=True`` lets synthetic
  rows into the query too); tabpfn's preprocessing is set up on the step's context and applied
  to its query; cross-entropy on the query, AdamW, linear warmup then cosine decay, gradient
  clipping;
- every ``eval_every`` steps a :class:`~causalmix.evaluation.ContextEvaluator` scores the
  validation rows (and every test set) with all real training rows as the context and the
  current weights: one row of the returned curve, no query row influencing another;
- early stopping on the validation metric with ``patience``; the result is the validation-selected
  step, restored (step 0 included: a run that never improves returns the pre-trained model). Both
  rules are pure functions of the curve (:mod:`causalmix.selection`), tie-proof within 1e-6, so
  float noise between CPUs cannot move a selected step.

Randomness comes from the named streams of :mod:`causalmix.seeds` (common random numbers): for one
seed every method sees the same partitions; only the synthetic draws differ. Ensemble sizes are
minimums, raised so that every feature reaches the model; the learning rate defaults to the
model's recommended rate (:func:`causalmix.model.recommended_learning_rate`).

>>> from causalmix.data import load_dataset, low_data_split
>>> split = low_data_split(load_dataset("adult"), n_train=128, seed=0, test_cap=500)   # doctest: +SKIP
>>> result = finetune("causalmix-tiny", split.X_train, split.y_train, split.X_val, split.y_val,
...                   test_sets={"test": (split.X_test, split.y_test)},
...                   config=FinetuneConfig(max_steps=20), seed=0)                     # doctest: +SKIP
>>> result.best_step, result.metrics_best["test_roc_auc"]                              # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from causalmix.encoding import Encoder, as_frame
from causalmix.evaluation import ContextEvaluator, ensemble_size, make_classifier, max_model_features
from causalmix.finetune_config import METRICS, FinetuneConfig, FinetuneResult  # noqa: F401 - part of this module's API
from causalmix.metrics import classification_metrics
from causalmix.model import recommended_learning_rate, resolve_device
from causalmix.seeds import stream
from causalmix.selection import selectable_steps, selected_step, stopping_index

__all__ = ["FinetuneConfig", "FinetuneResult", "Timer", "SyntheticPool", "finetune", "finetune_loop"]

# --- the tabpfn pieces --------------------------------------------------------------------------


def _step_batch(clf, X_ctx: np.ndarray, y_ctx: np.ndarray, X_qry: np.ndarray, y_qry: np.ndarray, seed: int):
    """tabpfn's fine-tuning batch for one (context, query) pair, its preprocessing set up on the
    context alone (SPEC: a prediction depends only on the context and the row itself).

    tabpfn's ``get_preprocessed_dataset_chunks`` infers the feature schema, cleans the table and
    encodes the labels on context and query rows together; here that set-up sees the context
    only and the query rows are transformed with it, as ``predict_proba`` transforms test rows.
    The ensemble members' preprocessing is then fitted on the context by tabpfn's own
    ``DatasetCollectionWithPreprocessing`` and applied to the query.
    """
    from tabpfn.finetuning.data_util import (
        ClassifierDatasetConfig,
        DatasetCollectionWithPreprocessing,
        meta_dataset_collator,
    )
    from tabpfn.preprocessing.clean import clean_data_transform
    from tabpfn.preprocessing.datamodel import FeatureModality

    configs, X_ctx_clean, y_ctx_codes = clf._initialize_dataset_preprocessing(X_ctx, y_ctx, random_state=seed)
    if not np.array_equal(np.asarray(clf.classes_), np.arange(len(clf.classes_))):
        raise RuntimeError("A step's context must hold every class (labels 0..K-1); this is a bug, please report it.")
    cat_ix = clf.inferred_feature_schema_.indices_for(FeatureModality.CATEGORICAL)
    X_qry_clean = clean_data_transform(X_qry, cat_indices=cat_ix, ord_encoder=clf.ordinal_encoder_,
                                       passthrough_inf=clf.get_inference_config().PASSTHROUGH_INF)
    n_ctx = len(X_ctx_clean)

    def split_fn(X, y, stratify=None):  # noqa: ARG001 - tabpfn passes stratify; the rows are already split
        return X[:n_ctx], X[n_ctx:], y[:n_ctx], y[n_ctx:]

    dataset = ClassifierDatasetConfig(config=configs, X_raw=np.concatenate([X_ctx_clean, X_qry_clean]),
                                      y_raw=np.concatenate([y_ctx_codes, y_qry]), cat_ix=cat_ix)
    collection = DatasetCollectionWithPreprocessing(split_fn, random_state=seed, dataset_config_collection=[dataset])
    return meta_dataset_collator([collection[0]])


def _fit_context(clf, batch) -> None:
    from tabpfn.architectures.interface import PerformanceOptions

    clf.fit_from_preprocessed(
        batch.X_context, batch.y_context, batch.cat_indices, batch.configs,
        performance_options=PerformanceOptions(force_recompute_layer=False, use_chunkwise_inference=False),
    )


def _split_rows(y: np.ndarray, n_rows: int, query_fraction: float, rng: np.random.Generator):
    """Stratified (context, query) row indices of at most ``n_rows`` rows; every class keeps a context row."""
    ctx, qry = [], []
    classes, counts = np.unique(y, return_counts=True)
    keep = counts if n_rows >= len(y) else np.maximum(1, np.floor(counts * n_rows / len(y)).astype(int))
    for c, k in zip(classes, keep):
        rows = rng.permutation(np.flatnonzero(y == c))[:k]
        n_q = min(int(round(k * query_fraction)), k - 1)
        qry.append(rows[:n_q])
        ctx.append(rows[n_q:])
    ctx, qry = np.concatenate(ctx), np.concatenate(qry)
    if len(qry) == 0:  # tiny classes all rounded to zero queries: take one row from the largest class
        big = np.flatnonzero(y[ctx] == classes[np.argmax(keep)])[0]
        qry, ctx = ctx[[big]], np.delete(ctx, big)
    return rng.permutation(ctx), rng.permutation(qry)


def _lr_factor(step: int, max_steps: int, warmup_steps: int) -> float:
    """Linear warmup to 1 over ``warmup_steps``, then cosine decay towards 0 (step >= 1).

    The decay reaches 0 one step after ``max_steps``, so the last step still learns.
    """
    if step <= warmup_steps:
        return step / max(1, warmup_steps)
    progress = (step - warmup_steps) / (max_steps - warmup_steps + 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class FeatureSelectionWarning(UserWarning):
    """A table wider than the model accepts: a seeded random subset of its columns is used."""


def _usable_columns(columns: list[str], limit: int, seed: int) -> list[str]:
    """All columns, or a seeded random ``limit`` of them (in table order) when there are more."""
    if len(columns) <= limit:
        return columns
    keep = np.sort(stream(seed, "features").choice(len(columns), size=limit, replace=False))
    warnings.warn(f"The table has {len(columns)} features, more than the model's {limit}: a seeded random "
                  f"selection of {limit} columns is used (dropped: {len(columns) - limit}).",
                  FeatureSelectionWarning, stacklevel=3)
    return [columns[i] for i in keep]


# --- the loop's pieces ---------------------------------------------------------------------------

#: The timed phases of a run (:attr:`FinetuneResult.timings`).
PHASES = ("setup", "generator_fit", "synthetic", "preprocess", "train", "eval")


class Timer:
    """Wall (``time.perf_counter``) and process CPU (``time.process_time``) seconds per named phase,
    summed over every ``with timer(phase):``; the total runs from the timer's creation.

    >>> timer = Timer(phases=("train",))
    >>> with timer("train"):
    ...     pass
    >>> sorted(timer.timings())
    ['cpu_total', 'cpu_train', 'total', 'train']
    """

    def __init__(self, *, phases: tuple[str, ...] = PHASES):
        self.wall = dict.fromkeys(phases, 0.0)
        self.cpu: dict[str, float] = {}
        self._start = (time.perf_counter(), time.process_time())

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[phase] = self.wall.get(phase, 0.0) + time.perf_counter() - wall
            self.cpu[phase] = self.cpu.get(phase, 0.0) + time.process_time() - cpu

    def timings(self) -> dict[str, float]:
        """``<phase>``: wall seconds of every phase (0 if it never ran) and ``total``; ``cpu_<phase>``:
        CPU seconds of the phases that ran and ``cpu_total`` (all threads of the process); 0.1 ms."""
        wall = {**self.wall, "total": time.perf_counter() - self._start[0]}
        cpu = {**self.cpu, "total": time.process_time() - self._start[1]}
        return {**{k: round(v, 4) for k, v in wall.items()}, **{f"cpu_{k}": round(v, 4) for k, v in cpu.items()}}


class SyntheticPool:
    """A fitted generator's synthetic rows, drawn for ``config.synthetic_pool_steps`` steps in one
    ``sample`` call and handed out step by step, so no two steps share a row.

    Args:
        generator: a fitted :mod:`causalmix.generators` generator.
        encoder: the run's encoder (synthetic rows are encoded as the real ones).
        columns: the columns the model sees.
        rng: the run's ``"synthetic"`` stream (the draws' seeds; with ``synthetic_query``, which rows
            join the query).
        config: the run's :class:`FinetuneConfig`.
    """

    def __init__(self, *, generator: Any, encoder: Encoder, columns: list[str], rng: np.random.Generator,
                 config: FinetuneConfig):
        self.generator, self.encoder, self.columns, self.rng, self.config = generator, encoder, columns, rng, config
        self.X, self.y, self.at = np.empty((0, len(columns)), np.float32), np.empty(0, np.int64), 0

    def take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``n`` rows (encoded) and labels; a fresh draw when fewer are left."""
        if len(self.y) - self.at < n:
            X, y = self.generator.sample(n * self.config.synthetic_pool_steps,
                                         random_state=int(self.rng.integers(2**31 - 1)))
            self.X = self.encoder.X(X.reset_index(drop=True)[self.columns], "synthetic rows")
            self.y, self.at = self.encoder.y(y, "synthetic labels"), 0
        self.at += n
        return self.X[self.at - n : self.at], self.y[self.at - n : self.at]

    def mix(self, X_ctx: np.ndarray, y_ctx: np.ndarray, X_qry: np.ndarray, y_qry: np.ndarray):
        """A step's real (context, query) rows with ``synthetic_ratio`` synthetic rows per real context
        row appended to the context (with ``synthetic_query``: per real row, a ``query_fraction`` of
        them appended to the query instead). Returns ``(X_ctx, y_ctx, X_qry, y_qry)``."""
        cfg = self.config
        Xs, ys = self.take(int(round(cfg.synthetic_ratio * (len(y_ctx) + (len(y_qry) if cfg.synthetic_query else 0)))))
        if cfg.synthetic_query and len(ys):
            to_query = self.rng.random(len(ys)) < cfg.query_fraction
            X_qry, y_qry = np.concatenate([X_qry, Xs[to_query]]), np.concatenate([y_qry, ys[to_query]])
            Xs, ys = Xs[~to_query], ys[~to_query]
        return np.concatenate([X_ctx, Xs]), np.concatenate([y_ctx, ys]), X_qry, y_qry


def _checked_inputs(X_train, y_train, X_val, y_val, *, test_sets, config, seed):
    """The inputs as frames, series, a dict and an int; errors name what is wrong."""
    if not isinstance(config, FinetuneConfig):
        raise TypeError(f"config must be a FinetuneConfig, got {type(config).__name__}; use FinetuneConfig(...).")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}.")
    X_train, X_val = as_frame(X_train, "X_train"), as_frame(X_val, "X_val")
    y_train, y_val = pd.Series(np.asarray(y_train)), pd.Series(np.asarray(y_val))
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError(f"X and y lengths differ: train {len(X_train)} vs {len(y_train)}, val {len(X_val)} vs {len(y_val)}.")
    if y_train.nunique() < 2:
        raise ValueError("y_train holds fewer than 2 classes; fine-tuning a classifier needs at least 2.")
    test_sets = dict(test_sets or {})
    if "val" in test_sets:
        raise ValueError("'val' is reserved for the validation set; rename that test set.")
    return X_train, y_train, X_val, y_val, test_sets, int(seed)


def _query_sets(enc: Encoder, *, columns: list[str], train_columns: list[str], X_val: pd.DataFrame,
                y_val: pd.Series, test_sets: dict[str, tuple[Any, Any]]) -> tuple[dict, dict]:
    """``(name -> encoded rows, name -> labels)`` of the validation set (``"val"``) and every test set."""
    def used(X: pd.DataFrame) -> pd.DataFrame:  # other columns reach enc.X, whose error names them
        return X[columns] if list(X.columns) == train_columns else X

    queries = {"val": enc.X(used(X_val), "X_val")}
    truths = {"val": y_val.to_numpy()}
    for name, (X_t, y_t) in test_sets.items():
        queries[name] = enc.X(used(as_frame(X_t, f"test set {name!r}")), f"test set {name!r}")
        truths[name] = np.asarray(y_t)
        enc.y(truths[name], f"labels of test set {name!r}")
    enc.y(truths["val"], "y_val")
    return queries, truths


def _optimizer_step(clf, batch, *, optimizer: torch.optim.Optimizer, params: list[torch.Tensor], lr: float,
                    grad_clip: float | None) -> float:
    """One optimizer step at ``lr`` on the cross-entropy of every ensemble member's query logits;
    returns the loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    logits_QBEL = clf.forward(batch.X_query, return_raw_logits=True)
    Q, B, E, L = logits_QBEL.shape
    logits_NLQ = logits_QBEL.permute(1, 2, 3, 0).reshape(B * E, L, Q)
    targets_NQ = batch.y_query.long().to(logits_QBEL.device).repeat(E, 1)
    loss = torch.nn.functional.cross_entropy(logits_NLQ, targets_NQ)
    loss.backward()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return float(loss.detach())


def _snapshot(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}


def finetune_loop(
    model,
    X_train,
    y_train,
    X_val,
    y_val,
    *,
    test_sets: Mapping[str, tuple[Any, Any]] | None,
    generator,
    config: FinetuneConfig,
    seed: int,
    progress: bool,
):
    """The loop; returns ``(FinetuneResult, evaluator at the best step, encoder, columns used)``; the
    evaluator's context cache is built on first use (:meth:`ContextEvaluator.fit_context`)."""
    timer = Timer()
    with timer("setup"):
        X_train, y_train, X_val, y_val, test_sets, seed = _checked_inputs(
            X_train, y_train, X_val, y_val, test_sets=test_sets, config=config, seed=seed)
        device = resolve_device(config.device)
        torch.manual_seed(seed)
        clf = make_classifier(model, n_estimators=config.n_estimators, seed=seed, device=device, fit_mode="batched",
                              mixed_precision=config.mixed_precision)
        train_columns = list(X_train.columns)
        columns = _usable_columns(train_columns, max_model_features(clf), seed)
        enc = Encoder.fit(X_train[columns], y_train)
        Xtr, ytr = enc.X(X_train[columns], "X_train"), enc.y(y_train, "y_train")
        queries, truths = _query_sets(enc, columns=columns, train_columns=train_columns, X_val=X_val, y_val=y_val,
                                      test_sets=test_sets)
        # Every feature reaches the model: configured ensemble sizes are minimums (SPEC).
        clf.n_estimators = n_members = ensemble_size(clf, len(columns), config.n_estimators)
        n_members_eval = ensemble_size(clf, len(columns), config.n_estimators_eval or config.n_estimators)
        clf.categorical_features_indices = enc.categorical_indices or None
        learning_rate = config.learning_rate or recommended_learning_rate(getattr(clf, "model_path", model))
        net = clf.models_[0]
        params = [p for p in net.parameters() if p.requires_grad]

    if generator is not None and config.max_steps > 0:
        if not hasattr(generator, "classes_"):  # a fitted generator (execute_run's) has no fit phase here
            with timer("generator_fit"):
                generator.fit(X_train, y_train)
        if list(generator.feature_names_in_) != train_columns:
            raise ValueError("The generator was fitted on other columns than X_train; fit it on X_train.")
    pool = None
    if generator is not None and config.synthetic_ratio > 0:
        pool = SyntheticPool(generator=generator, encoder=enc, columns=columns, rng=stream(seed, "synthetic"),
                             config=config)
    with timer("eval"):
        evaluator = ContextEvaluator(model, Xtr, ytr, categorical_indices=enc.categorical_indices,
                                     n_estimators=n_members_eval, seed=seed, device=device,
                                     chunk_rows=config.eval_chunk_rows, mixed_precision=config.mixed_precision)

    def evaluate(step: int, train_loss: float, lr: float) -> None:
        """Append the current weights' scores to the curve; keep the weights while they may be selected."""
        with timer("eval"):
            evaluator.load_weights(net)
            row = {"step": step, "train_loss": train_loss, "lr": lr}
            for name, X_q in queries.items():
                proba = evaluator.predict_proba(X_q, cache=True)
                row.update({f"{name}_{k}": v for k, v in classification_metrics(truths[name], proba, enc.classes).items()})
            curve.append(row)
        if config.max_steps:
            keep = selectable_steps(pd.DataFrame(curve), metric=config.early_stopping_metric)
            for s in set(kept) - set(keep):
                del kept[s]
            if step in keep:
                kept[step] = _snapshot(net)

    curve: list[dict[str, float]] = []
    kept: dict[int, dict[str, torch.Tensor]] = {}  # step -> weights, of the steps selectable_steps names
    evaluate(0, float("nan"), 0.0)
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=config.weight_decay)
    warmup_steps = int(config.warmup_fraction * config.max_steps)
    n_real = min(len(ytr), config.max_rows_per_step or len(ytr))
    partitions, losses, step, stopped_early = stream(seed, "partitions"), [], 0, False
    bar = _progress_bar(config.max_steps) if progress else None
    for step in range(1, config.max_steps + 1):
        ctx, qry = _split_rows(ytr, n_real, config.query_fraction, partitions)
        rows = Xtr[ctx], ytr[ctx], Xtr[qry], ytr[qry]
        if pool is not None:
            with timer("synthetic"):
                rows = pool.mix(*rows)
        with timer("preprocess"):
            batch = _step_batch(clf, *rows, seed)
            _fit_context(clf, batch)
        with timer("train"):
            lr = learning_rate * _lr_factor(step, config.max_steps, warmup_steps)
            losses.append(_optimizer_step(clf, batch, optimizer=optimizer, params=params, lr=lr,
                                          grad_clip=config.grad_clip))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if step % config.eval_every == 0 or step == config.max_steps:
            evaluate(step, float(np.mean(losses)), lr)
            losses = []
            if stopping_index(pd.DataFrame(curve), patience=config.patience, metric=config.early_stopping_metric,
                              min_delta=config.min_delta) is not None:
                stopped_early = True
                break
    if bar is not None:
        bar.close()

    frame = pd.DataFrame(curve)
    best_step = selected_step(frame, metric=config.early_stopping_metric)
    if best_step != step:  # restore the selected step (step 0: the untouched pre-trained weights)
        net.load_state_dict(kept[best_step])
        evaluator.load_weights(net)  # otherwise the evaluator already holds the last evaluated weights
    metric_cols = [c for c in frame.columns if c not in ("step", "train_loss", "lr")]
    best_row = curve[int(np.flatnonzero(frame["step"].to_numpy() == best_step)[0])]
    result = FinetuneResult(
        curve=frame, best_step=best_step, metrics_best={c: float(best_row[c]) for c in metric_cols},
        metrics_step0={c: float(curve[0][c]) for c in metric_cols}, timings=timer.timings(),
        n_params=int(sum(p.numel() for p in params)), device=device, n_steps=step, stopped_early=stopped_early,
        learning_rate=float(learning_rate), n_estimators=n_members, n_estimators_eval=n_members_eval,
        n_features_used=len(columns),
    )
    return result, evaluator, enc, columns


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="fine-tuning", unit="step", leave=False)


def finetune(
    model: Any,
    X_train: pd.DataFrame,
    y_train: Any,
    X_val: pd.DataFrame,
    y_val: Any,
    *,
    test_sets: Mapping[str, tuple[Any, Any]] | None = None,
    generator: Any = None,
    config: FinetuneConfig | None = None,
    seed: int = 0,
    progress: bool = False,
) -> FinetuneResult:
    """Fine-tune a TabPFN classifier on ``(X_train, y_train)``; early stopping on ``(X_val, y_val)``.

    Args:
        model: a model spec for :func:`causalmix.model.load_classifier` (``"causalmix-tiny"``,
            ``"tabpfn-v2"``, a checkpoint path) or a ``TabPFNClassifier`` (copied, not modified).
        X_train, y_train: the real training rows (a DataFrame; categorical columns as pandas
            ``category``, object or bool) and labels.
        X_val, y_val: validation rows, the early-stopping signal.
        test_sets: name -> ``(X, y)`` evaluated at every evaluation (curve columns ``{name}_*``).
        generator: a :mod:`causalmix.generators` generator (fitted on ``X_train, y_train``, or
            unfitted: then it is fitted here); ``None`` = default fine-tuning on real rows only.
        config: hyper-parameters (``None`` = ``FinetuneConfig()``).
        seed: seeds the splits, the synthetic draws, tabpfn's preprocessing and torch.
        progress: show a tqdm bar over the steps.

    Returns:
        A :class:`FinetuneResult`. Same inputs and seed -> the same numbers (on the same device).
    """
    result, *_ = finetune_loop(model, X_train, y_train, X_val, y_val, test_sets=test_sets, generator=generator,
                      config=config or FinetuneConfig(), seed=seed, progress=progress)
    return result
