"""The report helpers on small hand-made record frames (the runner's record schema)."""

import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import yaml
import pytest

matplotlib.use("Agg")

from causalmix import report, study  # noqa: E402
from causalmix.metrics import normalized_improvement  # noqa: E402


def fake_records(methods=("finetune", "causalmix", "smote"), datasets=("a", "b", "c", "d"), seeds=(0, 1), domain=None):
    """One row per run; method m adds ``bonus[m]`` to the step-0 test ROC-AUC of the same split."""
    bonus = {"finetune": 0.01, "causalmix": 0.02, "smote": -0.01, "mixup": 0.0}
    rng = np.random.default_rng(0)
    rows = []
    for d_i, dataset in enumerate(datasets):
        for seed in seeds:
            step0 = 0.70 + 0.05 * d_i + 0.001 * seed
            for method in methods:
                auc = step0 + bonus[method]
                rows.append({
                    "run_id": f"{dataset}-{seed}-{method}-{domain}", "dataset": dataset, "n_train": 64, "n_val": 16,
                    "seed": seed, "method": method, "model": "causalmix-tiny", "domain": domain, "status": "ok",
                    "error": None, "best_step": 2, "n_steps": 4, "val_roc_auc": auc,
                    "test_roc_auc": auc, "test_roc_auc_step0": step0,
                    "test_accuracy": 0.8 + bonus[method], "test_accuracy_step0": 0.8,
                    "test_log_loss": 0.5, "test_log_loss_step0": 0.5,
                    "wall_time_s": 1.0 + rng.random(), "git_commit": "0123456789abcdef-dirty",
                })
                if domain:
                    rows[-1].update({
                        "test_ood_roc_auc": auc - 0.05, "test_ood_roc_auc_step0": step0 - 0.10,
                        "test_ood_accuracy": 0.7, "test_ood_accuracy_step0": 0.7,
                    })
    return pd.DataFrame(rows)


def fake_curves(records, *, aligned=("causalmix",)):
    """Curves of 5 steps: validation tracks test for ``aligned`` methods, runs against it otherwise."""
    rows = []
    for _, r in records.iterrows():
        test = np.array([0.70, 0.72, 0.75, 0.74, 0.73])
        val = test if r["method"] in aligned else 1.5 - test
        for step in range(5):
            rows.append({"run_id": r["run_id"], "dataset": r["dataset"], "method": r["method"], "n_train": r["n_train"],
                         "seed": r["seed"], "domain": r["domain"], "step": step,
                         "val_roc_auc": val[step], "test_roc_auc": test[step]})
    return pd.DataFrame(rows)


def test_improvement_frame_applies_the_spec_definition():
    frame = report.improvement_frame(fake_records())
    row = frame.iloc[0]
    assert row["improvement"] == pytest.approx(normalized_improvement(row["test_roc_auc"], row["test_roc_auc_step0"]))
    assert "pretrained" not in set(frame["method"])
    # log-loss: lower is better, so the sign flips
    records = fake_records().assign(test_log_loss=0.4)
    assert (report.improvement_frame(records, "test_log_loss")["improvement"] > 0).all()


def test_median_improvement_table_orders_methods_and_shows_paper_numbers():
    table = report.median_improvement_table(fake_records())
    assert list(table.index[:3]) == ["CausalMixFT", "default fine-tuning", "SMOTE-augmented FT"]
    assert table.loc["CausalMixFT", "datasets"] == 4 and table.loc["CausalMixFT", "runs"] == 8
    assert table.loc["CausalMixFT", "paper: median"] == 0.12
    assert table.loc["default fine-tuning", "paper: variability"] == 0.98
    # every dataset improves by 0.02 / step0 (2.4-2.9 %): the interval lies inside that range
    low, high = (float(v) for v in table.loc["CausalMixFT", "95 % interval"].strip("[]").split(","))
    assert 2.3 < low <= table.loc["CausalMixFT", "median"] <= high < 2.9
    assert table.loc["TabEBM-augmented FT", "95 % interval"] == "not run"
    # paper-only methods are listed with empty columns of ours
    assert math.isnan(table.loc["TabEBM-augmented FT", "median"])
    assert table.loc["SMOTE-augmented FT", "median"] < 0


def test_provenance_line_names_config_model_version_runs_and_the_build_commit():
    from causalmix.provenance import git_commit

    text = report.caption(fake_records(), config="smoke")
    assert "configuration smoke" in text and "causalmix-tiny" in text and "result version" in text
    assert "24 runs on 4 datasets (a, b, c, d)" in text and f"built from git {git_commit(short=True)}" in text
    assert "0123456" not in text, "the runs' commits are listed once, on the benchmark page, not under every table"


