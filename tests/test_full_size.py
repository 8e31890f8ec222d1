"""The full-size path exercised on CPU before any GPU sees it: a randomly initialised checkpoint with
tabpfn's own TabPFN v2 classifier architecture, under the real v2 file name in a temporary
TABPFN_MODEL_CACHE_DIR, so model="tabpfn-v2" resolves through the real route; one fine-tuning step
and the evaluations run, and the record carries the file's sha256."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
import torch
torch.set_num_threads(1)
from causalmix.model import resolve_model_path, recommended_learning_rate
from causalmix.runs import RunSpec, execute_run
path = resolve_model_path("tabpfn-v2")
spec = RunSpec(dataset="diabetes", n_train=64, seed=0, method="finetune", model="tabpfn-v2", device="cpu",
               test_cap=100, finetune={"max_steps": 1, "eval_every": 1, "n_estimators": 1})
record = execute_run(spec)
print(json.dumps({"path": str(path), "status": record.status, "error": record.error, "n_steps": record.n_steps,
                  "n_params": record.n_params, "model_sha256": record.model_sha256,
                  "learning_rate": record.learning_rate, "curve_rows": len(record.curve) if record.curve is not None else 0}))
"""


@pytest.mark.slow
def test_the_full_size_v2_architecture_fine_tunes_through_the_real_route_on_cpu(tmp_path, data_dir):
    from causalmix.model import TABPFN_V2_FILENAME, build_architecture, save_checkpoint
    from causalmix.provenance import file_sha256

    model, config = build_architecture({})  # tabpfn's own v2 defaults
    assert (config["emsize"], config["nlayers"], config["nhead"], config["features_per_group"]) == (192, 12, 6, 2)
    ckpt = save_checkpoint(model, config, tmp_path / TABPFN_V2_FILENAME)
    env = {**os.environ, "TABPFN_MODEL_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["path"] == str(ckpt) and result["status"] == "ok", result
    assert result["n_steps"] == 1 and result["curve_rows"] == 2 and result["n_params"] > 5_000_000
    assert result["model_sha256"] == file_sha256(ckpt) and result["learning_rate"] == 1e-5


def test_tabpfn_v2_missing_fails_at_once_naming_the_cache_dir(tmp_path):
    env = {**os.environ, "TABPFN_MODEL_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    config = tmp_path / "v2.yaml"
    config.write_text("name: v2\nmodel: tabpfn-v2\ndatasets: [diabetes]\nn_train: [64]\nmethods: [pretrained]\n"
                      f"out_dir: {tmp_path / 'out'}\n")
    out = subprocess.run([sys.executable, "-m", "causalmix", "sweep", str(config), "--quiet"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "TABPFN_MODEL_CACHE_DIR" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "out").exists()
