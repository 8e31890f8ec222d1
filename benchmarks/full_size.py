"""The full-size TabPFN v2 classifier architecture on CPU: seconds per fine-tuning step and per
evaluation, and peak memory, at n_train 512 (random weights: the cost does not depend on them).

A randomly initialised checkpoint with tabpfn's own v2 sizes is written under the real v2 file name
into a temporary TABPFN_MODEL_CACHE_DIR, so ``model="tabpfn-v2"`` takes the real route.

    python benchmarks/full_size.py [--n-train 512] [--steps 3] [--out benchmarks/results/full_size.md]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="adult")
    parser.add_argument("--n-train", type=int, default=512)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="tabpfn-v2-")
    os.environ["TABPFN_MODEL_CACHE_DIR"] = cache  # before tabpfn reads its settings
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    from causalmix.data import load_dataset, low_data_split
    from causalmix.finetuning import FinetuneConfig, finetune
    from causalmix.model import TABPFN_V2_FILENAME, build_architecture, save_checkpoint
    from causalmix.provenance import git_commit, hardware

    torch.set_num_threads(args.threads)
    model, config = build_architecture({})
    save_checkpoint(model, config, Path(cache) / TABPFN_V2_FILENAME)
    split = low_data_split(load_dataset(args.dataset), n_train=args.n_train, seed=0, test_cap=1000)
    t = time.perf_counter()
    result = finetune("tabpfn-v2", split.X_train, split.y_train, split.X_val, split.y_val,
                      test_sets={"test": (split.X_test, split.y_test)},
                      config=FinetuneConfig(max_steps=args.steps, eval_every=args.steps, n_estimators=2,
                                            n_estimators_eval=4, device="cpu"), seed=0)
    wall = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tm = result.timings
    text = (f"# Full-size TabPFN v2 architecture on CPU ({result.n_params:,} parameters)\n\n"
            f"{args.dataset}, n_train {args.n_train} (context ~{int(0.8 * args.n_train)} rows per step), "
            f"{len(split.y_val)} validation + {len(split.y_test)} test rows per evaluation, ensembles "
            f"{result.n_estimators} (train) / {result.n_estimators_eval} (evaluation), {args.threads} torch "
            f"threads; {hardware()}; commit {git_commit(short=True)}.\n\n"
            f"| measure | value |\n|---|---|\n"
            f"| seconds per step (preprocessing + forward/backward) | {(tm['preprocess'] + tm['train']) / args.steps:.2f} |\n"
            f"| seconds per evaluation (validation + test) | {tm['eval'] / 2:.2f} |\n"
            f"| wall seconds for {args.steps} steps and 2 evaluations | {wall:.1f} |\n"
            f"| peak resident memory (MB) | {peak_mb:.0f} |\n")
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
