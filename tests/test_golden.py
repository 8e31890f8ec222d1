"""The golden test: cheap published runs recomputed with today's code must come out as published.

Run ids no longer hash the code (:data:`causalmix.runs.RESULT_VERSION` does), so this test is what
stops a change from moving a number silently. If it fails after your change:

- you meant to change results: bump ``RESULT_VERSION`` and re-publish (or re-derive) the study;
- you did not: your refactor changed a number; fix it.

It recomputes, from the published standard study, the cheapest run of every method, the cheapest
fine-tuned domain-shift run and the cheapest fine-tuned run of every other training size, and
compares records and whole curves with :func:`causalmix.verify.verify`'s rules (1e-6). A second
test puts relative noise of 1e-6 on every predicted probability, as another CPU's rounding would:
the tie-proof selection keeps the check green.
"""

import pandas as pd
import pytest

from causalmix import verify as verify_mod
from causalmix.evaluation import OUTPUT_NOISE_ENV
from causalmix.publish import load_published


def golden_runs(records: pd.DataFrame) -> list[str]:
    ok = records[(records["status"] == "ok") & (records["part"] == "main")].sort_values(["wall_time_s", "run_id"])
    picks = list(ok.groupby("method").head(1)["run_id"])
    tuned = ok[ok["method"] != "pretrained"]
    picks.append(tuned[tuned["domain"].notna()]["run_id"].iloc[0])
    for n_train, runs in tuned.groupby("n_train"):
        if not runs["run_id"].isin(picks).any():
            picks.append(runs["run_id"].iloc[0])
    return sorted(set(picks))


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
    assert result.counts["differs"] == 0, result.summary()
    assert result.counts["identical"] + result.counts["noise"] == len(golden)
    assert result.n_inconsistent == 0 and not result.version_changed


def test_float_noise_on_the_outputs_cannot_fail_the_check(golden, tmp_path, monkeypatch, one_torch_thread):
    monkeypatch.setenv(OUTPUT_NOISE_ENV, "1e-6")
    noisy = verify_mod.verify("standard", run_ids=golden, jobs=1, out_dir=tmp_path, progress=False)
    assert noisy.counts["differs"] == 0, noisy.summary()
    assert noisy.counts["noise"] > 0  # the noise did reach the numbers
    monkeypatch.setenv(OUTPUT_NOISE_ENV, "1e-3")  # a real difference still fails, naming the run and the metric
    cheap = golden[:2]
    real = verify_mod.verify("standard", run_ids=cheap, jobs=1, out_dir=tmp_path, progress=False)
    assert not real.ok and set(real.failed_runs) == set(cheap)
    assert all(("log_loss" in d or "roc_auc" in d or "accuracy" in d) for d in real.runs["detail"])
