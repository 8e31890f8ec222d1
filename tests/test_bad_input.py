"""Bad input through the data layer (issue 10): every case gives a clear message or a recorded
note, and nothing is written outside the target folder."""

import gzip
import json
import os
import socket
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalmix import data
from causalmix.cli import main
from causalmix.data import (
    DatasetError,
    add_dataset,
    check_name,
    load_dataset,
    low_data_split,
    safe_path,
    sanitize_name,
)

README = Path(__file__).resolve().parents[1] / "README.md"


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def box(tmp_path, monkeypatch):
    """A sandbox: inputs under ``in/``, the data folder ``out/a/b/data``, the working directory ``cwd/``."""
    (tmp_path / "in").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def written(root: Path, before: set[str]) -> set[str]:
    """Paths that appeared under ``root`` since ``before``."""
    return listing(root) - before


def assert_nothing_written(root: Path, before: set[str]) -> None:
    assert written(root, before) == set()


def assert_written_only_inside(root: Path, before: set[str], folder: str) -> None:
    """New paths lie inside ``folder`` (or are the folders created on the way to it)."""
    inside = Path(folder)
    outside = {p for p in written(root, before) if Path(p) != inside and inside not in Path(p).parents
               and Path(p) not in inside.parents}
    assert outside == set()


def frame(n: int = 40, seed: int = 0, **extra) -> pd.DataFrame:
    """A small two-class table with a numeric and a categorical feature, plus ``extra`` columns."""
    rng = np.random.default_rng(seed)
    base = {"x": rng.normal(size=n).round(3), "colour": rng.choice(["r", "g", "b"], size=n)}
    return pd.DataFrame({**base, **extra, "label": np.array(["a", "b"])[np.arange(n) % 2]})


def write_csv(box: Path, df: pd.DataFrame, name: str = "mine.csv", **kwargs) -> Path:
    path = box / "in" / name
    df.to_csv(path, index=False, **kwargs)
    return path


def cli(*args: str) -> int:
    return main(["add-dataset", *map(str, args)])


DATA = "out/a/b/data"


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


# --- 2. reading tables ----------------------------------------------------------------------


def test_duplicate_column_names_csv(box):
    path = box / "in" / "dup.csv"
    path.write_text("x,y,x,label\n1,2,3,a\n4,5,6,b\n")
    before = listing(box)
    with pytest.raises(DatasetError, match=r"duplicate column names \['x'\]"):
        load_dataset(path, target="label")
    with pytest.raises(DatasetError, match=r"duplicate column names \['x'\]"):
        add_dataset(path, target="label", data_dir=box / DATA)
    assert_nothing_written(box, before)


def test_duplicate_column_names_parquet(box):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = box / "in" / "dup.parquet"
    pq.write_table(pa.table([[1, 2], [3, 4], ["a", "b"]], names=["v", "v", "label"]), path)
    with pytest.raises(DatasetError, match=r"duplicate column names \['v'\]"):
        load_dataset(path, target="label")