def test_run_commits_table_lists_each_commit_once_and_explains_dirty():
    table = report.run_commits_table(fake_records())
    assert list(table.index) == ["0123456789ab-dirty"] and table["runs"].sum() == len(fake_records())
    assert "-dirty" in report.DIRTY_NOTE and "uncommitted" in report.DIRTY_NOTE


def test_numbers_keep_three_significant_digits_and_p_values_go_scientific():
    assert report.format_number(-0.000412) == "-0.000412" and report.format_number(-0.0) == "0.000"
    assert report.format_number(0.00123) == "0.00123" and report.format_number(1.23456, precision=2) == "1.23"
    assert report.format_number(3.2e-5, p_value=True) == "3.2e-05" and report.format_number(0.0123, p_value=True) == "0.012"


def test_failures_are_grouped_and_by_design_is_its_own_count():
    records = fake_records()
    records.loc[records.index[:4], "status"] = "failed"
    records.loc[records.index[:4], "error"] = "DatasetError: 'a' has 9 rows, fewer than n_train + n_val + 1 = 11; ask for fewer"
    grouped = report.failures_table(records)
    assert grouped["runs"].sum() == 4 and (grouped["by design"] == "yes").all() and len(grouped) < 4
    overview = report.sweep_overview(records)
    assert overview["failed by design"].sum() == 4 and overview["failed"].sum() == 0


def test_nemenyi_critical_difference_matches_demsar_table():
    # Demšar (2006), Table 5: q_0.05 for k = 5 is 2.728 -> CD = 2.728 * sqrt(5*6 / (6*N))
    assert report.nemenyi_critical_difference(5, 10) == pytest.approx(2.728 * math.sqrt(30 / 60), abs=1e-3)
    assert report.nemenyi_critical_difference(3, 10) == pytest.approx(2.343 * math.sqrt(12 / 60), abs=1e-3)


def test_rank_test_ranks_and_friedman():
    records = report.with_pretrained(fake_records())
    test = report.rank_test(records)
    assert list(test.average_ranks.index) == ["causalmix", "finetune", "pretrained", "smote"]
    assert test.average_ranks.iloc[0] == 1.0 and test.n_datasets == 4
    # identical orderings on every dataset: Friedman statistic N(k-1) = 4 * 3 = 12
    assert test.friedman_statistic == pytest.approx(12.0)
    assert test.friedman_pvalue < 0.01
    assert "Friedman" in test.summary() and "Nemenyi" in test.summary()


def fewer_seeds_records() -> pd.DataFrame:
    """Methods a and b on seeds 0 and 1 of two datasets, c on seed 0 only. On seed 0, c is best and b
    worst; on seed 1, b beats a by far, so b's mean over both seeds beats a's on every dataset."""
    auc = {("a", 0): 0.80, ("b", 0): 0.70, ("c", 0): 0.90, ("a", 1): 0.80, ("b", 1): 0.95}
    return pd.DataFrame([{"dataset": d, "n_train": 64, "seed": seed, "method": m, "test_roc_auc": v}
                         for d in ("d1", "d2") for (m, seed), v in auc.items()])


def test_a_method_run_on_fewer_seeds_is_compared_on_its_splits_only():
    records = fewer_seeds_records()
    assert report.fewer_seeds(records) == {"c": [0]}
    main = report.fully_seeded(records)
    assert set(main["method"]) == {"a", "b"} and len(main) == 8
    assert report.rank_test(main).average_ranks.to_dict() == {"b": 1.0, "a": 2.0}  # means 0.825 vs 0.80
    shared = report.on_shared_splits(records)
    assert set(shared["seed"]) == {0} and len(shared) == 6
    # together, every method on seed 0: c 0.90 > a 0.80 > b 0.70 (not b's two-seed mean 0.825)
    assert report.rank_test(records).average_ranks.to_dict() == {"c": 1.0, "a": 2.0, "b": 3.0}
    text, together, runs = report.shared_split_ranking(records)
    assert "c (seed 0)" in text and together.average_ranks.to_dict() == {"c": 1.0, "a": 2.0, "b": 3.0}
    assert runs.equals(shared) and report.shared_split_ranking(main) is None
    disjoint = pd.concat([records[records["dataset"] == "d1"],
                          records[(records["dataset"] == "d2") & (records["method"] != "c")].assign(seed=lambda r: r["seed"] + 5),
                          records[(records["dataset"] == "d2") & (records["method"] == "c")]])
    test = report.rank_test(disjoint)  # on d2, c ran on seed 0, the others on seeds 5 and 6: no shared split
    assert test.n_datasets == 1 and test.unranked == {"d2": ["a", "b", "c"]}
    tests = report.paired_tests(records, reference="a")
    assert tests.loc["b", "median difference"] == pytest.approx(-0.025)  # both seeds
    assert tests.loc["c", "median difference"] == pytest.approx(-0.10)  # seed 0, the one c ran
    assert tests.loc["c", "losses"] == 2


