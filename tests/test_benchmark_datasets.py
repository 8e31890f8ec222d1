"""The benchmarks that score models never touch the 14 datasets reserved for the confirmatory study and
issue 29's acceptance run unless asked to (``--acceptance``): every recipe decision is made on the 17 first."""

import importlib.util
from pathlib import Path

import pytest

from causalmix.study import settings

ROOT = Path(__file__).resolve().parents[1]


def _benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_models_are_scored_on_the_first_study_and_accepted_on_the_reserved_datasets():
    tiny_model = _benchmark("tiny_model")
    first, reserved = tiny_model.first_study_datasets(), tiny_model.acceptance_datasets()
    assert first == settings("standard")["datasets"] and len(first) == 17
    assert len(reserved) == 14 and not set(first) & set(reserved)
    assert reserved == settings("confirmatory")["datasets"]
    with pytest.raises(SystemExit):  # the two ways of choosing datasets do not mix
        tiny_model.main(["--acceptance", "--datasets", "wdbc", "--no-write"])
