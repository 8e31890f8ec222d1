"""The golden test: cheap published runs recomputed with today's code must come out as published.

Run ids no longer hash the code (:data:`causalmix.runs.RESULT_VERSION` does), so this test is what
stops a change from moving a number silently. If it fails after your change:

- you meant to change results: bump ``RESULT_VERSION`` and re-publish (or re-derive) the study;
- you did not: your refactor changed a number; fix it.

It recomputes, from the published standard study, the cheapest run of every method, the cheapest
fine-tuned domain-shift run and the cheapest fine-tuned run of every other training size, and
compares their whole curves with :func:`causalmix.verify.verify`'s rules (1e-6, near-ties).

Two references, because a CPU model rounds floats its own way and two generators (CausalMix,
TabEBM) turn that rounding into other synthetic rows (:data:`causalmix.verify.FLOAT_SENSITIVE_GENERATORS`):

- the **published** records: every run must agree, except that on another CPU model than the
  publishing one a run of those two generators may have *diverged* after step 0;
- this **CPU model's reference** (``tests/golden/<cpu>-<isa>.csv.gz``, when there is one): every run must
  agree to float noise, divergence included. A reference is written by
  ``python tests/test_golden.py --write-reference`` on a machine of that CPU model, from a code
  version whose golden test passes on a machine that already has one (it records the numbers of the
  current ``RESULT_VERSION``, which its sidecar names).

A second test puts relative noise of 1e-6 on every predicted probability, as another CPU's rounding
would: the tie-proof selection and the near-tie rule keep the check green; noise of 1e-3 fails it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from causalmix import verify as verify_mod
from causalmix.evaluation import OUTPUT_NOISE_ENV
from causalmix.provenance import machine
from causalmix.publish import load_published
from causalmix.runs import RESULT_VERSION

GOLDEN_DIR = Path(__file__).parent / "golden"


def golden_runs(records: pd.DataFrame) -> list[str]:
    ok = records[(records["status"] == "ok") & (records["part"] == "main")].sort_values(["wall_time_s", "run_id"])
    picks = list(ok.groupby("method").head(1)["run_id"])
    tuned = ok[ok["method"] != "pretrained"]
    picks.append(tuned[tuned["domain"].notna()]["run_id"].iloc[0])
    for _, runs in tuned.groupby("n_train"):
        if not runs["run_id"].isin(picks).any():
            picks.append(runs["run_id"].iloc[0])
    return sorted(set(picks))


def reference_path() -> Path:
    """This CPU model's reference curves (the model's name and the instruction set torch uses on it)."""
    here = machine("cpu")
    name = f"{here['cpu']} {here['torch_cpu_capability']}"
    return GOLDEN_DIR / f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.csv.gz"


def recomputed_curves(folder: Path, run_ids: list[str]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(folder / "records" / f"{run}.curve.csv").assign(run_id=run) for run in run_ids],
                     ignore_index=True)


@pytest.fixture(scope="module")
def golden():
    records, _ = load_published("standard")
    return golden_runs(records)


def test_the_golden_runs_cover_every_method_a_domain_and_every_size(golden):
    records, _ = load_published("standard")
    chosen = records[records["run_id"].isin(golden)]
    assert set(chosen["method"]) == set(records.loc[records["part"] == "main", "method"])
    assert chosen["domain"].notna().any() and set(chosen["n_train"]) == {64, 128, 256, 512}
    assert chosen["wall_time_s"].sum() < 120  # cheap enough for every `make test`


def test_cheap_published_runs_come_out_as_published(golden, tmp_path, one_torch_thread):
    result = verify_mod.verify("standard", run_ids=golden, jobs=1, out_dir=tmp_path, progress=False)
    assert result.counts["differs"] == 0 and result.n_inconsistent == 0, result.summary()
    assert sum(result.counts.values()) == len(golden) and not result.version_changed
    reference = reference_path()
    if not reference.is_file():
        pytest.skip(f"no golden reference for this CPU model ({reference.name}): compared with the published "
                    f"records only ({result.counts['diverged']} diverged); write one with --write-reference")
    meta = json.loads(reference.with_suffix("").with_suffix(".json").read_text())
    assert meta["result_version"] == RESULT_VERSION, "the reference is of another result version: rewrite it"
    expected = pd.read_csv(reference)
    now = recomputed_curves(tmp_path, golden)
    for run in golden:
        same = verify_mod.compare_curves(expected[expected["run_id"] == run], now[now["run_id"] == run])
        assert same.outcome in ("identical", "noise"), f"{run}: {same.detail} (against this CPU's reference)"


@pytest.mark.slow
def test_float_noise_on_the_outputs_cannot_fail_the_check(golden, tmp_path, monkeypatch, one_torch_thread):
    records, _ = load_published("standard")
    cheap = list(records[records["run_id"].isin(golden) & (records["method"] != "tabebm")]["run_id"])
    monkeypatch.setenv(OUTPUT_NOISE_ENV, "1e-6")
    noisy = verify_mod.verify("standard", run_ids=cheap, jobs=1, out_dir=tmp_path / "small", progress=False)
    assert noisy.counts["differs"] == 0 and noisy.counts["diverged"] == 0, noisy.summary()
    assert noisy.counts["noise"] > 0  # the noise did reach the numbers
    monkeypatch.setenv(OUTPUT_NOISE_ENV, "1e-3")  # a real difference still fails, naming the run and the metric
    pick = [r for r in cheap if "-finetune-" in r][:1] + [r for r in cheap if "-smote-" in r][:1]
    real = verify_mod.verify("standard", run_ids=pick, jobs=1, out_dir=tmp_path / "large", progress=False)
    assert not real.ok and set(real.failed_runs) == set(pick)
    assert all("log_loss" in d for d in real.runs["detail"])  # log-loss moves: no near-tie excuse


def write_reference() -> Path:
    """Recompute the golden runs here and write this CPU model's reference (module docstring)."""
    import tempfile

    from causalmix.provenance import git_commit

    records, _ = load_published("standard")
    runs = golden_runs(records)
    with tempfile.TemporaryDirectory() as tmp:
        result = verify_mod.verify("standard", run_ids=runs, jobs=1, out_dir=tmp, progress=True)
        if result.counts["differs"] or result.n_inconsistent:
            raise SystemExit(f"not written: the golden runs differ from the published ones here. {result.summary()}")
        GOLDEN_DIR.mkdir(exist_ok=True)
        path = reference_path()
        recomputed_curves(Path(tmp), runs).to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
    path.with_suffix("").with_suffix(".json").write_text(json.dumps(
        {"result_version": RESULT_VERSION, "machine": machine("cpu"), "commit": git_commit(),
         "against_published": result.counts}, indent=1) + "\n")
    return path


if __name__ == "__main__":  # python tests/test_golden.py --write-reference
    import torch

    if sys.argv[1:] != ["--write-reference"]:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    print(write_reference())
