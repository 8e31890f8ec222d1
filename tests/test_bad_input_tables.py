"""Bad input, reading tables (issue 10): every malformed or unusual table gives a clear message or
a recorded note."""

import gzip
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from causalmix.data import (
    DatasetError,
    add_dataset,
    load_dataset,
    low_data_split,
)

from _bad_input import box, listing, assert_nothing_written, assert_written_only_inside, frame, write_csv, cli, DATA  # noqa: F401 - box is a fixture


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
