"""Pretraining a small TabPFN-v2-architecture model on the SCM prior (the PFN recipe).

Each step draws a batch of synthetic datasets from :mod:`causalmix.prior`, feeds the train rows
with their labels and the query rows without, and minimises the cross-entropy of the query rows'
labels (over each dataset's classes only). AdamW, linear warmup then cosine decay, gradient
clipping. Batches are seeded by ``(seed, step)``, so a resumed run sees exactly the batches an
uninterrupted one would.

A run folder holds ``state.pt`` (model + optimizer + step, for resuming), ``loss.csv`` (the loss
curve), ``latest.ckpt`` and ``step_<N>.ckpt`` (tabpfn-format checkpoints that
``TabPFNClassifier(model_path=...)`` loads). ``--export PATH`` writes the final checkpoint plus a
sidecar ``PATH.json`` with the full recipe.

Command line (``python -m causalmix.pretraining --help``)::

    python -m causalmix.pretraining --config causalmix/configs/pretrain.yaml --out-dir runs/pretrain \\
        --export causalmix/weights/causalmix-tiny.ckpt

>>> main(["--out-dir", "/tmp/cm-doc", "--steps", "2", "--emsize", "16", "--nlayers", "1",
...       "--nhead", "1", "--batch-size", "2", "--max-rows", "64", "--overwrite", "--quiet"])
0
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import json
import math
import multiprocessing
import os
import shlex
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F

from causalmix.io import load_yaml, write_bytes_atomic
from causalmix.model import build_architecture, resolve_device, save_checkpoint
from causalmix.pretrain_config import PretrainConfig
from causalmix.prior import PriorBatch, PriorSource, draw_n_features, sample_batch
from causalmix.provenance import file_sha256, git_commit, machine

__all__ = ["PretrainConfig", "add_arguments", "batch_loss", "export_run", "main", "pretrain"]


def lr_at(config: PretrainConfig, step: int) -> float:
    """Learning rate of optimizer step ``step`` (0-based): linear warmup, then cosine decay."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


