"""Bad data: dataset files changed since their manifest, malformed manifests, and tables every run
would fail on or misread. Each is a clear error naming the file or column (or a recorded fallback),
never silent, never a traceback."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from causalmix import data
from causalmix.cli import main
from causalmix.data import DatasetError, add_dataset, load_dataset


@pytest.fixture
def local(tmp_path, monkeypatch, data_dir):
    """A copy of two shared datasets and their manifest entries, as CAUSALMIX_DATA_DIR."""
    folder = tmp_path / "data"
    folder.mkdir()
    manifest = json.loads((data_dir / "manifest.json").read_text())
    keep = [e for e in manifest["datasets"] if e["name"] in ("blood-transfusion", "diabetes")]
    for e in keep:
        shutil.copy(data_dir / e["file"], folder / e["file"])
    (folder / "manifest.json").write_text(json.dumps({**manifest, "datasets": keep}))
    monkeypatch.setenv("CAUSALMIX_DATA_DIR", str(folder))
    return folder


def _entry(folder, name):
    return next(e for e in json.loads((folder / "manifest.json").read_text())["datasets"] if e["name"] == name)


def test_a_dataset_file_with_one_changed_value_is_refused_naming_the_file_and_sha256(local, monkeypatch, capsys):
    entry = _entry(local, "blood-transfusion")
    path = local / entry["file"]
    frame = pd.read_csv(path)
    frame.iloc[0, 0] += 1  # one changed value
    path.write_bytes(gzip.compress(frame.to_csv(index=False).encode(), mtime=0))
    with pytest.raises(DatasetError, match=rf"blood-transfusion\.csv\.gz has sha256 [0-9a-f]{{64}}, but "
                                           rf"{entry['sha256']} was recorded"):
        load_dataset("blood-transfusion")
    assert main(["run", "--dataset", "blood-transfusion", "--method", "pretrained", "--n-train", "48",
                 "--quiet"]) in (1, 2)
    assert entry["sha256"] in capsys.readouterr().err
    monkeypatch.setenv("CAUSALMIX_VERIFY_CHECKSUMS", "0")  # the documented escape hatch
    assert load_dataset("blood-transfusion").X.iloc[0, 0] == frame.iloc[0, 0]


def test_a_truncated_dataset_file_is_refused_not_an_eof_error(local):
    path = local / _entry(local, "diabetes")["file"]
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetError, match="diabetes.csv.gz has sha256"):
        load_dataset("diabetes")


@pytest.mark.parametrize("damage, message", [
    (lambda m: {"no": "datasets"}, "no 'datasets' list"),
    (lambda m: {**m, "datasets": [{k: v for k, v in m["datasets"][0].items() if k != "file"}]}, "lacks or mistypes file"),
    (lambda m: {**m, "datasets": [{**m["datasets"][0], "columns": [{"name": "x", "type": "text"}]}]},
     "must be {name, type: numeric|categorical}"),
])
def test_a_malformed_manifest_is_named(local, damage, message):
    manifest = json.loads((local / "manifest.json").read_text())
    (local / "manifest.json").write_text(json.dumps(damage(manifest)))
    with pytest.raises(DatasetError, match=message) as err:
        load_dataset("diabetes")
    assert "manifest.json" in str(err.value)


def test_a_folder_as_dataset_file_is_named(local):
    entry = _entry(local, "diabetes")
    (local / entry["file"]).unlink()
    (local / entry["file"]).mkdir()
    with pytest.raises(DatasetError, match="is a folder"):
        load_dataset("diabetes")


def _table(n=40, **extra):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n).round(3), **extra, "label": np.array(["a", "b"])[np.arange(n) % 2]})


def test_question_marks_in_a_numeric_column_are_refused_until_declared_missing(tmp_path, capsys):
    values = np.arange(40).astype(str).astype(object)
    values[[3, 17]] = "?"
    path = tmp_path / "q.csv"
    _table(age=values).to_csv(path, index=False)
    with pytest.raises(DatasetError, match=r"column 'age' is numeric except for 2 value\(s\) \['\?'\].*--na-values \?"):
        add_dataset(path, target="label", data_dir=tmp_path / "d")
    ds = add_dataset(path, target="label", data_dir=tmp_path / "d", na_values=["?"])
    assert "age" not in ds.categorical_features and ds.X["age"].isna().sum() == 2
    assert main(["add-dataset", str(path), "--target", "label", "--data-dir", str(tmp_path / "e"),
                 "--na-values", "?"]) == 0


@pytest.mark.parametrize("value, message", [(np.inf, "infinite or overflowing"), (1e306, "infinite or overflowing")])
def test_non_finite_or_overflowing_features_are_refused_at_add_dataset(tmp_path, value, message):
    big = np.ones(40)
    big[5] = value
    big[6] = 2.0
    path = tmp_path / "big.csv"
    _table(big=big).to_csv(path, index=False)
    with pytest.raises(DatasetError, match=rf"column 'big' .*{message}"):
        add_dataset(path, target="label", data_dir=tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_constant_columns_are_dropped_with_a_warning_and_noted(tmp_path):
    path = tmp_path / "const.csv"
    _table(same=np.full(40, 7.0)).to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"excluded constant column\(s\) \['same'\]"):
        ds = add_dataset(path, target="label", data_dir=tmp_path / "d")
    assert "same" not in ds.X.columns and any("constant" in d for d in ds.provenance["dropped_columns"])


def test_a_parquet_list_column_is_refused_naming_it(tmp_path):
    path = tmp_path / "nested.parquet"
    _table(tags=[[i, i + 1] for i in range(40)]).to_parquet(path)
    with pytest.raises(DatasetError, match="column 'tags' holds nested values"):
        add_dataset(path, target="label", data_dir=tmp_path / "d")


def test_add_dataset_does_not_replace_an_existing_name_without_replace(tmp_path, capsys):
    first, second = tmp_path / "one.csv", tmp_path / "two.csv"
    _table().to_csv(first, index=False)
    _table(n=60).to_csv(second, index=False)
    add_dataset(first, target="label", data_dir=tmp_path / "d", name="mine")
    before = (tmp_path / "d" / "mine.csv.gz").read_bytes()
    assert main(["add-dataset", str(second), "--target", "label", "--data-dir", str(tmp_path / "d"),
                 "--name", "mine"]) == 2
    assert "already holds a dataset named 'mine'" in capsys.readouterr().err
    assert (tmp_path / "d" / "mine.csv.gz").read_bytes() == before
    assert main(["add-dataset", str(second), "--target", "label", "--data-dir", str(tmp_path / "d"),
                 "--name", "mine", "--replace"]) == 0
    assert _entry(tmp_path / "d", "mine")["n_rows"] == 60


def test_a_users_data_folder_gets_sha256_in_its_manifest_and_is_checked(tmp_path, monkeypatch):
    path = tmp_path / "one.csv"
    _table().to_csv(path, index=False)
    add_dataset(path, target="label", data_dir=tmp_path / "d", name="mine")
    entry = _entry(tmp_path / "d", "mine")
    assert len(entry["sha256"]) == 64
    monkeypatch.setenv("CAUSALMIX_DATA_DIR", str(tmp_path / "d"))
    load_dataset("mine")
    (tmp_path / "d" / "mine.csv.gz").write_bytes(gzip.compress(b"x,label\n1,a\n", mtime=0))
    with pytest.raises(DatasetError, match=entry["sha256"]):
        load_dataset("mine")


@pytest.mark.parametrize("sep, what", [(";", "semicolon"), ("\t", "tab")])
def test_a_semicolon_or_tab_file_names_its_delimiter(tmp_path, sep, what):
    path = tmp_path / "semi.csv"
    _table().to_csv(path, index=False, sep=sep)
    with pytest.raises(DatasetError, match=f"looks {what}-separated"):
        data.load_dataset(path, target="label")


def test_a_truncated_csv_gz_file_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(_table(n=400).to_csv(index=False).encode())[:300])
    with pytest.raises(DatasetError, match="Could not read"):
        load_dataset(path, target="label")
