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


@pytest.fixture
def one_torch_thread():
    """Fine-tuning tests run with one torch thread (several threads crawl on a busy 2-core machine)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
