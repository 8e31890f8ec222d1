import pandas as pd
import pytest

from causalmix.data import (
    DatasetError,
    domain_shift_split,
    list_datasets,
    load_dataset,
    low_data_split,
    resolve_name,
)


def test_local_adult_matches_manifest(data_dir):
    ds = load_dataset("adult")
    assert ds.X.shape == (48842, 14)
    assert ds.task == "binary" and set(ds.classes) == {"<=50K", ">50K"}
    assert ds.X["workclass"].dtype == "category" and ds.X["age"].dtype == "float64"
    assert len(ds.categorical_features) == 8
    assert ds.provenance["sha256"] == ds.provenance["manifest_sha256"]
    assert ds.X.isna().sum().sum() == 6465  # the manifest's n_missing_cells


def test_digit_coded_categories_stay_strings(data_dir):
    ds = load_dataset("anneal")
    assert ds.task == "multiclass" and len(ds.classes) == 5
    assert all(isinstance(c, str) for c in ds.classes)
    assert "formability" in ds.categorical_features


def test_tabarena_names_are_aliases_of_local_copies(data_dir):
    assert resolve_name("Bank_Customer_Churn") == "bank-customer-churn"
    assert resolve_name("blood-transfusion-service-center") == "blood-transfusion"
    assert load_dataset("maternal_health_risk").name == "maternal-health-risk"
    assert {"adult", "credit-g", "iris", "heloc"} <= set(list_datasets())


def test_sklearn_bundled_dataset():
    ds = load_dataset("iris")
    assert ds.X.shape == (150, 4) and ds.classes == ("setosa", "versicolor", "virginica")


def test_unknown_dataset_suggests_close_names(data_dir):
    with pytest.raises(DatasetError, match="Did you mean 'adult'"):
        load_dataset("adlt")


def test_user_csv_and_parquet(tmp_path):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "colour": ["r", "g", "r", "b"], "label": [0, 1, 0, 1]})
    csv = tmp_path / "mine.csv"
    df.to_csv(csv, index=False)
    ds = load_dataset(csv, target="label")
    assert ds.categorical_features == ("colour",) and ds.classes == ("0", "1")
    assert len(ds.provenance["sha256"]) == 64
    pq = tmp_path / "mine.parquet"
    df.to_parquet(pq)
    assert load_dataset(pq, target="label").X.shape == (4, 2)


@pytest.mark.parametrize(
    "content, target, message",
    [
        ("a,label\n1,x\n2,y\n", "missing", "Target column 'missing'"),
        ("a,label\n1,x\n2,x\n", "label", "single class"),
        ("a,label\n1,x\n2,y\n", None, "needs target="),
    ],
)
def test_bad_user_files(tmp_path, content, target, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path, target=target)


def test_unreadable_file_and_missing_file(tmp_path):
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(DatasetError, match="Could not read"):
        load_dataset(path, target="x")
    with pytest.raises(DatasetError, match="No such file"):
        load_dataset(tmp_path / "nope.csv", target="x")


def test_unsupported_column_type(tmp_path):
    path = tmp_path / "dates.parquet"
    pd.DataFrame({"when": pd.date_range("2020", periods=4), "y": [0, 1, 0, 1]}).to_parquet(path)
    with pytest.raises(DatasetError, match="Unsupported column types.*when"):
        load_dataset(path, target="y")


def test_rows_with_missing_target_are_dropped_and_recorded(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,y\n1,x\n2,\n3,z\n4,x\n")
    ds = load_dataset(path, target="y")
    assert len(ds.X) == 3 and ds.provenance["rows_dropped_missing_target"] == 1


def test_low_data_split_protocol(data_dir):
    ds = load_dataset("credit-g")
    split = low_data_split(ds, n_train=64, seed=3)
    assert len(split.X_train) == 64 and len(split.X_val) == 16
    assert len(split.X_test) == 1000 - 64 - 16
    # stratified: class shares within one row of the population's (70/30)
    assert abs((split.y_train == "bad").sum() - 0.3 * 64) <= 1
    assert set(split.y_val) == set(ds.classes)
    # disjoint rows: compare full rows through their original index via a merge on all columns + label
    train = split.X_train.assign(_y=split.y_train).astype(str).apply("|".join, axis=1)
    test = split.X_test.assign(_y=split.y_test).astype(str).apply("|".join, axis=1)
    assert not set(train) & set(test)
    again = low_data_split(ds, n_train=64, seed=3)
    pd.testing.assert_frame_equal(split.X_train, again.X_train)
    other = low_data_split(ds, n_train=64, seed=4)
    assert not split.X_train.equals(other.X_train)


def test_split_keeps_rare_classes_and_caps_test(data_dir):
    ds = load_dataset("anneal")  # smallest class has 8 rows
    split = low_data_split(ds, n_train=32, seed=0, test_cap=100)
    assert set(split.y_train) == set(ds.classes) == set(split.y_val)
    assert len(split.X_val) == 10  # max(32 // 4, 2 * 5 classes)
    assert len(split.X_test) == 100


def test_split_errors(data_dir):
    ds = load_dataset("blood-transfusion")
    with pytest.raises(DatasetError, match="fewer than n_train"):
        low_data_split(ds, n_train=700, n_val=100, seed=0)
    with pytest.raises(DatasetError, match="at least the 2 classes"):
        low_data_split(ds, n_train=1, seed=0)


def test_domain_shift_split(data_dir):
    ds = load_dataset("adult")
    split = domain_shift_split(ds, column="sex", values=["Female"], n_train=128, seed=0, test_cap=1000)
    assert set(split.X_train["sex"]) == {"Female"} and set(split.X_test["sex"]) == {"Female"}
    assert set(split.X_test_ood["sex"]) == {"Male"} and len(split.X_test_ood) == 1000
    aged = domain_shift_split(ds, column="age", between=[17, 35], n_train=64, seed=0, test_cap=500)
    assert aged.X_train["age"].max() < 35 and aged.X_test_ood["age"].min() >= 35
    with pytest.raises(DatasetError, match="never occur"):
        domain_shift_split(ds, column="sex", values=["Other"], n_train=64, seed=0)
