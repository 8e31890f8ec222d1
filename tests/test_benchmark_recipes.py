"""``benchmarks/recipes.py`` turns ``--variant`` texts into pretraining recipes."""

import importlib.util
from pathlib import Path

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