def test_date_strings_are_an_error_that_says_how_to_convert(box):
    days = pd.date_range("2021-01-01", periods=40, freq="3D")
    path = write_csv(box, frame(when=days.strftime("%Y-%m-%d %H:%M")))
    before = listing(box)
    with pytest.raises(DatasetError, match=r"\['when'\] hold dates.*dates='numeric'.*--dates numeric"):
        load_dataset(path, target="label")
    assert cli(path, "--target", "label", "--data-dir", box / DATA) == 2
    assert_nothing_written(box, before)


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y"])
def test_date_strings_become_days_since_1970_on_request(box, fmt):
    days = pd.date_range("2021-01-13", periods=40, freq="5D")
    ds = load_dataset(write_csv(box, frame(when=days.strftime(fmt))), target="label", dates="numeric")
    expected = (days - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    np.testing.assert_allclose(ds.X["when"], expected)  # one format per column: 13/01 makes it day-first
    assert ds.X["when"].dtype == "float64" and "when" not in ds.categorical_features
    assert ds.provenance["converted_columns"] == ["when (dates as days since 1970-01-01 UTC)"]


def test_date_strings_kept_as_categories_on_request(box, data_dir):
    real = pd.read_csv(data_dir / "diabetes.csv.gz").head(100)  # real rows, a visit date added
    real.insert(0, "visit", pd.date_range("2019-05-01", periods=100, freq="7D").strftime("%d/%m/%Y"))
    path = write_csv(box, real, name="visits.csv")
    before = listing(box)
    assert cli(path, "--target", "class", "--data-dir", box / DATA, "--dates", "categorical") == 0
    ds = load_dataset(path, target="class", dates="categorical")
    assert "visit" in ds.categorical_features and ds.provenance["date_columns_kept_as_categories"] == ["visit"]
    manifest = json.loads((box / DATA / "manifest.json").read_text())
    assert manifest["datasets"][0]["date_columns_kept_as_categories"] == ["visit"]
    assert_written_only_inside(box, before, DATA)


def test_datetime_parquet_column_converted_on_request(box):
    path = box / "in" / "d.parquet"
    frame(when=pd.date_range("2020-01-01", periods=40, freq="D")).to_parquet(path)
    with pytest.raises(DatasetError, match="Unsupported column types.*when.*dates='numeric'"):
        load_dataset(path, target="label")
    ds = load_dataset(path, target="label", dates="numeric")
    assert ds.X["when"].iloc[0] == 18262.0  # 2020-01-01


def test_strings_that_merely_contain_digits_are_not_dates(box):
    ds = load_dataset(write_csv(box, frame(code=["v1.2.3", "A-12", "3", "x"] * 10)), target="label")
    assert "code" in ds.categorical_features


def test_all_missing_column_dropped_and_noted(box, monkeypatch):
    path = write_csv(box, frame(empty=[np.nan] * 40))
    ds = load_dataset(path, target="label")
    assert "empty" not in ds.X.columns
    assert ds.provenance["dropped_columns"] == ["empty (all values missing)"]
    before = listing(box)
    add_dataset(path, target="label", data_dir=box / DATA, name="mine")
    manifest = json.loads((box / DATA / "manifest.json").read_text())
    assert manifest["datasets"][0]["dropped_columns"] == ["empty (all values missing)"]
    monkeypatch.setenv("CAUSALMIX_DATA_DIR", str(box / DATA))
    assert load_dataset("mine").provenance["dropped_columns"] == ["empty (all values missing)"]
    assert_written_only_inside(box, before, DATA)


@pytest.mark.parametrize(
    "ids",
    [
        [f"user-{i:03d}" for i in np.random.default_rng(1).permutation(40)],  # a distinct string per row
        list(range(40)),  # 0..n-1
        list(np.random.default_rng(2).permutation(40) + 1),  # 1..n, shuffled
        list(range(1000, 1040)),  # any consecutive sequence
    ],
)
def test_identifier_columns_excluded_with_a_warning(box, ids):
    path = write_csv(box, frame(customer=ids))
    with pytest.warns(UserWarning, match=r"excluded identifier-like column\(s\) \['customer'\].*keep_id_columns=True"):
        ds = load_dataset(path, target="label")
    assert "customer" not in ds.X.columns
    assert ds.provenance["dropped_columns"] == ["customer (identifier-like: a distinct value per row)"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = load_dataset(path, target="label", keep_id_columns=True)
    assert "customer" in kept.X.columns and kept.provenance["kept_identifier_columns"] == ["customer"]


def test_written_index_column_is_an_identifier(box):
    path = box / "in" / "indexed.csv"
    frame().to_csv(path)  # pandas' index becomes an unnamed 0..n-1 column
    with pytest.warns(UserWarning, match="Unnamed: 0"):
        ds = load_dataset(path, target="label")
    assert list(ds.X.columns) == ["x", "colour"]


def test_ordinary_columns_are_not_identifiers(box):
    rng = np.random.default_rng(0)
    df = frame(count=rng.integers(0, 10_000, size=40), level=rng.choice(list("abcdefghij"), size=40))
    small = pd.DataFrame({"a": [3, 1, 2, 4], "label": ["x", "y", "x", "y"]})  # under 10 rows: never flagged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert {"count", "level"} <= set(load_dataset(write_csv(box, df), target="label").X.columns)
        assert "a" in load_dataset(write_csv(box, small, name="small.csv"), target="label").X.columns


def test_identifier_columns_real_data(box, data_dir):
    """A real table (credit-g, shared folder) with an added row number and customer code."""
    real = pd.read_csv(data_dir / "credit-g.csv.gz").head(300)
    real.insert(0, "row", range(1, 301))
    real.insert(1, "customer", [f"C{i:05d}" for i in np.random.default_rng(0).permutation(300)])
    path = write_csv(box, real, name="credit.csv")
    with pytest.warns(UserWarning, match=r"\['row', 'customer'\]"):
        ds = load_dataset(path, target="class")
    assert ds.X.shape == (300, 20)


def test_latin1_file_names_the_encoding_option_and_byte(box, capsys):
    path = box / "in" / "latin.csv"
    rows = "".join(f"{'café' if i % 3 else 'naïve'},{i % 2}\n" for i in range(20))
    path.write_bytes(("place,label\n" + rows).encode("latin-1"))
    before = listing(box)
    with pytest.raises(DatasetError, match=r"not valid utf-8.*offset 14 \(0xef, line 2\).*encoding='latin-1'"):
        load_dataset(path, target="label")
    assert cli(path, "--target", "label", "--data-dir", box / DATA) == 2
    assert "--encoding latin-1" in capsys.readouterr().err
    assert_nothing_written(box, before)
    assert cli(path, "--target", "label", "--data-dir", box / DATA, "--encoding", "latin-1") == 0
    ds = load_dataset(path, target="label", encoding="latin-1")
    assert set(ds.X["place"]) == {"café", "naïve"} and ds.provenance["encoding"] == "latin-1"
    assert_written_only_inside(box, before, DATA)


def test_decode_error_position_inside_gzip(box):
    path = box / "in" / "latin.csv.gz"
    body = "a,label\n" + "1,x\n" * 5000 + "2,\xff\n"
    path.write_bytes(gzip.compress(body.encode("latin-1")))
    with pytest.raises(DatasetError, match=r"offset 20010 \(0xff, line 5002\) of the decompressed data"):
        load_dataset(path, target="label")


def test_unknown_encoding(box):
    with pytest.raises(DatasetError, match="Unknown encoding 'klingon'"):
        load_dataset(write_csv(box, frame()), target="label", encoding="klingon")


def test_add_dataset_rejects_a_class_with_one_row_like_a_run(box, capsys):
    df = pd.DataFrame({"x": np.arange(20) * 0.5, "label": ["a"] * 10 + ["b"] * 9 + ["c"]})
    path = write_csv(box, df)
    with pytest.raises(DatasetError) as at_run:
        low_data_split(load_dataset(path, target="label"), n_train=6, seed=0)
    before = listing(box)
    with pytest.raises(DatasetError) as at_add:
        add_dataset(path, target="label", data_dir=box / DATA)
    assert "Classes ['c']" in str(at_add.value) and "fewer than 2 rows" in str(at_add.value)
    assert str(at_run.value) == str(at_add.value)
    assert cli(path, "--target", "label", "--data-dir", box / DATA) == 2
    assert "error: Classes ['c']" in capsys.readouterr().err
    assert_nothing_written(box, before)


def test_add_dataset_too_few_rows_for_any_split(box):
    path = write_csv(box, pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5], "label": ["a", "a", "b", "b"]}))
    with pytest.raises(DatasetError, match="smallest split .* needs 5"):
        add_dataset(path, target="label", data_dir=box / DATA)


