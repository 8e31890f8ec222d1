"""Bad input, the add-dataset command and where data comes from (issue 10): clear errors, nothing
written outside the target folder."""

import os
import socket
import time

import numpy as np
import pytest

from causalmix import data
from causalmix.data import DatasetError, load_dataset

from _bad_input import README, box, listing, assert_written_only_inside, frame, write_csv, cli, DATA  # noqa: F401 - box is a fixture


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