def test_with_pretrained_builds_step0_rows_once_per_split():
    records = report.with_pretrained(fake_records())
    pre = records[records["method"] == "pretrained"]
    assert len(pre) == 8
    assert (pre["test_roc_auc"] == pre["test_roc_auc_step0"]).all()


def test_cliques_join_methods_within_the_critical_difference():
    ranks = pd.Series({"a": 1.0, "b": 1.5, "c": 3.0, "d": 3.2})
    assert report.cliques(ranks, 1.0) == [("a", "b"), ("c", "d")]
    assert report.cliques(ranks, 5.0) == [("a", "b", "c", "d")]
    assert report.cliques(ranks, 0.1) == []


def test_cd_diagram_draws_every_method():
    test = report.rank_test(report.with_pretrained(fake_records()))
    fig = report.plot_cd_diagram(test)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for label in ("CausalMixFT", "default FT", "SMOTE", "pre-trained"):
        assert any(label in t for t in texts)
    assert fig.get_figwidth() <= report.figures.MAX_WIDTH


def test_cd_diagram_keeps_the_rank_axis_wide_with_long_labels():
    """Fourteen ablation-style labels of ~45 characters: they wrap instead of squeezing the axis."""
    names = [f"SCM feature cap (rest: side columns): variant {i}" for i in range(14)]
    ranks = pd.Series(np.linspace(1.5, 13.5, 14), index=names)
    test = report.RankTest(average_ranks=ranks, n_datasets=17, friedman_statistic=14.6, friedman_pvalue=0.33,
                           critical_difference=4.8, alpha=0.05)
    fig = report.plot_cd_diagram(test)
    fig.canvas.draw()
    ax, width_px = fig.axes[0], fig.bbox.width
    axis_px = ax.transData.transform((14, 0))[0] - ax.transData.transform((1, 0))[0]
    assert axis_px >= 0.35 * width_px
    renderer = fig.canvas.get_renderer()
    for text in ax.texts:  # every label inside the figure
        box = text.get_window_extent(renderer)
        assert box.x0 >= -1 and box.x1 <= width_px + 1 and box.y0 >= -1, text.get_text()
    assert any("\n" in t.get_text() for t in ax.texts)


def test_reliability_correlation_gap_and_regret():
    records = fake_records()
    frame = report.reliability_frame(records, fake_curves(records))
    causal = frame[frame["method"] == "causalmix"]
    default = frame[frame["method"] == "finetune"]
    assert causal["correlation"].to_numpy() == pytest.approx(1.0) and (causal["gap"].abs() < 1e-12).all()
    assert (default["correlation"] < 0).all() and (default["gap"] > 1).all()
    # best_step 2 is the test maximum (0.75): zero regret
    assert (frame["regret"] == 0).all()
    table = report.reliability_table(frame)
    assert table.loc["default fine-tuning", "paper: median gap"] == 0.67
    assert table.loc["CausalMixFT", "median gap"] == pytest.approx(0.0)


def test_regret_uses_the_selected_step():
    records = fake_records(methods=("finetune",)).assign(best_step=4)
    frame = report.reliability_frame(records, fake_curves(records))
    assert frame["regret"].to_numpy() == pytest.approx(0.75 - 0.73)


def test_domain_shift_table_drop_and_change():
    records = fake_records(domain="sex in ['Female']")
    table = report.domain_shift_table(records)
    row = table.loc[("sex in ['Female']", "CausalMixFT")]
    # in-domain accuracy 0.82 on every run, out-of-domain 0.70: a drop of 0.12 with no spread
    assert row["drop (in − out)"] == "0.120 ± 0.000" and row["worst-group accuracy"] == "0.700 ± 0.000"
    assert table.loc[("sex in ['Female']", "pre-trained (no fine-tuning)"), "drop (in − out)"] == "0.100 ± 0.000"
    assert table.index[0] == ("sex in ['Female']", "majority class")


