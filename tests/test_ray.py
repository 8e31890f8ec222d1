"""The Ray backend on a local Ray instance gives the local backend's records, with the same resume
and run-claim semantics."""

from __future__ import annotations

import pytest

from causalmix.experiment import load_records, run_sweep

ray = pytest.importorskip("ray")

IGNORED = ["wall_time_s", "cpu_time_s", "hardware", "git_commit", "generator_cached"]


@pytest.mark.slow
def test_ray_backend_records_equal_the_local_backends(tmp_path, data_dir):
    from pathlib import Path

    config = Path(__file__).resolve().parents[1] / "causalmix" / "configs" / "smoke.yaml"  # 1 torch thread per run, as Ray's
    local = run_sweep(config, out_dir=tmp_path / "local", progress=False)
    remote = run_sweep(config, out_dir=tmp_path / "ray", progress=False, backend="ray", cpus_per_run=1)
    assert local.n_failed == remote.n_failed == 0 and local.n_ok == remote.n_ok == local.n_total, remote.failures
    a = load_records(tmp_path / "local").set_index("run_id").sort_index()
    b = load_records(tmp_path / "ray").set_index("run_id").sort_index()
    cols = [c for c in a.columns if c not in IGNORED and not c.startswith("time_")]
    assert a.index.equals(b.index)
    assert a[cols].equals(b[cols])
    again = run_sweep(config, out_dir=tmp_path / "ray", progress=False, backend="ray")  # resume: nothing to do
    assert (again.n_ok, again.n_skipped) == (0, local.n_total)
    assert not list((tmp_path / "ray" / "claims").glob("*.json"))
