"""Fine-tuning TabPFN on one small dataset, optionally mixing synthetic rows into the context.

One readable loop built on the tabpfn package's own fine-tuning pieces (``fit_mode="batched"``,
``get_preprocessed_dataset_chunks`` with our own context/query split, ``meta_dataset_collator``,
``fit_from_preprocessed``, ``forward(..., return_raw_logits=True)``):

- step 0 evaluates the pre-trained model;
- each step splits the real training rows (stratified) into context and query; an augmenting
  method adds ``synthetic_ratio`` synthetic rows per real context row, drawn fresh from the fitted
  generator, to the context; the query is real rows only (``synthetic_query=True`` lets synthetic
  rows into the query too); cross-entropy on the query, AdamW, linear warmup then cosine decay,
  gradient clipping;
- every ``eval_every`` steps the model is evaluated with all real training rows as context and
  the validation rows (and every test set) as queries, one row of the returned curve;
- early stopping on the validation metric with ``patience``; the result is the best validation
  step, restored (step 0 included: a run that never improves returns the pre-trained model).

>>> from causalmix.data import load_dataset, low_data_split
>>> split = low_data_split(load_dataset("adult"), n_train=128, seed=0, test_cap=500)   # doctest: +SKIP
>>> result = finetune("causalmix-tiny", split.X_train, split.y_train, split.X_val, split.y_val,
...                   test_sets={"test": (split.X_test, split.y_test)},
...                   config=FinetuneConfig(max_steps=20), seed=0)                     # doctest: +SKIP
>>> result.best_step, result.metrics_best["test_roc_auc"]                              # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from causalmix.metrics import classification_metrics

__all__ = ["CausalMixFinetunedClassifier", "FinetuneConfig", "FinetuneResult", "finetune"]

METRICS = ("roc_auc", "accuracy", "log_loss")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FinetuneConfig:
    """Hyper-parameters of one fine-tuning run (all keyword-only; defaults suit CPU and the tiny model).

    Args:
        max_steps: optimizer steps at most (50; 0 = the pre-trained model only). The cosine
            schedule spans exactly these steps.
        learning_rate: AdamW peak learning rate (1e-5, the tabpfn package's fine-tuning default,
            right for the real TabPFN v2 weights; small models tolerate 1e-4).
        weight_decay: AdamW weight decay (0.01, as the tabpfn package).
        warmup_fraction: share of ``max_steps`` with linear warmup (0.1, as the tabpfn package).
        grad_clip: gradient-norm clip (1.0, as the tabpfn package); ``None`` disables it.
        eval_every: evaluate every this many steps (5; the last step is always evaluated). Each
            evaluation costs about one forward pass over validation + test rows.
        patience: stop after this many evaluations without a validation improvement (4).
        early_stopping_metric: ``"roc_auc"`` (SPEC) or ``"log_loss"``; ties are broken by the
            other one, since ROC-AUC on a few dozen validation rows ties often.
        min_delta: smallest improvement of the early-stopping metric that counts (0.0).
        query_fraction: share of the real rows of a step that form the query (0.2, about 80/20
            as in Bühler et al.); every class keeps at least one row in the context.
        max_rows_per_step: cap on real rows (context + query) per step (1024; ``None`` = all),
            a random stratified subset when the training set is larger.
        synthetic_ratio: synthetic context rows per real context row (1.0, SPEC); ignored
            without a generator.
        synthetic_query: also put synthetic rows into the query, split like the real rows
            (False: SPEC keeps queries real).
        synthetic_pool_steps: synthetic rows are drawn for this many steps in one ``sample``
            call (10), then handed out step by step, so every step still gets rows no other
            step saw; one large draw costs about as much as one small one (e.g. an SCM draw of
            100 rows takes 0.13 s, of 1000 rows 0.16 s). 1 = a draw per step.
        n_estimators: TabPFN ensemble size while training (2, the tabpfn package's
            ``n_estimators_finetune``; keeps CPU steps cheap).
        n_estimators_eval: ensemble size of the evaluations (``None`` = ``n_estimators``).
        eval_chunk_rows: query rows per forward pass in evaluations (4096; bounds memory).
        device: ``"auto"`` (CUDA when visible), ``"cpu"`` or ``"cuda"``.
    """

    max_steps: int = 50
    learning_rate: float = 1e-5
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    grad_clip: float | None = 1.0
    eval_every: int = 5
    patience: int = 4
    early_stopping_metric: Literal["roc_auc", "log_loss"] = "roc_auc"
    min_delta: float = 0.0
    query_fraction: float = 0.2
    max_rows_per_step: int | None = 1024
    synthetic_ratio: float = 1.0
    synthetic_query: bool = False
    synthetic_pool_steps: int = 10
    n_estimators: int = 2
    n_estimators_eval: int | None = None
    eval_chunk_rows: int = 4096
    device: str = "auto"

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(f"FinetuneConfig: {what}.")

        need(isinstance(self.max_steps, int) and self.max_steps >= 0, f"max_steps must be an int >= 0, got {self.max_steps!r}")
        need(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate!r}")
        need(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay!r}")
        need(0 <= self.warmup_fraction < 1, f"warmup_fraction must be in [0, 1), got {self.warmup_fraction!r}")
        need(self.grad_clip is None or self.grad_clip > 0, f"grad_clip must be > 0 or None, got {self.grad_clip!r}")
        need(isinstance(self.eval_every, int) and self.eval_every >= 1, f"eval_every must be an int >= 1, got {self.eval_every!r}")
        need(isinstance(self.patience, int) and self.patience >= 1, f"patience must be an int >= 1, got {self.patience!r}")
        need(self.early_stopping_metric in ("roc_auc", "log_loss"),
             f"early_stopping_metric must be 'roc_auc' or 'log_loss', got {self.early_stopping_metric!r}")
        need(0 < self.query_fraction < 1, f"query_fraction must be in (0, 1), got {self.query_fraction!r}")
        need(self.max_rows_per_step is None or self.max_rows_per_step >= 4,
             f"max_rows_per_step must be >= 4 or None, got {self.max_rows_per_step!r}")
        need(self.synthetic_ratio >= 0, f"synthetic_ratio must be >= 0, got {self.synthetic_ratio!r}")
        need(isinstance(self.synthetic_pool_steps, int) and self.synthetic_pool_steps >= 1,
             f"synthetic_pool_steps must be an int >= 1, got {self.synthetic_pool_steps!r}")
        need(isinstance(self.n_estimators, int) and self.n_estimators >= 1, f"n_estimators must be an int >= 1, got {self.n_estimators!r}")
        need(self.n_estimators_eval is None or self.n_estimators_eval >= 1,
             f"n_estimators_eval must be >= 1 or None, got {self.n_estimators_eval!r}")
        need(self.eval_chunk_rows >= 1, f"eval_chunk_rows must be >= 1, got {self.eval_chunk_rows!r}")

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> FinetuneConfig:
        """Build from a flat mapping (e.g. a YAML section); unknown keys are an error naming them."""
        params = dict(params or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"Unknown fine-tuning parameters {unknown}; valid: {sorted(known)}.")
        return cls(**params)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class FinetuneResult:
    """What one fine-tuning run returns.

    Attributes:
        curve: one row per evaluation: ``step``, ``train_loss`` (mean query loss of the steps
            since the previous evaluation; NaN at step 0), ``lr``, ``val_{roc_auc,accuracy,log_loss}``
            and ``{T}_{roc_auc,accuracy,log_loss}`` for every test set ``T``.
        best_step: the validation-selected step (0 = the pre-trained model).
        metrics_best: the curve's metric columns at ``best_step``.
        metrics_step0: the same at step 0.
        timings: seconds per phase (``setup``, ``generator_fit``, ``synthetic``, ``preprocess``,
            ``train``, ``eval``, ``total``).
        n_params: trainable parameters of the model.
        device: the device the run used.
        n_steps: optimizer steps taken (fewer than ``max_steps`` after early stopping).
        stopped_early: whether patience ran out.
    """

    curve: pd.DataFrame
    best_step: int
    metrics_best: dict[str, float]
    metrics_step0: dict[str, float]
    timings: dict[str, float]
    n_params: int
    device: str
    n_steps: int = 0
    stopped_early: bool = False


# --- encoding: DataFrames -> float arrays tabpfn takes, identically for real and synthetic rows ---


@dataclasses.dataclass(frozen=True)
class _Encoder:
    """Column order, categorical levels (from the training frame) and classes, fixed once.

    Categorical columns become float codes into the training frame's levels (unseen or missing
    values: NaN), so real, synthetic, validation and test rows are encoded identically.
    """

    columns: tuple[str, ...]
    levels: dict[str, tuple]  # categorical column -> levels, in code order
    classes: np.ndarray

    @classmethod
    def fit(cls, X: pd.DataFrame, y: pd.Series) -> _Encoder:
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
        return [i for i, c in enumerate(self.columns) if c in self.levels]

    def X(self, X: pd.DataFrame, what: str) -> np.ndarray:
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


def _as_frame(X: Any, what: str) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True)
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-dimensional (rows x features), got shape {arr.shape}.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


# --- the tabpfn pieces --------------------------------------------------------------------------


def _preprocess(clf, X_ctx: np.ndarray, y_ctx: np.ndarray, X_qry: np.ndarray, y_qry: np.ndarray, seed: int):
    """tabpfn's own preprocessing of one (context, query) pair -> a collated ``ClassifierBatch``.

    The split function receives the rows exactly as we stacked them (no shuffling, no chunking)
    and cuts at the context size, so we decide which rows are context and which are query.
    """
    from tabpfn.finetuning.data_util import get_preprocessed_dataset_chunks, meta_dataset_collator

    n_ctx = len(X_ctx)

    def split_fn(X, y, stratify=None):  # noqa: ARG001 - tabpfn passes stratify; we split ourselves
        return X[:n_ctx], X[n_ctx:], y[:n_ctx], y[n_ctx:]

    chunks = get_preprocessed_dataset_chunks(
        clf, np.concatenate([X_ctx, X_qry]), np.concatenate([y_ctx, y_qry]), split_fn,
        max_data_size=None, model_type="classifier", equal_split_size=False,
        data_shuffle_seed=seed, preprocessing_random_state=seed, shuffle=False,
    )
    return meta_dataset_collator([chunks[0]])


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


class _Evaluator:
    """Predicts many query sets with all real training rows as the context.

    The context and the query rows never change during a run, and tabpfn's preprocessing is
    seeded, so it is done once; each evaluation is then one ``fit_from_preprocessed`` plus
    forward passes with the current weights.
    """

    def __init__(self, clf, X_train: np.ndarray, y_train: np.ndarray, queries: dict[str, np.ndarray],
                 *, n_estimators: int, seed: int, chunk_rows: int):
        self.names = list(queries)
        self.sizes = [len(queries[k]) for k in self.names]
        X_q = np.concatenate([queries[k] for k in self.names]) if self.names else X_train[:0]
        # Query labels are never read; zeros keep tabpfn's label encoder on the training classes.
        trained = clf.n_estimators
        clf.n_estimators = n_estimators
        try:
            self.batch = _preprocess(clf, X_train, y_train, X_q, np.zeros(len(X_q), dtype=np.int64), seed)
        finally:
            clf.n_estimators = trained
        self.chunk_rows = chunk_rows

    @torch.no_grad()
    def predict_proba(self, clf) -> dict[str, np.ndarray]:
        _fit_context(clf, self.batch)
        n = sum(self.sizes)
        parts = []
        for start in range(0, n, self.chunk_rows):
            X_q = [x_BQF[:, start : start + self.chunk_rows] for x_BQF in self.batch.X_query]
            proba_QBL = clf.forward(X_q, use_inference_mode=True)
            parts.append(proba_QBL[:, 0, :].float().cpu().numpy())
        proba = np.concatenate(parts) if parts else np.zeros((0, clf.n_classes_))
        out, start = {}, 0
        for name, size in zip(self.names, self.sizes):
            out[name] = proba[start : start + size]
            start += size
        return out


def _load(model, *, n_estimators: int, device: str, seed: int, categorical_indices: list[int]):
    from causalmix.model import load_classifier

    if hasattr(model, "predict_proba") and hasattr(model, "fit_from_preprocessed"):
        clf = copy.deepcopy(model)  # never train the caller's classifier in place
        clf.n_estimators, clf.random_state, clf.fit_mode = n_estimators, seed, "batched"
        clf.device = device
    else:
        clf = load_classifier(model, device=device, n_estimators=n_estimators, fit_mode="batched", random_state=seed)
    clf.categorical_features_indices = categorical_indices or None
    clf.show_progress_bar = False
    clf._initialize_model_variables()
    return clf


def _run(
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
    """The loop; returns ``(FinetuneResult, fitted classifier, encoder, evaluator)``."""
    from causalmix.model import resolve_device

    t_start = time.perf_counter()
    timings = dict.fromkeys(("setup", "generator_fit", "synthetic", "preprocess", "train", "eval"), 0.0)
    if not isinstance(config, FinetuneConfig):
        raise TypeError(f"config must be a FinetuneConfig, got {type(config).__name__}; use FinetuneConfig(...).")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}.")
    seed = int(seed)
    X_train, X_val = _as_frame(X_train, "X_train"), _as_frame(X_val, "X_val")
    y_train, y_val = pd.Series(np.asarray(y_train)), pd.Series(np.asarray(y_val))
    if len(X_train) != len(y_train) or len(X_val) != len(y_val):
        raise ValueError(f"X and y lengths differ: train {len(X_train)} vs {len(y_train)}, val {len(X_val)} vs {len(y_val)}.")
    if y_train.nunique() < 2:
        raise ValueError("y_train holds fewer than 2 classes; fine-tuning a classifier needs at least 2.")
    test_sets = dict(test_sets or {})
    if "val" in test_sets:
        raise ValueError("'val' is reserved for the validation set; rename that test set.")

    enc = _Encoder.fit(X_train, y_train)
    Xtr, ytr = enc.X(X_train, "X_train"), enc.y(y_train, "y_train")
    queries = {"val": enc.X(X_val, "X_val")}
    truths = {"val": y_val.to_numpy()}
    for name, (X_t, y_t) in test_sets.items():
        queries[name] = enc.X(_as_frame(X_t, f"test set {name!r}"), f"test set {name!r}")
        truths[name] = np.asarray(y_t)
        enc.y(truths[name], f"labels of test set {name!r}")
    enc.y(truths["val"], "y_val")

    device = resolve_device(config.device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    clf = _load(model, n_estimators=config.n_estimators, device=device, seed=seed,
                categorical_indices=enc.categorical_indices)
    net = clf.models_[0]
    params = [p for p in net.parameters() if p.requires_grad]
    n_params = int(sum(p.numel() for p in params))
    timings["setup"] += time.perf_counter() - t_start

    if generator is not None and config.max_steps > 0:
        t = time.perf_counter()
        if not hasattr(generator, "classes_"):
            generator.fit(X_train, y_train)
        if list(generator.feature_names_in_) != list(enc.columns):
            raise ValueError("The generator was fitted on other columns than X_train; fit it on X_train.")
        timings["generator_fit"] += time.perf_counter() - t

    t = time.perf_counter()
    evaluator = _Evaluator(clf, Xtr, ytr, queries, n_estimators=config.n_estimators_eval or config.n_estimators,
                           seed=seed, chunk_rows=config.eval_chunk_rows)
    timings["eval"] += time.perf_counter() - t

    def evaluate(step: int, train_loss: float, lr: float) -> dict[str, float]:
        t = time.perf_counter()
        proba = evaluator.predict_proba(clf)
        row = {"step": step, "train_loss": train_loss, "lr": lr}
        for name, p in proba.items():
            for k, v in classification_metrics(truths[name], p, enc.classes).items():
                row[f"{name}_{k}"] = v
        timings["eval"] += time.perf_counter() - t
        return row

    def key(row: dict[str, float]) -> tuple[float, float]:
        """Larger is better: (primary, tie-break); NaN counts as worst."""
        auc, ll = row["val_roc_auc"], -row["val_log_loss"]
        auc, ll = (-np.inf if np.isnan(auc) else auc), (-np.inf if np.isnan(ll) else ll)
        return (auc, ll) if config.early_stopping_metric == "roc_auc" else (ll, auc)

    curve = [evaluate(0, float("nan"), 0.0)]

    def snapshot() -> dict[str, torch.Tensor]:
        return {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}

    best_row, best_state, bad_evals = curve[0], (snapshot() if config.max_steps else None), 0
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    warmup_steps = int(config.warmup_fraction * config.max_steps)
    n_real = min(len(ytr), config.max_rows_per_step or len(ytr))
    losses: list[float] = []
    step, stopped_early = 0, False
    pool_X, pool_y, pool_at = Xtr[:0], ytr[:0], 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.max_steps, desc="fine-tuning", unit="step", leave=False)
    for step in range(1, config.max_steps + 1):
        # --- the step's data: real context/query split, fresh synthetic context rows ---
        ctx, qry = _split_rows(ytr, n_real, config.query_fraction, rng)
        X_ctx, y_ctx, X_qry, y_qry = Xtr[ctx], ytr[ctx], Xtr[qry], ytr[qry]
        if generator is not None and config.synthetic_ratio > 0:
            t = time.perf_counter()
            n_syn = int(round(config.synthetic_ratio * (len(ctx) + (len(qry) if config.synthetic_query else 0))))
            if len(pool_y) - pool_at < n_syn:  # refill: one draw for the next synthetic_pool_steps steps
                X_syn, y_syn = generator.sample(n_syn * config.synthetic_pool_steps, random_state=int(rng.integers(2**31 - 1)))
                pool_X, pool_y, pool_at = enc.X(X_syn.reset_index(drop=True), "synthetic rows"), enc.y(y_syn, "synthetic labels"), 0
            Xs, ys = pool_X[pool_at : pool_at + n_syn], pool_y[pool_at : pool_at + n_syn]
            pool_at += n_syn
            if config.synthetic_query and len(ys):
                to_query = rng.random(len(ys)) < config.query_fraction
                X_qry, y_qry = np.concatenate([X_qry, Xs[to_query]]), np.concatenate([y_qry, ys[to_query]])
                Xs, ys = Xs[~to_query], ys[~to_query]
            X_ctx, y_ctx = np.concatenate([X_ctx, Xs]), np.concatenate([y_ctx, ys])
            timings["synthetic"] += time.perf_counter() - t

        t = time.perf_counter()
        batch = _preprocess(clf, X_ctx, y_ctx, X_qry, y_qry, seed)
        _fit_context(clf, batch)
        timings["preprocess"] += time.perf_counter() - t

        # --- one optimizer step on the query cross-entropy ---
        t = time.perf_counter()
        lr = config.learning_rate * _lr_factor(step, config.max_steps, warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        logits_QBEL = clf.forward(batch.X_query, return_raw_logits=True)
        Q, B, E, L = logits_QBEL.shape
        logits_NLQ = logits_QBEL.permute(1, 2, 3, 0).reshape(B * E, L, Q)
        targets_NQ = batch.y_query.long().to(logits_QBEL.device).repeat(E, 1)
        loss = torch.nn.functional.cross_entropy(logits_NLQ, targets_NQ)
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        losses.append(float(loss.detach()))
        timings["train"] += time.perf_counter() - t
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")

        # --- evaluation and early stopping ---
        if step % config.eval_every == 0 or step == config.max_steps:
            row = evaluate(step, float(np.mean(losses)), lr)
            losses = []
            curve.append(row)
            if key(row)[0] > key(best_row)[0] + config.min_delta or (
                key(row)[0] == key(best_row)[0] and key(row)[1] > key(best_row)[1]
            ):
                best_row, best_state, bad_evals = row, snapshot(), 0
            else:
                bad_evals += 1
                if bad_evals >= config.patience:
                    stopped_early = True
                    break
    if bar is not None:
        bar.close()

    if best_row["step"] != step:  # restore the best step (step 0: the untouched pre-trained weights)
        net.load_state_dict(best_state)

    frame = pd.DataFrame(curve)
    metric_cols = [c for c in frame.columns if c not in ("step", "train_loss", "lr")]
    timings["total"] = time.perf_counter() - t_start
    result = FinetuneResult(
        curve=frame,
        best_step=int(best_row["step"]),
        metrics_best={c: float(best_row[c]) for c in metric_cols},
        metrics_step0={c: float(curve[0][c]) for c in metric_cols},
        timings={k: round(v, 4) for k, v in timings.items()},
        n_params=n_params,
        device=device,
        n_steps=step if config.max_steps else 0,
        stopped_early=stopped_early,
    )
    return result, clf, enc, evaluator


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
    result, *_ = _run(model, X_train, y_train, X_val, y_val, test_sets=test_sets, generator=generator,
                      config=config or FinetuneConfig(), seed=seed, progress=progress)
    return result


class CausalMixFinetunedClassifier:
    """scikit-learn-style classifier: TabPFN fine-tuned with (optionally) synthetic context rows.

    >>> clf = CausalMixFinetunedClassifier(generator="causalmix", config=FinetuneConfig(max_steps=20))  # doctest: +SKIP
    >>> clf.fit(X_train, y_train, X_val, y_val).predict_proba(X_test)                                 # doctest: +SKIP

    Args:
        model: model spec or ``TabPFNClassifier`` (default ``"causalmix-tiny"``, the shipped
            offline checkpoint).
        generator: ``None`` (default fine-tuning: real rows only), a registry name of
            :func:`causalmix.generators.make_generator` (e.g. ``"causalmix"``, ``"smote"``) or a
            generator instance.
        generator_params: keyword parameters for a generator given by name (default none).
        config: :class:`FinetuneConfig` (``None`` = its defaults).
        random_state: the run's seed (0).

    Fitted attributes: ``classes_``, ``result_`` (:class:`FinetuneResult`), ``classifier_`` (the
    fine-tuned ``TabPFNClassifier`` at the best step), ``generator_``.
    """

    def __init__(self, *, model: Any = "causalmix-tiny", generator: Any = None,
                 generator_params: dict[str, Any] | None = None, config: FinetuneConfig | None = None,
                 random_state: int = 0):
        self.model = model
        self.generator = generator
        self.generator_params = generator_params
        self.config = config
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:  # noqa: ARG002 - sklearn signature
        return {k: getattr(self, k) for k in ("model", "generator", "generator_params", "config", "random_state")}

    def fit(self, X: pd.DataFrame, y: Any, X_val: pd.DataFrame | None = None, y_val: Any = None,
            *, progress: bool = False) -> CausalMixFinetunedClassifier:
        """Fine-tune on ``(X, y)``; without ``X_val`` a stratified quarter of ``X`` (at least two rows
        per class) is held out for early stopping. Returns ``self``."""
        X = _as_frame(X, "X")
        y = pd.Series(np.asarray(y))
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither (a validation split is then held out).")
        if X_val is None:
            from sklearn.model_selection import train_test_split

            n_val = max(len(y) // 4, 2 * y.nunique())
            idx_tr, idx_val = train_test_split(np.arange(len(y)), test_size=n_val, stratify=y,
                                               random_state=self.random_state)
            X, X_val, y, y_val = X.iloc[idx_tr], X.iloc[idx_val], y.iloc[idx_tr], y.iloc[idx_val]
        gen = self.generator
        if isinstance(gen, str):
            from causalmix.generators import make_generator

            gen = make_generator(gen, **(self.generator_params or {}))
        elif gen is not None:
            gen = copy.deepcopy(gen)
        self.result_, self.classifier_, self._encoder, evaluator = _run(
            self.model, X, y, X_val, y_val, test_sets=None, generator=gen,
            config=self.config or FinetuneConfig(), seed=self.random_state, progress=progress,
        )
        self._X_train, self._y_train = self._encoder.X(_as_frame(X, "X"), "X"), self._encoder.y(y, "y")
        self.generator_ = gen
        self.classes_ = self._encoder.classes
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``; the training rows are the context."""
        if not hasattr(self, "classifier_"):
            raise RuntimeError("This CausalMixFinetunedClassifier is not fitted yet: call fit(X, y) first.")
        Xq = self._encoder.X(_as_frame(X, "X"), "X")
        cfg = self.config or FinetuneConfig()
        evaluator = _Evaluator(self.classifier_, self._X_train, self._y_train, {"X": Xq},
                               n_estimators=cfg.n_estimators_eval or cfg.n_estimators,
                               seed=self.random_state, chunk_rows=cfg.eval_chunk_rows)
        return evaluator.predict_proba(self.classifier_)["X"]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