# --- 3. the add-dataset command -------------------------------------------------------------


def test_cli_keeps_id_columns_on_request_and_prints_notes(box, capsys, monkeypatch):
    path = write_csv(box, frame(row=range(40), empty=[np.nan] * 40))
    before = listing(box)
    assert cli(path, "--target", "label", "--data-dir", box / DATA, "--name", "plain") == 0
    out = capsys.readouterr()
    assert "warning: 'mine': excluded identifier-like column(s) ['row']" in out.err
    assert "dropped columns: empty (all values missing), row (identifier-like" in out.out
    assert cli(path, "--target", "label", "--data-dir", box / DATA, "--name", "kept", "--keep-id-columns") == 0
    assert "warning" not in capsys.readouterr().err
    monkeypatch.setenv("CAUSALMIX_DATA_DIR", str(box / DATA))
    assert "row" not in load_dataset("plain").X.columns and "row" in load_dataset("kept").X.columns
    assert_written_only_inside(box, before, DATA)


def test_cli_read_only_data_dir_is_a_clear_error(box, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = box / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert cli(write_csv(box, frame()), "--target", "label", "--data-dir", folder) == 2
    finally:
        folder.chmod(0o700)
    assert "error: Could not write to" in capsys.readouterr().err


def test_cli_data_dir_that_is_a_file(box, capsys):
    blocker = box / "in" / "afile"
    blocker.write_text("x")
    assert cli(write_csv(box, frame()), "--target", "label", "--data-dir", blocker) == 2
    assert "error: Could not write to" in capsys.readouterr().err


# --- 4. where data comes from ---------------------------------------------------------------


@pytest.fixture
def offline_openml(box, monkeypatch):
    """OpenML with an empty cache in the sandbox and no data folder."""
    import openml

    monkeypatch.delenv("CAUSALMIX_DATA_DIR", raising=False)
    monkeypatch.setattr(openml.config, "_root_cache_directory", box / "openml-cache")
    return openml


def _no_dns(*args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (networking disabled by the test)")


@pytest.mark.parametrize("how", ["unreachable-server", "no-network"])
def test_openml_offline_fails_at_once_naming_the_ways_out(box, offline_openml, monkeypatch, how):
    if how == "unreachable-server":
        monkeypatch.setattr(offline_openml.config, "server", "http://127.0.0.1:9/api/v1/xml")
    else:
        monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    retries = offline_openml.config.connection_n_retries
    before = listing(box)
    start = time.perf_counter()
    with pytest.raises(DatasetError) as err:
        load_dataset("phoneme")
    assert time.perf_counter() - start < 3
    message = str(err.value)
    assert "CAUSALMIX_DATA_DIR is unset" in message and "causalmix add-dataset" in message
    assert "OpenML (dataset 1489)" in message
    assert offline_openml.config.connection_n_retries == retries  # restored
    assert_written_only_inside(box, before, "openml-cache")


def test_data_dir_unset_means_openml_in_code_and_readme(monkeypatch):
    monkeypatch.delenv("CAUSALMIX_DATA_DIR", raising=False)
    assert data._data_dir() is None and "adult" in data.list_datasets()  # registry only, no default folder
    text = " ".join(README.read_text().split())
    assert "(default: `../shared/datasets` beside the checkout)" not in text
    assert "When `CAUSALMIX_DATA_DIR` is unset, named datasets are fetched from OpenML" in text


# --- 5. cases that already worked -----------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        ("a,other\n1,x\n2,y\n", "Target column 'label' not in"),
        ("a,label\n" + "".join(f"{i / 2},x\n" for i in range(20)), "single class"),
        ("a,label\n1,x\n2,y,3\n4,x\n", "Expected 2 fields in line 3, saw 3"),
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("a,label\n", "has a header row but no data rows"),
    ],
    ids=["missing-target", "single-class", "ragged", "empty", "blank-lines", "header-only"],
)
def test_bad_tables(box, capsys, content, message):
    path = box / "in" / "bad.csv"
    path.write_text(content)
    before = listing(box)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path, target="label")
    assert cli(path, "--target", "label", "--data-dir", box / DATA) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert_nothing_written(box, before)