def test_low_resource_table_and_plots():
    records = pd.concat([fake_records(datasets=("adult",)), fake_records(datasets=("adult",)).assign(n_train=128)])
    records = records.assign(n_test=500, test_majority_accuracy=0.76)
    table = report.low_resource_table(records)
    assert (128, "CausalMixFT") in table.index and table.loc[(64, "CausalMixFT"), "seeds"] == 2
    assert table.loc[(64, "majority class"), "accuracy"] == "0.760 ± 0.000"
    # binomial standard error of one run's accuracy (0.82 on 500 test rows)
    assert table.loc[(64, "CausalMixFT"), "SE of one run's accuracy"] == pytest.approx((0.82 * 0.18 / 500) ** 0.5)
    fig = report.plot_low_resource(records)
    assert len(fig.axes) == 2 and len(fig.axes[0].containers) == 4  # 3 methods + pre-trained, error bars each


def test_ok_runs_separates_domain_and_failed_runs():
    records = pd.concat([fake_records(), fake_records(domain="sex in ['Female']")], ignore_index=True)
    records.loc[0, "status"] = "failed"
    assert len(report.ok_runs(records)) == 23
    assert len(report.ok_runs(records, domain=True)) == 24
    assert len(report.ok_runs(records, domain=None)) == 47


def test_resolve_config_names_and_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No configuration"):
        report.resolve_config("no-such-config")
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nout_dir: runs/mine\n")
    assert report.resolve_config(path) == path.resolve()
    assert report.results_dir(path) == Path.cwd() / "runs/mine"  # relative: from the working folder, as the CLI
    assert report.results_dir(path, tmp_path) == tmp_path


def test_in_sweep_keeps_the_configuration_grid_and_the_extension_shares_its_settings():
    from causalmix.experiment import expand_config

    specs = expand_config(report.resolve_config("smoke"))
    records = pd.DataFrame({"run_id": [specs[0].run_id, "adult-finetune-n32-s0-extra"]})
    assert list(report.in_sweep(records, "smoke")["run_id"]) == [specs[0].run_id]
    ext = study.extension_config("smoke")  # smoke's extension: diabetes at n_train 32
    cfg = report.settings("smoke")
    assert ext["datasets"] == ["diabetes"] and ext["n_train"] == [32] and ext["domain_shift"] == []
    assert ext["finetune"] == cfg["finetune"] and ext["model"] == cfg["model"]
    assert ext["out_dir"] == str(report.results_dir("smoke"))
    # a size of the main grid gives the same run id, so the run is recorded once
    same = {**ext, "n_train": cfg["n_train"], "datasets": cfg["datasets"][:1], "methods": cfg["methods"][:1]}
    assert expand_config(same)[0].run_id == specs[0].run_id


def test_derived_sweeps_keep_a_method_on_fewer_seeds_only_where_it_runs(tmp_path):
    from causalmix.experiment import expand_config

    cfg = {**report.settings("smoke"), "seeds": [0, 1], "seeds_by_method": {"smote": [0]}, "domain_shift": [],
           "ablations": {"n_train": [64], "seeds": [0, 1]},
           "extension": {"dataset": "adult", "n_train": [32], "seeds": [0, 1], "methods": ["finetune", "smote"]}}
    path = tmp_path / "fewer.yaml"
    path.write_text(yaml.safe_dump(cfg))
    ablation, _ = report.ablation_config(path)  # smote is no ablation method
    assert ablation["seeds_by_method"] == {} and {s.method for s in expand_config(ablation)} >= {"causalmix"}
    ext = study.extension_config(path)
    assert sorted((s.method, s.seed) for s in expand_config(ext)) == [("finetune", 0), ("finetune", 1), ("smote", 0)]
    path.write_text(yaml.safe_dump({**cfg, "extension": {**cfg["extension"], "seeds": [1]}}))
    assert study.extension_config(path)["methods"] == ["finetune"]  # none of smote's seeds left
    path.write_text(yaml.safe_dump({**cfg, "extension": None, "ablations": None}))
    assert study.extension_config(path) is None and report.ablation_config(path)[0] is None
    assert sorted(study.load_study(path).parts) == ["grid"]


def test_current_records_leave_out_other_models_and_result_versions():
    from causalmix.runs import RESULT_VERSION

    records = fake_records().assign(result_version=RESULT_VERSION, model="causalmix-wide")
    records.loc[0, "model"] = "causalmix-tiny"  # an earlier model's record in the same folder
    records.loc[1, "result_version"] = RESULT_VERSION - 1  # made under another result version
    kept = report.current_records(records, "causalmix-wide")
    assert len(kept) == len(records) - 2 and set(kept.index) == set(records.index[2:])