def batch_for_step(config: PretrainConfig, step: int) -> PriorBatch:
    """The prior batch of one step; a pure function of (seed, step)."""
    seed = config.seed * 1_000_003 + step
    g = torch.Generator().manual_seed(seed)
    prior = config.prior
    log_r = math.log(prior.min_rows) + torch.rand((), generator=g).item() * (
        math.log(prior.max_rows) - math.log(prior.min_rows)
    )
    n_rows = int(round(math.exp(log_r)))
    batch_size = max(1, min(config.batch_size, config.batch_rows // n_rows))
    if config.batch_cells is None:
        return sample_batch(prior, batch_size=batch_size, n_rows=n_rows, seed=seed)
    n_features = draw_n_features(prior, g)
    batch_size = max(1, min(batch_size, config.batch_cells // (n_rows * n_features)))
    return sample_batch(prior, batch_size=batch_size, n_rows=n_rows, n_features=n_features, seed=seed)


def prior_batches(config: PretrainConfig, first_step: int) -> Iterator[PriorBatch]:
    """The batches of steps ``first_step, first_step + 1, ...``, drawn ahead by ``config.prior_workers``
    processes (one torch thread each) or, with none, on demand."""
    if config.prior_workers < 1:
        yield from (batch_for_step(config, step) for step in itertools.count(first_step))
        return
    pool = ProcessPoolExecutor(config.prior_workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=torch.set_num_threads, initargs=(1,))
    steps = itertools.count(first_step)
    try:
        pending = deque(pool.submit(batch_for_step, config, next(steps)) for _ in range(2 * config.prior_workers))
        while True:
            batch = pending.popleft().result()
            pending.append(pool.submit(batch_for_step, config, next(steps)))
            yield batch
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def make_optimizers(model: torch.nn.Module, config: PretrainConfig) -> list[torch.optim.Optimizer]:
    """AdamW for every parameter, or Muon for the 2-D weight matrices plus AdamW for the rest."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adamw":
        return [torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)]
    if config.optimizer != "muon":
        raise ValueError(f"optimizer must be 'adamw' or 'muon', got {config.optimizer!r}.")
    matrices = [p for p in params if p.ndim == 2]
    rest = [p for p in params if p.ndim != 2]
    return [torch.optim.Muon(matrices, lr=config.lr, weight_decay=config.weight_decay, adjust_lr_fn="match_rms_adamw"),
            torch.optim.AdamW(rest, lr=config.lr, weight_decay=config.weight_decay)]


def batch_loss(model: torch.nn.Module, batch: PriorBatch) -> torch.Tensor:
    """The PFN loss: mean cross-entropy of the query rows, given the train rows.

    Logits of classes a dataset does not have are masked out, as tabpfn does at inference.
    """
    n = batch.single_eval_pos
    logits_TBC = model(batch.x_RBF, batch.y_RB[:n], only_return_standard_out=True)
    n_out = logits_TBC.shape[-1]
    absent_1BC = torch.arange(n_out, device=logits_TBC.device)[None, None, :] >= batch.n_classes_B[None, :, None]
    logits_TBC = logits_TBC.masked_fill(absent_1BC, float("-inf"))
    target_TB = batch.y_RB[n:].long()
    mask_TB = batch.loss_mask_RB[n:]
    loss_TB = F.cross_entropy(logits_TBC.flatten(0, 1), target_TB.flatten(), reduction="none").view_as(target_TB)
    return (loss_TB * mask_TB).sum() / mask_TB.sum().clamp_min(1)


def _training_code_commit() -> str:
    """The commit, dirty only when the prior or the training code itself has uncommitted edits."""
    return git_commit(paths=("causalmix/prior.py", "causalmix/rule_prior.py", "causalmix/pretrain_config.py",
                             "causalmix/pretraining.py"))


def inference_config(max_features: int | None) -> dict[str, Any] | None:
    """tabpfn's v2 classifier inference config, each member seeing at most ``max_features``.

    The small model was trained on at most ``max_features`` columns; the v2 default shows it
    every column plus SVD components. ``None``: no config (tabpfn applies its v2 default).
    """
    if max_features is None:
        return None
    from tabpfn.constants import ModelVersion
    from tabpfn.inference_config import InferenceConfig

    default = InferenceConfig.get_default("multiclass", ModelVersion.V2)
    transforms = [
        dataclasses.replace(p, append_original=False, global_transformer_name=None,
                            max_features_per_estimator=max_features)
        for p in default.PREPROCESS_TRANSFORMS
    ]
    return dataclasses.asdict(dataclasses.replace(default, PREPROCESS_TRANSFORMS=transforms))


def export_checkpoint(
    model: torch.nn.Module,
    arch_config: dict[str, Any],
    path: str | os.PathLike,
    *,
    recipe: dict[str, Any],
    inference: dict[str, Any] | None = None,
) -> Path:
    """Write a tabpfn-format checkpoint and its sidecar JSON recipe (``<path minus .ckpt>.json``).

    ``inference`` is stored as the checkpoint's ``inference_config`` (tabpfn uses it instead of
    its v2 default).
    """
    path = save_checkpoint(model, arch_config, path, extra=None if inference is None else {"inference_config": inference})
    sidecar = {**recipe, "architecture": arch_config, "sha256": file_sha256(path), "size_bytes": path.stat().st_size}
    write_bytes_atomic(path.with_suffix(".json"), (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode())
    return path


# Settings that change how a run is executed, not what it computes: free to differ on resume.
_RUNTIME_KEYS = frozenset({"max_minutes", "device", "threads", "checkpoint_every", "inference_max_features",
                           "prior_workers"})


def pretrain(
    config: PretrainConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    overwrite: bool = False,
    export: str | os.PathLike | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) a pretraining run in ``out_dir``; returns a summary dict.

    ``stop_after`` ends this call after that many steps (the schedule still spans
    ``config.steps``): an interruption on purpose, which ``resume=True`` continues.
    ``export`` writes the final model there (see :func:`export_run`); ``command`` is the
    command line recorded in its recipe.

    Raises:
        FileExistsError: ``out_dir`` already holds a run and neither ``resume`` nor ``overwrite``.
    """
    out_dir = Path(out_dir)
    state_path = out_dir / "state.pt"
    if state_path.exists() and not (resume or overwrite):
        raise FileExistsError(f"{out_dir} already holds a run; pass --resume to continue it or --overwrite.")
    out_dir.mkdir(parents=True, exist_ok=True)
    threads_before = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        return _pretrain(config, out_dir, resume=resume, overwrite=overwrite, export=export,
                         progress=progress, stop_after=stop_after, command=command)
    finally:
        torch.set_num_threads(threads_before)


def _pretrain(
    config: PretrainConfig,
    out_dir: Path,
    *,
    resume: bool,
    overwrite: bool,
    export: str | os.PathLike | None,
    progress: bool,
    stop_after: int | None,
    command: str | None,
) -> dict[str, Any]:
    from tqdm.auto import tqdm

    state_path = out_dir / "state.pt"
    device = resolve_device(config.device)

    torch.manual_seed(config.seed)
    model, arch_config = build_architecture(config.architecture())
    model.to(device)
    optimizers = make_optimizers(model, config)
    step, wall_before = 0, 0.0
    loss_csv = out_dir / "loss.csv"
    if resume and state_path.exists():
        state = load_state(state_path, map_location=device)
        saved_config = PretrainConfig.from_dict(state["config"]).to_dict()  # settings added since: defaults
        changed = sorted(k for k, v in config.to_dict().items() if k not in _RUNTIME_KEYS and saved_config[k] != v)
        if changed:
            raise ValueError(f"Cannot resume {out_dir}: the recipe differs in {changed}. Use a new --out-dir.")
        model.load_state_dict(state["model"])
        saved = state["optimizers"] if "optimizers" in state else [state["optimizer"]]
        for opt, opt_state in zip(optimizers, saved, strict=True):
            opt.load_state_dict(opt_state)
        step, wall_before = state["step"], state["wall_s"]
        # Drop loss rows logged after the saved state (the run died between checkpoints).
        if loss_csv.exists():
            rows = list(csv.reader(loss_csv.open()))
            kept = [rows[0]] + [r for r in rows[1:] if int(r[0]) < step]
            with loss_csv.open("w", newline="") as f:
                csv.writer(f).writerows(kept)
    elif overwrite or not loss_csv.exists():
        loss_csv.write_text("step,loss,lr,rows,batch_size,wall_s,prior_s\n")

    trained_by = _training_code_commit()  # of the code that trains (an export may happen later)
    inference = inference_config(config.inference_max_features)

    def save_state() -> None:
        tmp = state_path.with_name("state.pt.tmp")
        torch.save(
            {"model": model.state_dict(), "optimizers": [o.state_dict() for o in optimizers], "step": step,
             "wall_s": wall_before + time.perf_counter() - start, "config": config.to_dict(),
             "command": command, "git_commit": trained_by},
            tmp,
        )
        tmp.replace(state_path)
        extra = {"causalmix_step": step}
        if inference is not None:
            extra["inference_config"] = inference
        save_checkpoint(model, arch_config, out_dir / "latest.ckpt", extra=extra)
        save_checkpoint(model, arch_config, out_dir / f"step_{step:06d}.ckpt", extra=extra)

    model.train()
    start = time.perf_counter()
    deadline = None if config.max_minutes is None else start + 60 * config.max_minutes
    last_step = config.steps if stop_after is None else min(config.steps, step + stop_after)
    bar = tqdm(total=config.steps, initial=step, desc="pretrain", disable=not progress, dynamic_ncols=True)
    ema = None
    batches = prior_batches(config, step)
    with loss_csv.open("a", newline="") as f:
        writer = csv.writer(f)
        while step < last_step:
            if deadline is not None and time.perf_counter() > deadline:
                break
            waited = time.perf_counter()
            batch = next(batches).to(device)
            waited = time.perf_counter() - waited
            lr = lr_at(config, step)
            for opt in optimizers:
                for group in opt.param_groups:
                    group["lr"] = lr
            loss = batch_loss(model, batch)
            for opt in optimizers:
                opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            for opt in optimizers:
                opt.step()
            value = float(loss.detach())
            step += 1
            writer.writerow([step - 1, f"{value:.5f}", f"{lr:.3e}", batch.x_RBF.shape[0], batch.x_RBF.shape[1],
                             f"{wall_before + time.perf_counter() - start:.1f}", f"{waited:.3f}"])
            ema = value if ema is None else 0.98 * ema + 0.02 * value
            bar.update(1)
            bar.set_postfix(loss=f"{ema:.3f}", lr=f"{lr:.1e}")
            if step % 10 == 0:
                f.flush()
            if step % config.checkpoint_every == 0:
                f.flush()
                save_state()
    batches.close()
    bar.close()
    save_state()
    wall_s = wall_before + time.perf_counter() - start
    summary = {"steps_done": step, "steps": config.steps, "wall_s": round(wall_s, 1), "final_loss_ema": ema,
               "out_dir": str(out_dir)}
    if export is not None:
        summary["export"] = str(export_run(out_dir, export, command=command))
    return summary

def load_state(path: str | os.PathLike, *, map_location: Any = "cpu") -> dict[str, Any]:
    """A run folder's ``state.pt``, loaded with ``weights_only=True``: tensors, numbers, strings and
    containers only, so a crafted file in a (shared) run folder cannot execute code; ValueError
    naming the file for anything else."""
    import pickle

    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"Refusing to load {path}: it is not a plain pretraining state (tensors, numbers, strings), "
                         f"or it is truncated ({first[:200]}). Nothing in it was executed; start afresh with "
                         "--overwrite or point --out-dir at an intact run.") from None
    if not isinstance(state, dict) or not {"model", "step", "config"} <= set(state):
        raise ValueError(f"Refusing to load {path}: not a pretraining state (expected a dict with model, step, config).")
    return state


def export_run(
    out_dir: str | os.PathLike,
    path: str | os.PathLike,
    *,
    command: str | None = None,
    inference_max_features: int | None | Literal["recipe"] = "recipe",
) -> Path:
    """Export the model of a run folder's last saved state as a shippable checkpoint.

    Writes ``path`` (tabpfn format) and the sidecar ``path`` with ``.json``: architecture,
    full recipe and prior settings, steps done, batch size, seed, wall time, hardware, sha256
    and git commit. Works on a finished run and on one still in progress (its last state).
    ``inference_max_features`` overrides the recipe's (it does not change training).
    """
    state_path = Path(out_dir) / "state.pt"
    if not state_path.is_file():
        raise FileNotFoundError(f"No pretraining state in {out_dir} (expected {state_path}); run pretraining first.")
    state = load_state(state_path, map_location="cpu")
    config = PretrainConfig.from_dict(state["config"])
    if inference_max_features != "recipe":
        config = dataclasses.replace(config, inference_max_features=inference_max_features)
    model, arch_config = build_architecture(config.architecture())
    model.load_state_dict(state["model"])
    run_command = state.get("command") or command
    device = resolve_device(config.device)
    recipe = {
        "name": Path(path).stem,
        "recipe": config.to_dict(),
        "prior": config.prior.to_dict(),
        "steps": state["step"],
        "planned_steps": config.steps,
        "batch_size": config.batch_size,
        "batch_rows": config.batch_rows,
        "seed": config.seed,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "wall_time_s": round(state["wall_s"], 1),
        "hardware": {"device": device, **machine(device), "torch_threads": config.threads},  # the exporting machine
        "git_commit": state.get("git_commit") or _training_code_commit(),
        "command": run_command,
        "reproduce": run_command and _from_scratch(run_command, path),
    }
    inference = inference_config(config.inference_max_features)
    recipe["inference_preprocessing"] = None if inference is None else inference["PREPROCESS_TRANSFORMS"]
    return export_checkpoint(model, arch_config, path, recipe=recipe, inference=inference)


def _from_scratch(command: str, export: str | os.PathLike) -> str:
    """The run's command made to retrain from scratch into its folder and export to ``export``.

    >>> _from_scratch("python -m causalmix.pretraining --config c.yaml --out-dir r --resume", "w/m.ckpt")
    'python -m causalmix.pretraining --config c.yaml --out-dir r --overwrite --export w/m.ckpt'
    """
    tokens, kept = shlex.split(command), []
    while tokens:
        token = tokens.pop(0)
        if token == "--export":
            tokens = tokens[1:]
        elif token not in ("--resume", "--overwrite") and not token.startswith("--export="):
            kept.append(token)
    return shlex.join([*kept, "--overwrite", "--export", str(export)])


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The pretraining options, for ``python -m causalmix.pretraining`` and ``causalmix pretrain``."""
    d = PretrainConfig()
    p = d.prior
    parser.add_argument("--config", type=Path, help="YAML recipe (keys as the options below; `prior:` section); "
                        "options given on the command line win")
    parser.add_argument("--out-dir", type=Path, default=Path("runs/pretrain"), help="run folder (default %(default)s)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out-dir")
    parser.add_argument("--overwrite", action="store_true", help="start afresh even if --out-dir holds a run")
    parser.add_argument("--export", type=Path, help="write the final checkpoint here (+ sidecar .json)")
    parser.add_argument("--export-only", action="store_true",
                        help="no training: export the last saved state of --out-dir to --export")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--optimizer", choices=["adamw", "muon"], default=None, help=f"default {d.optimizer}")
    for name in ("emsize", "nlayers", "nhead", "features_per_group", "steps", "batch_size", "batch_rows",
                 "batch_cells", "warmup_steps", "seed", "checkpoint_every", "threads", "inference_max_features",
                 "prior_workers"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=None,
                            help=f"default {getattr(d, name)}")
    for name in ("lr", "weight_decay", "min_lr_ratio", "grad_clip", "max_minutes"):
        parser.add_argument("--" + name.replace("_", "-"), type=float, default=None,
                            help=f"default {getattr(d, name)}")
    parser.add_argument("--device", default=None, help=f"default {d.device}")
    for name in ("min_rows", "max_rows", "max_features", "max_classes"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=None,
                            help=f"prior setting, default {getattr(p, name)}")
    parser.add_argument("--prior-source", dest="source", choices=get_args(PriorSource), default=None,
                        help=f"the prior's data-generating mechanism, default {p.source}")
    return parser

_PRIOR_KEYS = ("min_rows", "max_rows", "max_features", "max_classes", "source")

def config_from_args(args: argparse.Namespace) -> PretrainConfig:
    """Defaults < YAML file < command-line options."""
    raw: dict[str, Any] = {}
    if args.config is not None:
        raw = load_yaml(args.config) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{args.config} must hold a mapping of settings.")
    raw = dict(raw)
    prior = dict(raw.pop("prior", None) or {})
    for f in dataclasses.fields(PretrainConfig):
        value = getattr(args, f.name, None)
        if f.name != "prior" and value is not None:
            raw[f.name] = value
    for k in _PRIOR_KEYS:
        if getattr(args, k) is not None:
            prior[k] = getattr(args, k)
    raw["prior"] = prior
    return PretrainConfig.from_dict(raw)

def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m causalmix.pretraining``; returns the exit status."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="causalmix pretrain", description=__doc__.split("\n\n")[0], allow_abbrev=False
    ))
    args = parser.parse_args(argv)
    command = "python -m causalmix.pretraining " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        if args.export_only:
            if args.export is None:
                raise ValueError("--export-only needs --export PATH.")
            override = "recipe" if args.inference_max_features is None else args.inference_max_features
            summary = {"export": str(export_run(args.out_dir, args.export, inference_max_features=override))}
        else:
            config = config_from_args(args)
            summary = pretrain(config, args.out_dir, resume=args.resume, overwrite=args.overwrite,
                               export=args.export, progress=not args.quiet, command=command)
    except (ValueError, FileExistsError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(json.dumps(summary, indent=2))
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
