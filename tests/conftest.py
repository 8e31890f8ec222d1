"""Test set-up: offline, real shared datasets, and a small v2-architecture checkpoint."""

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
os.environ.setdefault("CAUSALMIX_DATA_DIR", str(SHARED))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TABPFN_DISABLE_TELEMETRY", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ["CAUSALMIX_DATA_DIR"])
    if not (path / "manifest.json").is_file():
        pytest.fail(f"Shared datasets not found at {path}; set CAUSALMIX_DATA_DIR.")
    return path


@pytest.fixture(scope="session")
def untrained_checkpoint(tmp_path_factory) -> Path:
    """A randomly initialised tiny TabPFN-v2-architecture checkpoint (predicts a constant)."""
    from causalmix.model import build_architecture, save_checkpoint

    model, config = build_architecture({"emsize": 32, "nlayers": 1, "nhead": 2})
    return save_checkpoint(model, config, tmp_path_factory.mktemp("ckpt") / "tiny-untrained.ckpt")
