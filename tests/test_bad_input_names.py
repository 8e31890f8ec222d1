"""Bad input, names and paths (issue 10): a name is a plain name, and nothing is written outside
its folder."""

import json

import pytest

from causalmix.data import (
    DatasetError,
    add_dataset,
    check_name,
    load_dataset,
    safe_path,
    sanitize_name,
)

from _bad_input import box, listing, assert_nothing_written, assert_written_only_inside, frame, write_csv, cli, DATA  # noqa: F401 - box is a fixture


# --- 1. names are names ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc", "/tmp/abs", "a/b", "a\\b", ".", "..", ".hidden", "", "two words",
                                 "-x", "x" * 129, "naïve", None])
def test_check_name_rejects_anything_but_plain_names(name):
    with pytest.raises(ValueError, match=r"must match \[A-Za-z0-9\]|at most 128"):
        check_name(name)


@pytest.mark.parametrize("name", ["adult", "credit-g", "Bank_Customer_Churn", "v1.2", "0"])
def test_check_name_accepts_plain_names(name):
    assert check_name(name) == name


def test_check_name_says_what_it_checks():
    with pytest.raises(ValueError, match="Invalid method name"):
        check_name("../x", what="method name")


def test_safe_path_keeps_files_inside_their_folder(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    assert safe_path(folder, "records/x.json") == (folder / "records" / "x.json").resolve()
    for bad in ["../x.json", "/etc/passwd", "records/../../x.json", "."]:
        with pytest.raises(ValueError, match="outside the folder"):
            safe_path(folder, bad)
    (folder / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="outside the folder"):
        safe_path(folder, "link/x.json")


def test_add_dataset_path_as_name_writes_nothing(box, capsys):
    path = write_csv(box, frame())
    before = listing(box)
    assert cli(path, "--target", "label", "--data-dir", box / DATA, "--name", "../../etc") == 2
    assert "error: Invalid dataset name '../../etc'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Invalid dataset name"):
        add_dataset(path, target="label", data_dir=box / DATA, name=str(box / "abs"))
    assert_nothing_written(box, before)


@pytest.mark.parametrize("name", ["../../escaped", "/abs/escaped", "a/../b"])
def test_run_dataset_name_that_is_a_path(box, name):
    before = listing(box)
    with pytest.raises(DatasetError, match="Invalid dataset name"):
        load_dataset(name)
    assert_nothing_written(box, before)


def test_default_name_is_the_sanitized_stem(box):
    path = write_csv(box, frame(), name="my data (v2).csv")
    before = listing(box)
    ds = add_dataset(path, target="label", data_dir=box / DATA)
    assert ds.name == "my-data-v2" and (box / DATA / "my-data-v2.csv.gz").is_file()
    assert sanitize_name("///") == "dataset"
    assert_written_only_inside(box, before, DATA)


def test_manifest_pointing_outside_its_folder_is_refused(box, monkeypatch):
    folder = box / "out" / "data"
    folder.mkdir(parents=True)
    entry = {"name": "evil", "file": "../../in/x.csv.gz", "target": "label", "columns": []}
    (folder / "manifest.json").write_text(json.dumps({"datasets": [entry]}))
    monkeypatch.setenv("CAUSALMIX_DATA_DIR", str(folder))
    with pytest.raises(ValueError, match="outside the folder"):
        load_dataset("evil")
