"""Claims never lose a run: a dead, reused-pid, aged or torn claim is taken over, and a sweep that
found runs claimed re-checks them at its end, so it exits 0 only with every run recorded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import yaml

from causalmix import claims
from causalmix.claims import process_start, try_claim
from causalmix.experiment import expand_config, load_records, run_sweep

FT = {"max_steps": 2, "eval_every": 1, "learning_rate": 1e-3, "n_estimators": 1}
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _plant(folder, run_id, **claim):
    path = folder / "claims" / f"{run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(claim.pop("_text", None) or json.dumps(claim))
    return path


def _live():
    return {"host": socket.gethostname(), "pid": os.getppid(), "started": time.time(),
            "pid_started": process_start(os.getppid())}


def test_a_live_claim_holds_and_dead_reused_aged_or_torn_claims_are_taken_over(tmp_path, monkeypatch):
    _plant(tmp_path, "live", **_live())
    assert not try_claim(tmp_path, "live")
    _plant(tmp_path, "dead", **{**_live(), "pid": 2**22 + 1})
    assert try_claim(tmp_path, "dead")
    # the pid is alive, but it is another process than the one that claimed (its start time differs)
    _plant(tmp_path, "reused", **{**_live(), "pid_started": (process_start(os.getppid()) or 0) + 12345})
    assert try_claim(tmp_path, "reused")
    # same host, live process, but older than the timeout (--claim-timeout): aged out
    _plant(tmp_path, "aged", **{**_live(), "started": time.time() - 100})
    assert not try_claim(tmp_path, "aged", stale_after_s=1000)
    assert try_claim(tmp_path, "aged", stale_after_s=10)
    # empty or unreadable (a kill while writing): stale after a short grace, not after 24 h
    for name, text in (("empty", " "), ("garbage", "{not json"), ("list", "[1, 2]")):
        path = _plant(tmp_path, name, _text=text)
        os.utime(path, (time.time() - 60, time.time() - 60))
        assert try_claim(tmp_path, name), name
    path = _plant(tmp_path, "fresh-torn", _text=" ")
    assert not try_claim(tmp_path, "fresh-torn")  # maybe being written this instant
    monkeypatch.setattr(claims, "TORN_GRACE_S", 0.0)
    assert try_claim(tmp_path, "fresh-torn")
    # a claim is written whole: its file is valid JSON from the start
    mine = json.loads((tmp_path / "claims" / "dead.json").read_text())
    assert mine["pid"] == os.getpid() and mine["pid_started"] == process_start(os.getpid())


def test_a_sweep_waits_for_a_run_whose_holder_is_killed_mid_run_and_records_every_run(untrained_checkpoint, tmp_path):
    config = {"name": "holder", "model": str(untrained_checkpoint), "device": "cpu", "threads": 1,
              "datasets": ["blood-transfusion"], "n_train": [48], "seeds": [0, 1], "methods": ["pretrained"],
              "finetune": FT, "test_cap": 100, "out_dir": str(tmp_path / "out")}
    path = tmp_path / "holder.yaml"
    path.write_text(yaml.safe_dump(config))
    specs = expand_config(path)
    # another sweep's process holds the claim of the first run, alive while this sweep starts ...
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        time.sleep(0.2)
        _plant(tmp_path / "out", specs[0].run_id, host=socket.gethostname(), pid=holder.pid, started=time.time(),
               pid_started=process_start(holder.pid))
        # ... and is SIGKILLed mid-run, without releasing its claim or writing a record
        killer = threading.Timer(3.0, holder.kill)
        killer.start()
        summary = run_sweep(path, progress=False)
        killer.join()
    finally:
        holder.kill()
        holder.wait()
    frame = load_records(tmp_path / "out")
    assert summary.n_failed == 0 and summary.n_ok == len(specs)  # the surviving sweep ran the orphaned run
    assert set(frame["run_id"]) == {s.run_id for s in specs} and (frame["status"] == "ok").all()
    assert not list((tmp_path / "out" / "claims").glob("*.json"))


def test_a_run_recorded_by_the_other_sweep_meanwhile_counts_as_done_elsewhere(untrained_checkpoint, tmp_path):
    config = {"name": "other", "model": str(untrained_checkpoint), "device": "cpu", "threads": 1,
              "datasets": ["blood-transfusion"], "n_train": [48], "seeds": [0], "methods": ["pretrained"],
              "finetune": FT, "test_cap": 100, "out_dir": str(tmp_path / "out")}
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(config))
    (spec,) = expand_config(path)
    claim = _plant(tmp_path / "out", spec.run_id, **_live())

    def finish_elsewhere():  # the other sweep records the run, then releases its claim
        from causalmix.runs import execute_run

        execute_run(spec, out_dir=tmp_path / "elsewhere")
        records = tmp_path / "out" / "records"
        records.mkdir(parents=True, exist_ok=True)
        for f in (tmp_path / "elsewhere" / "records").iterdir():
            (records / f.name).write_bytes(f.read_bytes())
        claim.unlink()

    timer = threading.Timer(1.0, finish_elsewhere)
    timer.start()
    summary = run_sweep(path, progress=False)
    timer.join()
    assert summary.n_elsewhere == 1 and summary.n_ok == 0 and summary.n_failed == 0


def test_a_killed_sweeps_time_is_logged_by_the_next_sweep(untrained_checkpoint, tmp_path):
    config = {"name": "log", "model": str(untrained_checkpoint), "device": "cpu", "threads": 1,
              "datasets": ["blood-transfusion"], "n_train": [48], "seeds": [0], "methods": ["pretrained"],
              "finetune": FT, "test_cap": 100, "out_dir": str(tmp_path / "out")}
    path = tmp_path / "log.yaml"
    path.write_text(yaml.safe_dump(config))
    beats = tmp_path / "out" / "running-sweeps"
    beats.mkdir(parents=True)
    # a sweep SIGKILLed after 1234 s: its last heartbeat, its process gone
    (beats / "host-1.json").write_text(json.dumps({"finished_at": "then", "jobs": 2, "backend": "local",
                                                   "runs_recorded": 7, "wall_time_s": 1234.0, "hardware": {},
                                                   "host": socket.gethostname(), "pid": 2**22 + 1,
                                                   "started": time.time()}))
    live = {"finished_at": "now", "wall_time_s": 5.0, **_live()}  # a live sweep on the folder: not logged
    (beats / "host-2.json").write_text(json.dumps(live))
    run_sweep(path, progress=False)
    entries = [json.loads(line) for line in (tmp_path / "out" / "sweep-log.jsonl").read_text().splitlines()]
    assert [e["wall_time_s"] for e in entries if e.get("killed")] == [1234.0]
    assert len(entries) == 2 and sorted(p.name for p in beats.iterdir()) == ["host-2.json"]


def test_a_claim_of_a_dead_process_or_an_aged_foreign_one_is_taken_over(tmp_path):
    from causalmix.claims import try_claim

    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "r.json").write_text(json.dumps({"host": socket.gethostname(), "pid": 2**22 + 3,
                                                        "started": time.time()}))
    assert try_claim(tmp_path, "r")
    other_host = {"host": "elsewhere", "pid": 1, "started": time.time() - 100}
    (tmp_path / "claims" / "s.json").write_text(json.dumps(other_host))
    assert not try_claim(tmp_path, "s", stale_after_s=3600) and try_claim(tmp_path, "s", stale_after_s=10)
