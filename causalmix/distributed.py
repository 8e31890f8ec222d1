"""Sweeps on Ray: each run a Ray task, on one machine or a cluster, with the local backend's records,
resume and run-claim semantics (the results folder must be on storage every node sees).

    causalmix sweep causalmix/configs/full.yaml --backend ray --address auto --gpus-per-run 0.5

Each task claims its run, computes it and writes its record exactly as a local worker does
(:func:`causalmix.experiment.run_sweep`), so a Ray sweep, a local sweep and several of either can
share one folder. ``ray`` is an optional extra (``pip install causalmix[ray]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from causalmix.claims import claimed_run
from causalmix.runs import RunSpec

__all__ = ["run_on_ray"]


def _task(spec_dict: dict[str, Any], out_dir: str, stale_after_s: float, threads: int):
    import torch

    torch.set_num_threads(threads)
    return claimed_run(spec_dict, out_dir, stale_after_s)


def run_on_ray(specs: Sequence[RunSpec], out_dir: str, *, address: str | None, gpus_per_run: float,
               cpus_per_run: float, stale_after_s: float, on_done: Callable[[RunSpec, Any, str | None], None]) -> None:
    """Run every spec as a Ray task; ``on_done(spec, record_or_None, error)`` as each finishes.

    ``address``: a running cluster (``"auto"`` or ``"ray://host:port"``); ``None`` starts a local
    Ray instance for this sweep and stops it afterwards. ``gpus_per_run`` may be a fraction (several
    small runs share a GPU); Ray pins each task to its GPU(s) through ``CUDA_VISIBLE_DEVICES``.
    """
    try:
        import ray
    except ImportError:
        raise ValueError("The Ray backend needs the optional extra: pip install 'causalmix[ray]'.") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 **({} if address else {"object_store_memory": 200 * 2**20}))
    try:
        remote = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)(_task)
        threads = max(1, int(cpus_per_run))
        pending = {remote.remote(s.to_dict(), out_dir, stale_after_s, threads): s for s in specs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            spec = pending.pop(done[0])
            try:
                on_done(spec, ray.get(done[0]), None)
            except ray.exceptions.RayError as err:
                on_done(spec, None, f"ray task failed: {type(err).__name__}: {str(err).splitlines()[0][:300]}")
    finally:
        if started:
            ray.shutdown()
