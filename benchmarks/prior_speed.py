"""How fast the SCM prior generates datasets, against the cost of one pretraining step.

Prints datasets per second at several row counts, and for the shipped recipe
(``causalmix/configs/pretrain.yaml``) the mean time to draw a step's batch beside the mean time of the
training step on it: generating should be a small share of a step.

    python benchmarks/prior_speed.py [--threads 1] [--steps 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from causalmix.model import build_architecture  # noqa: E402
from causalmix.pretraining import PretrainConfig, batch_for_step, batch_loss  # noqa: E402
from causalmix.prior import PriorConfig, benchmark_prior  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="training steps to time (%(default)s)")
    parser.add_argument("--config", type=Path, default=ROOT / "causalmix" / "configs" / "pretrain.yaml")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    print(f"prior throughput ({args.threads} thread(s), 16 datasets a batch, up to 30 features):")
    for n_rows in (64, 256, 1024):
        r = benchmark_prior(PriorConfig(), batch_size=16, n_rows=n_rows, n_batches=10)
        print(f"  {n_rows:5d} rows: {r['datasets_per_s']:8.0f} datasets/s ({1000 * r['batch_s']:.1f} ms a batch)")

    import yaml

    raw = yaml.safe_load(args.config.read_text())
    config = PretrainConfig.from_dict(raw)
    torch.manual_seed(0)
    model, _ = build_architecture(config.architecture())
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    t_prior = t_step = 0.0
    for step in range(args.steps):
        t0 = time.perf_counter()
        batch = batch_for_step(config, step)
        t1 = time.perf_counter()
        loss = batch_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        t_prior += t1 - t0
        t_step += time.perf_counter() - t1
    print(f"recipe {args.config.name}: drawing a step's batch {1000 * t_prior / args.steps:.1f} ms, "
          f"the training step on it {1000 * t_step / args.steps:.0f} ms "
          f"(prior = {100 * t_prior / (t_prior + t_step):.1f}% of a step)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
