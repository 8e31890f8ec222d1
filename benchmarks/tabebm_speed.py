"""TabEBM's SGLD with PAPER_SETTINGS: where its CPU time goes, and which savings keep the rows bit for bit.

Two parts, both on datasets of the exploratory study only (``causalmix/configs/standard.yaml``):

- profile: ``cProfile`` of one ``fit_resample`` (the 1,024-row pool's chains, ``--profile-steps`` SGLD
  steps; the cost per step does not change over the chain) on each ``--profile`` split, and torch's
  operator profile of a few steps of the first one;
- variants: ``fit_resample`` under each variant below, interleaved in one process, ``--reps`` times;
  CPU seconds, the median ratio to the current code, and the sha256 of the rows' bytes (real rows
  followed by the synthetic ones, as a run receives them).

Variants (none of them is in the library; the first is what it does):

- ``current``: :class:`causalmix.tabebm.TabEBMGenerator` as it is (weights frozen, context cache);
- ``weights_need_grad``: the network's parameters left requiring gradients (what the freeze in
  ``TabEBMGenerator.network`` avoids);
- ``sdpa_no_slice`` / ``sdpa_no_copies``: tabpfn's private attention wrapper
  (``tabpfn.architectures.shared.scaled_dot_product_attention._torch_sdpa``) replaced, while the run
  lasts, by one call of torch's SDPA on the same q/k/v: without the batch slicing its CUDA guards add
  (a zero-filled gradient buffer and a copy per call in the backward), and also without its
  ``.contiguous()`` copies of q/k/v.

    python benchmarks/tabebm_speed.py [--steps 10] [--reps 3] [--out benchmarks/results/tabebm_speed.md]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import contextlib
import cProfile
import hashlib
import platform
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if (ROOT.parent / "shared" / "datasets" / "manifest.json").is_file():
    os.environ.setdefault("CAUSALMIX_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))

import numpy as np
import pandas as pd
import torch

from causalmix.data import load_dataset, low_data_split
from causalmix.sweep_config import load_config
from causalmix.tabebm import PAPER_SETTINGS, TabEBMGenerator


def split_of(spec: str):
    """``dataset:n_train:seed`` -> the study's low-data split."""
    dataset, n_train, seed = spec.split(":")
    return low_data_split(load_dataset(dataset), n_train=int(n_train), seed=int(seed)), int(seed)


# -- variants ---------------------------------------------------------------------------------------
class WeightsNeedGrad(TabEBMGenerator):
    def network(self):
        net = super().network()
        for p in net.parameters():
            p.requires_grad_(True)
        return net


@contextlib.contextmanager
def plain_sdpa(copies: bool):
    """tabpfn's attention wrapper replaced by one torch SDPA call (CPU, one thread: its batch chunking
    for CUDA limits never splits here); ``copies``: keep its ``.contiguous()`` on q/k/v."""
    import tabpfn.architectures.shared.scaled_dot_product_attention as sdpa

    def one_call(q_BSHD, k_BSJD, v_BSJD, _backends_override=None):
        q, k, v = (t.permute(0, 2, 1, 3) for t in (q_BSHD, k_BSJD, v_BSJD))
        if k.shape[-3] != q.shape[-3]:  # the cached multi-query head, repeated as the wrapper does
            k = k.repeat_interleave(q.shape[-3] // k.shape[-3], dim=-3)
            v = v.repeat_interleave(q.shape[-3] // v.shape[-3], dim=-3)
        if copies:
            q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        with sdpa.sdpa_kernel(backends=sdpa._SDPA_BACKENDS):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v).permute(0, 2, 1, 3)

    original = sdpa._torch_sdpa
    sdpa._torch_sdpa = one_call
    try:
        yield
    finally:
        sdpa._torch_sdpa = original


VARIANTS = {
    "current": (TabEBMGenerator, contextlib.nullcontext),
    "weights_need_grad": (WeightsNeedGrad, contextlib.nullcontext),
    "sdpa_no_slice": (TabEBMGenerator, lambda: plain_sdpa(copies=True)),
    "sdpa_no_copies": (TabEBMGenerator, lambda: plain_sdpa(copies=False)),
}


def run_variant(name: str, split, seed: int, n_steps: int) -> tuple[str, float]:
    cls, context = VARIANTS[name]
    gen = cls(n_steps=n_steps, random_state=seed, **PAPER_SETTINGS)
    with context():
        c = time.process_time()
        X, y = gen.fit_resample(split.X_train, split.y_train)
        cpu = time.process_time() - c
    return rows_digest(X, y), cpu


def rows_digest(X: pd.DataFrame, y: pd.Series) -> str:
    """sha256 of the rows' bytes: every column's values (a categorical column's codes; an object
    column's strings), then the labels."""
    h = hashlib.sha256()
    for col in [*(X[c] for c in X.columns), y]:
        if isinstance(col.dtype, pd.CategoricalDtype):
            h.update(col.cat.codes.to_numpy().tobytes())
        elif pd.api.types.is_numeric_dtype(col.dtype):
            h.update(col.to_numpy().tobytes())
        else:  # strings: the bytes of an object array would be pointers
            h.update("\x00".join(map(repr, col)).encode())
    return h.hexdigest()[:16]


def compare(specs: list[str], n_steps: int, reps: int) -> pd.DataFrame:
    rows = []
    for spec in specs:
        split, seed = split_of(spec)
        TabEBMGenerator(n_steps=1, pool_size=8).fit(split.X_train, split.y_train)  # first calls, not timed
        cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
        digest: dict[str, set[str]] = {name: set() for name in VARIANTS}
        for _ in range(reps):
            for name in VARIANTS:  # interleaved, so the machine's load falls on every variant alike
                d, c = run_variant(name, split, seed, n_steps)
                digest[name].add(d)
                cpu[name].append(c)
        ref = digest["current"]
        for name in VARIANTS:
            ratios = np.array(cpu[name]) / np.array(cpu["current"])
            rows.append({"split": spec, "variant": name, "rows_sha256": ",".join(sorted(digest[name])),
                         "identical_to_current": digest[name] == ref and len(ref) == 1,
                         "cpu_s": " / ".join(f"{c:.2f}" for c in cpu[name]),
                         "median_cpu_s": float(np.median(cpu[name])), "median_ratio": float(np.median(ratios))})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


# -- profile ----------------------------------------------------------------------------------------
def profile(spec: str, n_steps: int, top: int) -> tuple[pd.DataFrame, dict]:
    split, seed = split_of(spec)
    TabEBMGenerator(n_steps=1, pool_size=8).fit(split.X_train, split.y_train)  # imports and first calls: once per process
    gen = TabEBMGenerator(n_steps=n_steps, random_state=seed, **PAPER_SETTINGS)
    prof = cProfile.Profile()
    c = time.process_time()
    prof.enable()
    gen.fit_resample(split.X_train, split.y_train)
    prof.disable()
    cpu = time.process_time() - c
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, ncalls, tottime, cumtime, callers)
    total = sum(v[2] for v in stats.values())
    entries = sorted(stats.items(), key=lambda kv: -kv[1][2])
    table = pd.DataFrame([{"function": name if file == "~" else f"{Path(file).name}:{line}({name})",
                           "calls": v[1], "tottime_s": v[2], "share_pct": 100 * v[2] / total}
                          for (file, line, name), v in entries[:top]])
    python_s = sum(v[2] for (file, _, _), v in stats.items() if file != "~")
    summary = {"split": spec, "features_in_chain_space": gen._Z.shape[1], "n_steps": n_steps,
               "chains": int(gen.pool_size), "cpu_s": cpu, "profiled_s": total,
               "python_frames_pct": 100 * python_s / total}
    return table, summary


