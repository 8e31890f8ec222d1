"""The OpenML route, offline: openml's own loading code (get_dataset, get_data) reads a cache in
openml's on-disk format that the test builds from shared datasets; and every dataset of the full
configuration resolves in the registry to an OpenML dataset id (and, for TabArena's, a task id)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from causalmix import data


def _openml_cache(root, name: str, shared, categorical: list[str]) -> int:
    """``<root>/org/openml/www/datasets/<id>/``: description.xml and dataset_<id>.pq, as openml writes them."""
    from openml.utils import _create_cache_directory_for_id

    info = data.REGISTRY[name]
    did = info.openml_dataset_id
    folder = _create_cache_directory_for_id("datasets", did)
    assert str(folder).startswith(str(root))
    frame = pd.read_csv(shared / f"{name}.csv.gz")
    target = frame.columns[-1] if name != "credit-g" else "class"
    for c in [*categorical, target]:
        frame[c] = frame[c].astype("category")
    frame.to_parquet(folder / f"dataset_{did}.pq")
    (folder / "description.xml").write_text(
        f'<oml:data_set_description xmlns:oml="http://openml.org/openml"><oml:id>{did}</oml:id>'
        f"<oml:name>{name}</oml:name><oml:version>1</oml:version><oml:format>ARFF</oml:format>"
        f"<oml:url>https://openml.invalid/data/v1/download/{did}</oml:url>"
        f"<oml:parquet_url>https://openml.invalid/dataset{did}/dataset_{did}.pq</oml:parquet_url>"
        f"<oml:default_target_attribute>{target}</oml:default_target_attribute><oml:status>active</oml:status>"
        "</oml:data_set_description>")
    return did


@pytest.fixture
def openml_cache(tmp_path, monkeypatch):
    import openml

    before = openml.config.get_cache_directory()
    openml.config.set_root_cache_directory(tmp_path)
    monkeypatch.delenv("CAUSALMIX_DATA_DIR", raising=False)  # no local folder: the OpenML route
    yield tmp_path
    openml.config.set_root_cache_directory(str(before).removesuffix("/org/openml/www"))


def test_datasets_load_through_openmls_own_code_from_its_cache(openml_cache, data_dir):
    did = _openml_cache(openml_cache, "diabetes", data_dir, [])
    ds = data.load_dataset("diabetes")
    assert ds.provenance["source"] == f"openml:{did}" and ds.X.shape == (768, 8) and len(ds.classes) == 2
    manifest = {e["name"]: e for e in json.loads((data_dir / "manifest.json").read_text())["datasets"]}
    categorical = [c["name"] for c in manifest["credit-g"]["columns"] if c["type"] == "categorical" and c["name"] != "class"]
    _openml_cache(openml_cache, "credit-g", data_dir, categorical)
    credit = data.load_dataset("credit-g")
    assert credit.provenance["source"].startswith("openml:") and credit.X.shape[0] == 1000
    assert set(categorical) <= {c for c in credit.X.columns if isinstance(credit.X[c].dtype, pd.CategoricalDtype)}


def test_every_full_configuration_dataset_resolves_to_openml_ids():
    cfg = yaml.safe_load((Path(__file__).resolve().parents[1] / "causalmix" / "configs" / "full.yaml").read_text())
    names = {*cfg["datasets"], *(b["dataset"] for b in cfg.get("domain_shift") or [])}
    infos = {n: data.REGISTRY[data.resolve_name(n)] for n in names}
    assert all(i.openml_dataset_id for i in infos.values())
    no_task = {n for n, i in infos.items() if not i.tabarena_task_id}
    assert no_task == {"adult"}  # Adult (OpenML 1590) is the brief's dataset, not a TabArena task
    assert infos["adult"].openml_dataset_id == 1590
    assert len([n for n in names if infos[n].in_tabarena_33]) == len(names) - 1


def test_a_sweep_that_cannot_fetch_a_dataset_stops_before_any_run(openml_cache, data_dir, monkeypatch, tmp_path):
    # Without a local copy, each run would fetch the dataset from OpenML; offline, the sweep says so once,
    # before computing or writing anything, instead of recording one failure per run.
    import openml

    from causalmix.experiment import run_sweep
    from causalmix.plan import plan_sweep

    def offline(*args, **kwargs):
        raise ConnectionError("no route to www.openml.org")

    monkeypatch.setattr(openml.datasets, "get_dataset", offline)
    cfg = {"name": "offline", "device": "cpu", "datasets": ["phoneme"], "n_train": [32], "seeds": [0, 1],
           "methods": ["pretrained"], "out_dir": str(tmp_path / "out")}
    assert int(plan_sweep(cfg).table["to_run"].sum()) == 2  # a plan reads no data
    with pytest.raises(data.DatasetError, match=r"Could not fetch 'phoneme' from OpenML .*CAUSALMIX_DATA_DIR is unset"):
        run_sweep(cfg, progress=False)
    assert not (tmp_path / "out").exists()