def test_binary_file_named_csv(box, capsys):
    path = box / "in" / "image.csv"
    path.write_bytes(bytes(range(256)) * 8)
    before = listing(box)
    with pytest.raises(DatasetError, match="looks like a binary file, not CSV text"):
        load_dataset(path, target="label")
    assert cli(path, "--target", "label", "--data-dir", box / DATA) == 2
    assert "error: image.csv looks like a binary file" in capsys.readouterr().err
    assert_nothing_written(box, before)


def test_file_that_is_not_gzip(box):
    path = box / "in" / "broken.csv.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(DatasetError, match="Could not read .* as CSV"):
        load_dataset(path, target="label")


def test_unknown_dataset_name(box, data_dir):
    before = listing(box)
    with pytest.raises(DatasetError, match="Unknown dataset 'credit-gg'. Did you mean 'credit-g'"):
        load_dataset("credit-gg")
    assert_nothing_written(box, before)


def test_150_columns(box, monkeypatch):
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(60, 150)).round(4), columns=[f"f{i:03d}" for i in range(150)])
    path = write_csv(box, wide.assign(label=np.array(["a", "b"])[np.arange(60) % 2]))
    before = listing(box)
    ds = add_dataset(path, target="label", data_dir=box / DATA, name="wide")
    assert ds.X.shape == (60, 150) and ds.categorical_features == ()
    monkeypatch.setenv("CAUSALMIX_DATA_DIR", str(box / DATA))
    assert low_data_split(load_dataset("wide"), n_train=32, seed=0).X_train.shape == (32, 150)
    assert_written_only_inside(box, before, DATA)