def operator_profile(spec: str, n_steps: int, top: int) -> pd.DataFrame:
    split, seed = split_of(spec)
    gen = TabEBMGenerator(n_steps=n_steps, pool_size=None, random_state=seed, **PAPER_SETTINGS)
    gen.fit(split.X_train, split.y_train)
    n = int(gen.class_counts_.max())
    gen.langevin(0, 50, np.random.default_rng(0))  # warm
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        gen.langevin(0, n, np.random.default_rng(0))
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    return pd.DataFrame([{"operator": e.key, "calls": e.count, "self_cpu_s": e.self_cpu_time_total / 1e6,
                          "share_pct": 100 * e.self_cpu_time_total / total} for e in events[:top]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", nargs="+", default=["diabetes:512:0", "wdbc:128:0"], help="dataset:n_train:seed")
    ap.add_argument("--profile-steps", type=int, default=30)
    ap.add_argument("--compare", nargs="+", default=["diabetes:512:0", "wdbc:128:1", "credit-g:64:2"])
    ap.add_argument("--steps", type=int, default=10, help="SGLD steps of the compared fits (the pool: 1,024 chains)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--top", type=int, default=14)
    ap.add_argument("--parts", nargs="+", choices=["profile", "compare"], default=["profile", "compare"])
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    allowed = set(load_config("standard").datasets)
    bad = sorted({s.split(":")[0] for s in [*args.profile, *args.compare]} - allowed)
    if bad:
        raise SystemExit(f"{bad}: not datasets of the exploratory study (configs/standard.yaml); the others are "
                         "reserved for the confirmatory study")
    torch.set_num_threads(1)

    def md(df: pd.DataFrame) -> str:
        return df.to_markdown(index=False, floatfmt=".3f")

    lines = ["# TabEBM SGLD: profile and bit-identical savings", "",
             f"`python benchmarks/tabebm_speed.py {' '.join(sys.argv[1:])}` (torch {torch.__version__}, "
             f"{platform.processor() or platform.machine()}, 1 torch thread, `nice -n 19` beside a running sweep). "
             f"TabEBM with PAPER_SETTINGS ({PAPER_SETTINGS}), pool 1,024 chains.", ""]
    if "profile" in args.parts:
        lines += ["## Profile of one fit_resample", ""]
        for spec in args.profile:
            table, summary = profile(spec, args.profile_steps, args.top)
            lines += [f"### {spec}", "", md(pd.DataFrame([summary])), "", md(table), ""]
            print(summary, flush=True)
        lines += [f"### torch operators, {args.profile[0]} (class 0's chains, {args.profile_steps} steps)", "",
                  md(operator_profile(args.profile[0], args.profile_steps, args.top)), ""]
    if "compare" in args.parts:
        lines += ["## Variants, interleaved in one process", "",
                  f"`fit_resample` with {args.steps} SGLD steps, {args.reps} rounds; `median_ratio`: the median of "
                  "the per-round CPU ratios to `current`; `rows_sha256`: of the returned rows (real + synthetic).",
                  "", md(compare(args.compare, args.steps, args.reps)), ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
