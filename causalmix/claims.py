"""Run claims: several sweeps (processes, or machines on a shared filesystem) on one results folder
split the runs, none computed twice, none lost.

Before computing a run, a sweep creates ``<out>/claims/<run_id>.json`` with an exclusive create
(host, pid, start time). Whoever creates it computes the run and removes the claim after the
record is written. A claim left behind by a killed sweep is taken over: at once on the same host
when its process is gone, from another host only once it is older than ``stale_after_s``.
Taking over renames the stale claim first, so of two sweeps racing for it only one wins.

>>> import tempfile; folder = Path(tempfile.mkdtemp())
>>> try_claim(folder, "run-a")
True
>>> held = {"host": socket.gethostname(), "pid": os.getppid(), "started": time.time()}  # a live sweep
>>> _ = (folder / "claims" / "run-b.json").write_text(json.dumps(held))
>>> try_claim(folder, "run-b")
False
>>> _ = (folder / "claims" / "run-c.json").write_text(json.dumps({**held, "pid": 2**22 + 1}))  # a dead one
>>> try_claim(folder, "run-c")
True
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

#: Default age after which a claim from another host is taken over (a day: longer than any run).
STALE_AFTER_S = 24 * 3600.0


def _path(out_dir: str | os.PathLike, run_id: str) -> Path:
    from causalmix.data import safe_path

    return safe_path(Path(out_dir) / "claims", f"{run_id}.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(claim: dict, stale_after_s: float) -> bool:
    if claim.get("host") == socket.gethostname():
        return not _alive(int(claim.get("pid", -1)))
    return time.time() - float(claim.get("started", 0)) > stale_after_s


def try_claim(out_dir: str | os.PathLike, run_id: str, *, stale_after_s: float = STALE_AFTER_S) -> bool:
    """Claim a run for this process; False when another live sweep holds it."""
    path = _path(out_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()})
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                text = path.read_text()
                stamp = path.stat().st_mtime
            except OSError:
                continue  # released meanwhile: try again
            try:
                claim = json.loads(text)
            except json.JSONDecodeError:  # being written this instant, or torn by a kill: judge it by its age
                claim = {"started": stamp}
            if claim.get("pid") == os.getpid() and claim.get("host") == socket.gethostname():
                return True
            if not _stale(claim, stale_after_s):
                return False
            aside = path.with_name(f".{path.name}.stale.{os.getpid()}")
            try:  # only one of several racing sweeps moves it away ...
                os.replace(path, aside)
            except FileNotFoundError:
                continue
            if aside.read_text() != text:  # ... and one that moved a fresh claim gives it back
                os.replace(aside, path)
                return False
            aside.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(mine)
        return True
    return False


def release(out_dir: str | os.PathLike, run_id: str) -> None:
    """Remove this process's claim of a run (after its record is written)."""
    _path(out_dir, run_id).unlink(missing_ok=True)
