"""The README's model section and the landing page's model-strength note are generated from the benchmark
results (:mod:`causalmix.report.models`; :mod:`causalmix.report.readme` writes the README's): the README holds
what the generator writes now, the numbers are the benchmarks' aggregation, and the command never touches a
file without its markers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from causalmix.report import models, readme
from causalmix.report.benchmark_results import in_prior_scores, recipe_runs
from causalmix.report.tables import zero_shot_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HEADING = "## The shipped models: `causalmix-wide` (default) and `causalmix-tiny`"

#: Per-seed ROC-AUC: {n_train: {model: {dataset: (seed 0, seed 1)}}}. Per dataset the mean over seeds, then the
#: median across datasets: m at 64 is median(0.75, 0.60, 0.80) = 0.75 (the pooled median of its six runs is 0.70).
SCORES = {
    64: {"m": {"a": (0.70, 0.80), "b": (0.60, 0.60), "c": (0.90, 0.70)},
         "logreg": {"a": (0.80, 0.80), "b": (0.70, 0.70), "c": (0.90, 0.90)},
         "random_forest": {"a": (0.70, 0.70), "b": (0.65, 0.65), "c": (0.75, 0.75)},
         "hist_gb": {"a": (0.75, 0.75), "b": (0.72, 0.72), "c": (0.78, 0.78)}},
    256: {"m": {"a": (0.81, 0.83), "b": (0.77, 0.79)},  # c too small for 256: two datasets, median = their mean
          "logreg": {"a": (0.80, 0.80), "b": (0.78, 0.78)},
          "random_forest": {"a": (0.86, 0.86), "b": (0.84, 0.84)},
          "hist_gb": {"a": (0.84, 0.84), "b": (0.82, 0.82)}},
}


def write_runs(path: Path, scores: dict = SCORES) -> Path:
    rows = [{"dataset": d, "task": "binary", "n_train": n, "seed": seed, "model": m, "roc_auc": auc, "n_test": 100,
             "seconds": 0.1}
            for n, per_model in scores.items() for m, per_dataset in per_model.items()
            for d, aucs in per_dataset.items() for seed, auc in enumerate(aucs)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_the_readme_holds_the_section_generated_from_the_committed_results():
    text = README.read_text()
    assert text.index(HEADING) < text.index(readme.BEGIN) < text.index(readme.END) < text.index("## GPU and the real")
    assert readme.generated_block(text) == models.model_section(), (
        "README.md's model section is stale: run python -m causalmix.report.readme README.md")


def test_zero_shot_table_and_comparison_on_known_numbers(tmp_path):
    table = zero_shot_table(write_runs(tmp_path / "bench.csv"))
    assert table.loc[64, "m (zero-shot)"] == pytest.approx(0.75)  # per dataset over seeds, then across datasets
    assert table.loc[256].to_dict() == pytest.approx({
        "m (zero-shot)": 0.80, "logistic regression": 0.79, "random forest": 0.85, "gradient boosting": 0.83,
        "datasets": 2, "seeds": 2})
    assert table.loc[64, ["logistic regression", "random forest", "gradient boosting"]].tolist() == pytest.approx(
        [0.80, 0.70, 0.75])
    assert models.zero_shot_markdown(table).splitlines() == [
        "| n_train | m | logistic regression | random forest | gradient boosting |",
        "|---|---|---|---|---|",
        "| 64 | 0.750 | 0.800 | 0.700 | 0.750 |",
        "| 256 (2 datasets) | 0.800 | 0.790 | 0.850 | 0.830 |"]
    assert models.comparison_text(table, "m") == (
        "The target (at n_train 256 at least random forest and gradient boosting) is **not met**: the default is "
        "above logistic regression, 0.030 below gradient boosting and 0.050 below random forest at 256; at 64 it is "
        "above random forest, level with gradient boosting, 0.050 below logistic regression.")
    assert models.comparison_text(table, "m", subject="it", score=True).startswith(
        "Zero-shot at n_train 256 it scores a median ROC-AUC of 0.800. The target")


def test_the_target_is_met_when_the_model_reaches_both_baselines(tmp_path):
    scores = {n: dict(per_model) for n, per_model in SCORES.items()}
    scores[256]["m"] = {"a": (0.86, 0.86), "b": (0.84, 0.84)}  # level with random forest, above the others
    table = zero_shot_table(write_runs(tmp_path / "bench.csv", scores))
    assert models.comparison_text(table, "m").startswith(
        "The target (at n_train 256 at least random forest and gradient boosting) is **met**: the default is above "
        "logistic regression and gradient boosting, level with random forest at 256;")


def test_the_parsed_markdown_numbers():
    """What no CSV holds: the recipe variants' settings and steps, and the in-prior check's medians."""
    runs = recipe_runs(models.RESULTS / "prior_rules.md")
    assert list(runs.index) == ["base", "rules10", "rules30"] and set(runs["steps"]) == {2000}
    assert runs.at["rules30", "settings"]["prior"] == {"mix_source": "rules", "mix_share": 0.3}
    assert runs.at["rules30", "recipe"]["prior"]["mix_share"] == 0.3 and runs.attrs["equal"] == "steps"
    columns, medians = in_prior_scores(models.RESULTS / "prior_rules.md")
    assert columns == 60 and medians["base"] == 0.530 and medians["random forest"] == 0.964


def test_a_recipe_clause_reads_only_the_variants_that_vary_its_setting():
    """recipe_rules.md varies the learning rate and the batch around one base: each clause takes its own."""
    runs = recipe_runs(models.RESULTS / "recipe_rules.md")
    assert runs.at["rules30-b6", "recipe"]["steps"] == 2685 and runs.at["rules30-b6", "recipe"]["lr"] == 0.002
    assert list(models._varied(runs, "lr").index) == ["rules30", "rules30-lr1e3", "rules30-lr4e3"]
    assert list(models._varied(runs, "batch_size").index) == ["rules30", "rules30-b6", "rules30-b24"]
    assert "among 1e-3, 2e-3 and 4e-3" in models._rate_clause(models.RESULTS, "recipe_rules")
    assert models._batch_clause(models.RESULTS, "recipe_rules").count("median") == 2


@pytest.mark.parametrize("text", ["# README\n\nno markers here\n", f"# README\n{readme.BEGIN}\nonly the start\n",
                                  f"{readme.END}\nreversed\n{readme.BEGIN}\n"], ids=["none", "one", "reversed"])
def test_the_command_refuses_a_readme_without_its_markers(tmp_path, capsys, text):
    path = tmp_path / "README.md"
    path.write_text(text)
    assert readme.main([str(path)]) == 2
    assert "needs the markers" in capsys.readouterr().err
    assert path.read_text() == text


def test_the_command_rewrites_only_between_the_markers_and_check_reports_stale(tmp_path, capsys):
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\n{readme.BEGIN}\nold text\n{readme.END}\n\n## Next\n")
    assert readme.main([str(path), "--check"]) == 1
    assert "stale" in capsys.readouterr().err and "old text" in path.read_text()
    assert readme.main([str(path)]) == 0
    text = path.read_text()
    assert text.startswith(f"# Title\n\n{readme.BEGIN}\n\n") and text.endswith(f"\n\n{readme.END}\n\n## Next\n")
    assert readme.generated_block(text) == models.model_section()
    assert readme.main([str(path), "--check"]) == 0


def _model_strength_cell() -> str:
    cells = json.loads((ROOT / "notebooks" / "08_overview.ipynb").read_text())["cells"]
    return next("".join(c["source"]) for c in cells if "report.zero_shot_table(" in "".join(c["source"]))


@pytest.mark.parametrize("have_benchmark", [True, False], ids=["benchmark", "no benchmark"])
def test_the_landing_page_cell_says_what_the_readme_says(tmp_path, have_benchmark):
    """The notebook's model-strength cell, run on a hand-made benchmark: its sentence is comparison_text's;
    without the benchmark CSV it says so."""
    from causalmix import report

    bench = write_runs(tmp_path / "bench.csv") if have_benchmark else tmp_path / "missing.csv"
    shown: list = []
    page = type("Page", (), {"table": staticmethod(lambda table, *args, **kw: table)})
    namespace = {"report": report, "records_all": pd.DataFrame({"model": ["m"], "status": ["ok"]}),
                 "model_benchmark": str(bench), "page": page, "display": shown.append, "Markdown": str}
    exec(compile(_model_strength_cell(), "08_overview model-strength cell", "exec"), namespace)  # noqa: S102
    if have_benchmark:
        table, sentence = shown
        assert table.equals(zero_shot_table(bench))
        assert report.comparison_text(table, "m", subject="it", score=True) in sentence
    else:
        assert shown == [f"The numbers come from m; no zero-shot benchmark of it is in `{bench}`."]


@pytest.mark.parametrize("shift, ships", [(0.01, True), (0.0, False), (-0.01, False)])
def test_the_candidate_ships_only_above_the_shipped_model_at_the_target_size(tmp_path, shift, ships):
    """SCORES' `m` at 256 has median 0.80; the shipped model gets m's scores lowered by ``shift``."""
    scores = {n: {**per_model, "candidate": per_model["m"],
                  "causalmix-wide": {d: tuple(v - shift for v in aucs) for d, aucs in per_model["m"].items()}}
              for n, per_model in SCORES.items()}
    for per_model in scores.values():
        del per_model["m"]
    write_runs(tmp_path / "acceptance.csv", scores)
    text = models.acceptance_text(tmp_path)
    assert f"scores 0.800 at n_train 256 against `causalmix-wide`'s {0.8 - shift:.3f}" in " ".join(text.split())
    assert ("ships as the default" in text) is ships and ("stays the default" in text) is not ships
    assert "| n_train | candidate | causalmix-wide | logistic regression |" in text


@pytest.mark.parametrize("have_long_run", [True, False], ids=["long run", "no long run"])
def test_the_landing_page_shows_what_may_replace_the_model_as_the_readme_does(tmp_path, have_long_run):
    from causalmix import report

    cells = json.loads((ROOT / "notebooks" / "08_overview.ipynb").read_text())["cells"]
    cell = next("".join(c["source"]) for c in cells if "report.successor_text(" in "".join(c["source"]))
    bench = models.RESULTS / "model_quality.csv" if have_long_run else tmp_path / "model_quality.csv"
    shown: list = []
    namespace = {"report": report, "model_benchmark": str(bench), "display": shown.append, "Markdown": str}
    exec(compile(cell, "08_overview successor cell", "exec"), namespace)  # noqa: S102
    assert shown == (["**What may replace it.** " + models.successor_text()] if have_long_run else [])
    if have_long_run:
        assert models.successor_text() in readme.generated_block(README.read_text())


@pytest.mark.parametrize("last_median, reached, status", [
    (0.85, "first reached at step 8,000", "resumable across sessions) is scored along the way: median"),
    (0.80, "not reached yet", "stopped at step 8,000 by the stop rule in its configuration's header (train on "
     "while the median rises at every 4,000-step point; 0.800 at step 4,000, 0.800 "
     "at 8,000). Its checkpoints scored median")])
def test_the_long_run_says_when_it_reaches_the_target_and_whether_it_stopped(tmp_path, last_median, reached, status):
    """A run whose per-dataset medians are 0.80 at step 4,000 and ``last_median`` at 8,000, against the committed
    target (gradient boosting's median at n_train 256 in tiny_model.csv, 0.849 as the README shows it); a median
    that does not rise stops the run. A checkpoint scored at a session's end (step 5,000) is named apart."""
    for name in ("tiny_model.csv", "pretrain_efficiency.csv", "pretrain_xl_rules.csv"):
        (tmp_path / name).write_bytes((models.RESULTS / name).read_bytes())
    target = zero_shot_table(models.RESULTS / "tiny_model.csv").at[models.TARGET_N_TRAIN, "gradient boosting"]
    assert 0.80 < round(target, 3) <= 0.85
    rows = [{"run": "xl", "step": step, "cpu_minutes": step / 100, "dataset": d, "seed": 0, "roc_auc": auc}
            for step, auc in [(4000, 0.80), (5000, 0.78), (8000, last_median)] for d in "abc"]
    pd.DataFrame(rows).to_csv(tmp_path / "pretrain_xl.csv", index=False)
    text = " ".join(models.long_run_text(tmp_path).split())
    assert f"median zero-shot ROC-AUC 0.800 and {last_median:.3f} at steps 4,000 and 8,000 (40 and 80" in text
    assert "trainer-minutes; 0.780 at a session-end checkpoint, step 5,000)" in text
    assert f"the gradient-boosting target is {target:.3f}, {reached} (" in text
    assert status in text