def test_500_level_categorical(box):
    levels = [f"L{i}" for i in np.random.default_rng(0).permutation(np.arange(1000) % 500)]
    path = write_csv(box, frame(n=1000, many=levels))
    before = listing(box)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # two rows per level: not an identifier
        ds = add_dataset(path, target="label", data_dir=box / DATA, name="many")
    assert len(ds.X["many"].cat.categories) == 500
    assert_written_only_inside(box, before, DATA)


# --- the runner and the command line (names, folders, sizes, limits, concurrent sweeps) -------------


RUN_FT = ["--max-steps", "1", "--set", "n_estimators=1", "--learning-rate", "1e-3", "--test-cap", "50", "--quiet"]


@pytest.mark.parametrize("name", ["../../escaped", "/abs/escaped"])
def test_cli_run_with_a_path_as_dataset_name_writes_nothing(box, capsys, name, untrained_checkpoint):
    before = listing(box)
    code = main(["run", "--dataset", name, "--method", "smote", "--out", str(box / "O"),
                 "--model", str(untrained_checkpoint), *RUN_FT])
    assert code == 2 and "Invalid dataset name" in capsys.readouterr().err
    assert_nothing_written(box, before)


def test_cli_run_on_a_csv_file_with_target(box, capsys, untrained_checkpoint, data_dir):
    path = write_csv(box, pd.read_csv(data_dir / "diabetes.csv.gz"), name="My Diabetes (v2).csv")
    before = listing(box)
    code = main(["run", "--dataset", str(path), "--target", "class", "--method", "finetune", "--n-train", "32",
                 "--out", str(box / "O"), "--model", str(untrained_checkpoint), *RUN_FT])
    assert code == 0, capsys.readouterr().err
    assert_written_only_inside(box, before, "O")
    (record,) = (box / "O" / "records").glob("*.json")
    assert record.name.startswith("My-Diabetes-v2-finetune-n32-s0-")
    assert main(["run", "--dataset", str(path), "--method", "finetune", "--quiet"]) == 2
    assert "--target" in capsys.readouterr().err


def test_cli_run_into_an_unwritable_folder_fails_before_computing(box, capsys, untrained_checkpoint):
    (box / "a-file").write_text("not a folder")
    code = main(["run", "--dataset", "diabetes", "--method", "finetune", "--out", str(box / "a-file" / "O"),
                 "--model", str(untrained_checkpoint), *RUN_FT])
    err = capsys.readouterr().err
    assert code == 2 and "not writable" in err and "nothing was computed" in err and "Traceback" not in err


