"""The fine-tuning loop's settings (:class:`FinetuneConfig`, validated in one place, defaults with
their reasons) and what a run returns (:class:`FinetuneResult`), apart from the loop itself
(:mod:`causalmix.finetuning`) so that configuration code reads them without the loop.

>>> FinetuneConfig.from_dict({"max_steps": 20}).max_steps
20
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["METRICS", "FinetuneConfig", "FinetuneResult"]

METRICS = ("roc_auc", "accuracy", "balanced_accuracy", "log_loss")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FinetuneConfig:
    """Hyper-parameters of one fine-tuning run (all keyword-only; defaults suit CPU and the tiny model).

    Args:
        max_steps: optimizer steps at most (50; 0 = the pre-trained model only). The cosine
            schedule spans exactly these steps.
        learning_rate: AdamW peak learning rate; ``None`` (default) = the model's recommended
            rate (:func:`causalmix.model.recommended_learning_rate`: a shipped checkpoint's
            measured rate from its sidecar, 1e-5 for ``tabpfn-v2``, the tabpfn package's default).
        weight_decay: AdamW weight decay (0.01, as the tabpfn package).
        warmup_fraction: share of ``max_steps`` with linear warmup (0.1, as the tabpfn package).
        grad_clip: gradient-norm clip (1.0, as the tabpfn package); ``None`` disables it.
        eval_every: evaluate every this many steps (5; the last step is always evaluated). Each
            evaluation costs about one forward pass over validation + test rows.
        patience: stop after this many evaluations without a validation improvement (4): without
            one that becomes the selected step (:func:`causalmix.selection.stopping_index`).
        early_stopping_metric: ``"roc_auc"`` (SPEC) or ``"log_loss"``; ties within
            :data:`causalmix.selection.EPSILON` are broken by the other one, since ROC-AUC on a few
            dozen validation rows ties often; the earliest of tied steps is selected
            (:func:`causalmix.selection.selected_step`).
        min_delta: smallest improvement of the early-stopping metric that resets patience (0.0:
            any improvement larger than ``EPSILON``).
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
        n_estimators: smallest TabPFN ensemble while training (2, the tabpfn package's
            ``n_estimators_finetune``; keeps CPU steps cheap); raised per dataset until the
            members' feature caps cover every column (the size used is in the result).
        n_estimators_eval: smallest ensemble of the evaluations (``None`` = ``n_estimators``),
            raised the same way.
        eval_chunk_rows: query rows per forward pass in evaluations (4096; bounds memory).
        device: ``"auto"`` (CUDA when visible), ``"cpu"`` or ``"cuda"``.
        mixed_precision: run steps and evaluations under tabpfn's autocast (half precision on a
            GPU; False, the default: float32 everywhere, as the offline CPU runs).
    """

    max_steps: int = 50
    learning_rate: float | None = None
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
    mixed_precision: bool = False

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(f"FinetuneConfig: {what}.")

        for f in dataclasses.fields(self):  # types first (a YAML/--set value of the wrong type names its key)
            v, kind = getattr(self, f.name), str(f.type).split(" | ")[0]
            if v is None and "None" in str(f.type):
                continue
            if kind == "int":
                ok = isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
            elif kind == "float":
                ok = (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      and math.isfinite(v))
                kind = "a finite number"
            elif kind == "bool":
                ok = isinstance(v, (bool, np.bool_))
            else:
                ok, kind = isinstance(v, str), "a string"
            need(ok, f"{f.name} must be {'an int' if kind == 'int' else 'a bool' if kind == 'bool' else kind}"
                     f"{' or null' if 'None' in str(f.type) else ''}, got {v!r}")
        need(isinstance(self.max_steps, int) and self.max_steps >= 0, f"max_steps must be an int >= 0, got {self.max_steps!r}")
        need(self.learning_rate is None or self.learning_rate > 0, f"learning_rate must be > 0 or None, got {self.learning_rate!r}")
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
        timings: wall seconds per phase (``setup``, ``generator_fit``, ``synthetic``, ``preprocess``,
            ``train``, ``eval``, ``total``) and process CPU seconds (all threads) as ``cpu_<phase>``
            for the phases that ran and ``cpu_total`` (:class:`Timer`).
        n_params: trainable parameters of the model.
        device: the device the run used.
        n_steps: optimizer steps taken (fewer than ``max_steps`` after early stopping).
        stopped_early: whether patience ran out.
        learning_rate: the peak learning rate used (the model's recommended one when unset).
        n_estimators, n_estimators_eval: ensemble sizes used (configured minimums, raised to
            cover every feature).
        n_features_used: columns the model saw (all, unless the table is wider than it accepts).
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
    learning_rate: float = math.nan
    n_estimators: int = 0
    n_estimators_eval: int = 0
    n_features_used: int = 0
