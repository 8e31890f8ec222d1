"""The claims scoreboard, bootstrap intervals and paired tests on hand-made records with known answers."""

import numpy as np
import pandas as pd
import pytest
import test_report as hand_made

from causalmix import report


def board(records, curves):
    return {r.claim.key: r for r in report.scoreboard(records, curves, name="hand-made")}


@pytest.fixture
def grid():
    records = hand_made.fake_records(methods=("finetune", "causalmix", "smote"))
    records.loc[records["method"] == "finetune", "best_step"] = 0  # selects the worst test step: regret 0.05
    return records, hand_made.fake_curves(records, aligned=("causalmix",))


def test_scoreboard_verdicts_on_records_with_known_answers(grid):
    results = board(*grid)
    # every run of CausalMixFT and default FT improves on its step 0: the whole interval is above 0
    assert results["improvement_causalmix"].verdict == "reproduced"
    assert results["improvement_causalmix"].interval.low > 0
    assert results["improvement_finetune"].verdict == "reproduced"
    # methods this sweep did not run
    for method in ("ctgan", "tabebm", "tableaugment"):
        assert results[f"improvement_{method}"].verdict == "not run"
    # CausalMixFT adds 0.02 where default FT adds 0.01: its improvements spread more, the claim fails
    assert results["variability"].verdict == "not reproduced"
    # CausalMixFT is best on every dataset, default FT second: a lead of exactly one rank
    rank = results["rank"].interval
    assert (rank.estimate, rank.low, rank.high) == (1.0, 1.0, 1.0) and results["rank"].verdict == "reproduced"
    # default FT's validation runs against its test curve (correlation -1) and selects the worst step
    assert results["correlation"].interval.estimate == pytest.approx(-1.0)
    assert results["correlation"].verdict == "reproduced"
    assert results["regret"].interval.estimate == pytest.approx(0.05)
    assert results["gap"].interval.estimate == pytest.approx(2.0) and results["gap"].verdict == "reproduced"
    # no Adult runs at all
    assert results["adult_accuracy_mixup"].verdict == "not run"


def test_adult_rows_pair_runs_by_split():
    low = hand_made.fake_records(methods=("causalmix", "mixup", "smote"), datasets=("adult",), seeds=(0, 1, 2))
    shifted = hand_made.fake_records(methods=("causalmix", "mixup", "smote"), datasets=("adult",), seeds=(0, 1, 2),
                                     domain="sex")
    results = board(pd.concat([low, shifted], ignore_index=True), pd.DataFrame(columns=["run_id"]))
    accuracy = results["adult_accuracy_mixup"]
    # CausalMixFT's accuracy is 0.02 above Mixup's on each of the 3 splits
    assert accuracy.interval.estimate == pytest.approx(0.02) and accuracy.verdict == "reproduced"
    assert accuracy.basis.startswith("3 splits")
    # out-of-domain accuracy is 0.7 for every method: no difference, no verdict either way
    assert results["adult_ood_accuracy_smote"].interval.estimate == pytest.approx(0.0)
    assert results["adult_ood_accuracy_smote"].verdict == "inconclusive"
    table = report.scoreboard_table(list(results.values()), pages=["06_adult_low_resource"])
    assert len(table) == 6 and table["verdict"].str.contains("reproduced|inconclusive").all()


def test_bootstrap_interval_covers_the_median_of_normal_data():
    rng = np.random.default_rng(1)
    clusters = [rng.normal(1.0, 1.0, size=3) for _ in range(60)]
    iv = report.cluster_bootstrap(clusters, lambda cs: float(np.median(np.concatenate(cs))), n_resamples=500, seed=3)
    assert iv.low < iv.estimate < iv.high and iv.low < 1.0 < iv.high and iv.high - iv.low < 1.0
    assert iv.n_clusters == 60
    # the same seed gives the same interval
    again = report.cluster_bootstrap(clusters, lambda cs: float(np.median(np.concatenate(cs))), n_resamples=500, seed=3)
    assert again == iv


def test_paired_wilcoxon_with_holm_correction():
    records = hand_made.fake_records(methods=("finetune", "causalmix", "smote"))
    table = report.paired_tests(records)
    # CausalMixFT beats both on all 4 datasets: the exact two-sided p-value is 2 / 2**4 = 0.125
    assert table.loc["smote", "wins"] == 4 and table.loc["smote", "losses"] == 0
    assert table.loc["smote", "p"] == pytest.approx(0.125)
    assert table.loc["smote", "p (Holm)"] == pytest.approx(0.25)
    assert (table["significant"] == "no").all()
