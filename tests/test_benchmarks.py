"""The model benchmarks' own logic: recipe variants (``recipes.py``), the in-prior rule check's results
(``rule_prior_check.py``), several models scored on the same splits (``tiny_model.py``)."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("recipes", ROOT / "benchmarks" / "recipes.py")
recipes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recipes)

BASE = {"lr": 0.002, "steps": 10000, "warmup_steps": 300, "batch_size": 12, "prior": {"max_rows": 512}}


def test_a_variant_overrides_the_base_and_the_prior_and_may_set_its_own_steps():
    name, overrides = recipes.parse_variant("b6:batch_size=6,prior.mix_share=0.3,steps=2685")
    assert name == "b6"
    config = recipes.recipe(BASE, overrides, 2000)
    assert config["batch_size"] == 6 and config["steps"] == 2685 and config["warmup_steps"] == 268
    assert config["prior"] == {"max_rows": 512, "mix_share": 0.3} and config["lr"] == 0.002
    plain = recipes.recipe(BASE, recipes.parse_variant("lr:lr=0.004")[1], 2000)
    assert plain["steps"] == 2000 and plain["warmup_steps"] == 200 and plain["lr"] == 0.004
    assert BASE["prior"] == {"max_rows": 512}  # the base is not modified


def test_the_rule_check_adds_a_model_to_its_results_without_scoring_the_others_again(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("rule_prior_check", ROOT / "benchmarks" / "rule_prior_check.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    scored = []

    def fake_score(models, *, tables, seed):  # a model's ROC-AUC on table t: its number + t / 100
        scored.append(list(models))
        rows = [(shape, t, "tree", m, value + t / 100) for shape in check.SHAPES for t in range(tables)
                for m, value in [*((m, float(v)) for m, v in models.items()), ("random_forest", 0.9)]]
        frame = pd.DataFrame(rows, columns=["shape", "table", "kind", "model", "roc_auc"])
        return frame.assign(seed=seed, tables=tables)

    monkeypatch.setattr(check, "score", fake_score)
    check.main(["--models", "a=0.5", "--tables", "3", "--name", "rules", "--out-dir", str(tmp_path)])
    check.main(["--models", "a=0.1", "b=0.6", "--tables", "3", "--name", "rules", "--out-dir", str(tmp_path)])
    assert scored == [["a"], ["b"]]  # `a` kept its first scores
    table = check.summary(pd.read_csv(tmp_path / "rules.csv"))
    assert list(table.columns) == ["a", "b", "random_forest"]
    assert set(table["a"]) == {"0.510 / 0.510"} and set(table["b"]) == {"0.610 / 0.610"}
    assert "0.910 / 0.910" in (tmp_path / "rules.md").read_text()
    with pytest.raises(SystemExit, match="other tables"):
        check.main(["--models", "c=0.5", "--tables", "4", "--name", "rules", "--out-dir", str(tmp_path)])


def test_several_models_are_scored_on_the_same_splits_as_one_alone(data_dir):
    spec = importlib.util.spec_from_file_location("tiny_model", ROOT / "benchmarks" / "tiny_model.py")
    tiny_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny_model)
    grid = dict(datasets=["wdbc"], n_trains=[64], seeds=2, n_estimators=1, test_cap=100, baselines=("logreg",))
    both = tiny_model.run(model=["causalmix-tiny", "causalmix-wide"], **grid)
    alone = tiny_model.run(model="causalmix-wide", **grid)
    assert list(dict.fromkeys(both["model"])) == ["causalmix-tiny", "causalmix-wide", "logreg"]
    key = ["seed", "model"]
    pd.testing.assert_frame_equal(
        both[both["model"] != "causalmix-tiny"].sort_values(key).reset_index(drop=True).drop(columns="seconds"),
        alone.sort_values(key).reset_index(drop=True).drop(columns="seconds"))


def test_a_run_scored_earlier_is_taken_beside_a_new_one_from_its_results_file():
    spec = importlib.util.spec_from_file_location("pretrain_efficiency", ROOT / "benchmarks" / "pretrain_efficiency.py")
    efficiency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(efficiency)
    csv = ROOT / "benchmarks" / "results" / "pretrain_efficiency.csv"
    rows = efficiency.earlier_run(f"{csv}:causalmix-wide", 256)
    assert set(rows["run"]) == {"causalmix-wide"} and set(rows["n_train"]) == {256}
    assert rows.groupby("step").size().eq(17 * 5).all()  # every checkpoint: 17 datasets x 5 seeds
    for item in (f"{csv}:no-such-run", "missing.csv:causalmix-wide"):
        with pytest.raises(SystemExit, match="--beside"):
            efficiency.earlier_run(item, 256)