def test_sweep_into_an_unwritable_folder_fails_before_computing(box, untrained_checkpoint):
    from causalmix.experiment import run_sweep

    (box / "a-file").write_text("not a folder")
    config = {"name": "x", "model": str(untrained_checkpoint), "datasets": ["diabetes"], "n_train": [32],
              "methods": ["pretrained"], "out_dir": str(box / "a-file" / "O")}
    with pytest.raises(ValueError, match="not writable"):
        run_sweep(config, progress=False)


@pytest.mark.parametrize("method, smallest", [("finetune", 8), ("smote", 8), ("pretrained", 8), ("causalmix", 20)])
def test_too_small_n_train_names_the_minimum_for_every_method(box, capsys, method, smallest):
    code = main(["run", "--dataset", "diabetes", "--method", method, "--n-train", "2", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and f"supports: {smallest} rows" in err and "Traceback" not in err


def test_negative_seed_and_n_train_larger_than_the_data(box, capsys, untrained_checkpoint):
    assert main(["run", "--dataset", "diabetes", "--seed", "-1", "--quiet"]) == 2
    assert "seed must be a non-negative int" in capsys.readouterr().err
    code = main(["run", "--dataset", "diabetes", "--n-train", "5000", "--method", "pretrained",
                 "--model", str(untrained_checkpoint), "--quiet"])
    assert code == 1 and "5000" in capsys.readouterr().err  # recorded as a failed run with the reason


def test_more_classes_than_the_model_head(box, capsys, untrained_checkpoint):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=240), "label": [f"c{i % 12}" for i in range(240)]})
    path = write_csv(box, df)
    code = main(["run", "--dataset", str(path), "--target", "label", "--method", "pretrained", "--n-train", "48",
                 "--model", str(untrained_checkpoint), "--quiet"])
    assert code == 1 and "12 classes" in capsys.readouterr().err


def test_unexpected_errors_are_one_message_and_debug_shows_the_traceback(box, capsys, monkeypatch):
    import causalmix.cli as cli_module

    def boom(args):
        raise RuntimeError("something odd")

    monkeypatch.setattr(cli_module, "_cmd_results", boom)
    assert main(["results", str(box)]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError: something odd" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError):
        main(["results", str(box), "--debug"])


def test_two_concurrent_sweeps_compute_each_run_once(box, untrained_checkpoint):
    import subprocess
    import sys

    import yaml

    config = {"name": "pair", "model": str(untrained_checkpoint), "device": "cpu", "threads": 1,
              "datasets": ["diabetes", "blood-transfusion"], "n_train": [32], "seeds": [0, 1],
              "methods": ["pretrained", "finetune", "mixup"], "test_cap": 50,
              "finetune": {"max_steps": 2, "eval_every": 1, "learning_rate": 1e-3, "n_estimators": 1},
              "out_dir": str(box / "out")}
    path = box / "pair.yaml"
    path.write_text(yaml.safe_dump(config))
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [subprocess.Popen([sys.executable, "-m", "causalmix", "sweep", str(path), "--quiet"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    import re

    computed = [int(re.search(r"(\d+) ok", o).group(1)) for o in outs]
    assert sum(computed) == 12, outs  # each of the 12 runs computed by exactly one of the two sweeps
    records = [json.loads(p.read_text()) for p in (box / "out" / "records").glob("*.json")]
    assert len(records) == 12 and all(r["status"] == "ok" and r["attempts"] == 1 for r in records)
    assert not list((box / "out" / "claims").glob("*.json"))  # every claim released
    assert any("done by another sweep" in o for o in outs) or 0 in computed


def test_a_claim_of_a_dead_process_is_taken_over(box):
    from causalmix.claims import try_claim

    (box / "claims").mkdir()
    (box / "claims" / "r.json").write_text(json.dumps({"host": socket.gethostname(), "pid": 2**22 + 3,
                                                        "started": time.time()}))
    assert try_claim(box, "r")
    other_host = {"host": "elsewhere", "pid": 1, "started": time.time() - 100}
    (box / "claims" / "s.json").write_text(json.dumps(other_host))
    assert not try_claim(box, "s", stale_after_s=3600) and try_claim(box, "s", stale_after_s=10)
