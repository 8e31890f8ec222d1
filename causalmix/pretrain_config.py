"""A pretraining recipe (:class:`PretrainConfig`): the architecture, the optimisation, the prior's
settings and the run's own (time budget, threads, checkpoints), validated in one place; the loop that
follows it is :mod:`causalmix.pretraining`.

>>> PretrainConfig.from_dict({"steps": 10, "prior": {"max_rows": 64}}).prior.max_rows
64
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from causalmix.prior import PriorConfig

__all__ = ["PretrainConfig"]


@dataclass(frozen=True, kw_only=True)
class PretrainConfig:
    """The full pretraining recipe.

    Args:
        emsize, nlayers, nhead, features_per_group: the v2 architecture (96/4/4/2: about
            0.6M parameters, a size 2 CPU cores can train usefully in an hour).
        steps: optimizer steps; the cosine schedule spans exactly these.
        batch_size: datasets per step at most.
        batch_rows: cap on rows x datasets per step; long datasets get smaller batches so a
            step's cost stays roughly constant (``batch = min(batch_size, batch_rows // rows)``).
        lr, weight_decay, warmup_steps, min_lr_ratio, grad_clip: the optimizer and its schedule.
        optimizer: ``"adamw"``, or ``"muon"``: ``torch.optim.Muon`` for the 2-D weight matrices
            (learning rates matched to AdamW's RMS) and AdamW for the rest (measured +0.017
            median zero-shot ROC-AUC at equal CPU time on the 17 shared datasets).
        batch_cells: cap on rows x features x datasets per step (``None``: no cap); with wide
            tables in the prior it keeps a step's cost bounded, as ``batch_rows`` does for rows.
        seed: seeds the initial weights and every batch.
        checkpoint_every: steps between checkpoints (and ``state.pt`` saves).
        max_minutes: stop (saving) after this wall time even if ``steps`` are not done;
            ``None`` for no limit. A later ``--resume`` continues.
        device: ``"auto"`` uses CUDA when present.
        threads: torch CPU threads (``None`` keeps torch's default).
        prior_workers: processes that draw the next batches from the prior while the trainer
            steps (0: drawn in the trainer, between steps). Batches are a pure function of
            ``(seed, step)``, so the model is the same either way; ``loss.csv``'s ``prior_s``
            column records how long each step waited for its batch.
        inference_max_features: the exported checkpoint carries tabpfn's v2 inference config
            with each ensemble member limited to this many features and without the SVD
            features (20, the prior's width: measured +0.03 mean ROC-AUC on 8 real datasets
            over the v2 default). ``None`` leaves tabpfn's v2 default.
        prior: the prior's settings.
    """

    emsize: int = 96
    nlayers: int = 4
    nhead: int = 4
    features_per_group: int = 2
    steps: int = 2000
    batch_size: int = 16
    batch_rows: int = 4096
    lr: float = 1e-3
    optimizer: Literal["adamw", "muon"] = "adamw"
    batch_cells: int | None = None
    weight_decay: float = 0.01
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_every: int = 100
    max_minutes: float | None = None
    device: str = "auto"
    threads: int | None = None
    prior_workers: int = 0
    inference_max_features: int | None = 20
    prior: PriorConfig = field(default_factory=PriorConfig)

    def __post_init__(self) -> None:
        """Types and ranges, with the setting named: a bad recipe fails before a step or a file."""
        import math

        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(f"pretraining setting {what}")

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        for name, smallest in (("emsize", 1), ("nlayers", 1), ("nhead", 1), ("features_per_group", 1), ("steps", 1),
                               ("batch_size", 1), ("batch_rows", 1), ("warmup_steps", 0), ("seed", 0),
                               ("checkpoint_every", 1), ("prior_workers", 0)):
            v = getattr(self, name)
            need(is_int(v) and v >= smallest, f"{name} must be an int >= {smallest}, got {v!r}.")
        for name in ("batch_cells", "threads", "inference_max_features"):
            v = getattr(self, name)
            need(v is None or (is_int(v) and v >= 1), f"{name} must be an int >= 1 or null, got {v!r}.")
        for name, low in (("lr", 0.0), ("weight_decay", -1.0), ("min_lr_ratio", -1.0), ("grad_clip", 0.0)):
            v = getattr(self, name)
            need(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > low
                 and (name != "weight_decay" or v >= 0) and (name != "min_lr_ratio" or 0 <= v <= 1),
                 f"{name} must be a finite number{' > 0' if low == 0 else ' >= 0'}, got {v!r}.")
        need(self.max_minutes is None or (isinstance(self.max_minutes, (int, float)) and not isinstance(
            self.max_minutes, bool) and math.isfinite(self.max_minutes) and self.max_minutes > 0),
            f"max_minutes must be a finite number > 0 or null, got {self.max_minutes!r}.")
        need(self.optimizer in ("adamw", "muon"), f"optimizer must be 'adamw' or 'muon', got {self.optimizer!r}.")
        need(isinstance(self.device, str), f"device must be a string, got {self.device!r}.")
        need(self.emsize % self.nhead == 0, f"emsize ({self.emsize}) must be a multiple of nhead ({self.nhead}).")

    def architecture(self) -> dict[str, Any]:
        return {
            "emsize": self.emsize,
            "nlayers": self.nlayers,
            "nhead": self.nhead,
            "features_per_group": self.features_per_group,
        }

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PretrainConfig":
        d = dict(d)
        prior = d.pop("prior", None) or {}
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"Unknown pretraining settings {sorted(unknown)}; see `python -m causalmix.pretraining --help`.")
        if not isinstance(prior, dict):
            raise ValueError(f"pretraining setting prior must be a mapping, got {prior!r}.")
        prior = {k: tuple(v) if isinstance(v, list) else v for k, v in prior.items()}
        try:
            return cls(**d, prior=PriorConfig(**prior))
        except TypeError as err:  # an unknown prior setting
            raise ValueError(f"pretraining prior settings: {err}.") from None
