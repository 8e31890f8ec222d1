"""Run claims: several sweeps (processes, or machines on a shared filesystem) on one results folder
split the runs, none computed twice, none lost.

Before computing a run, a sweep creates ``<out>/claims/<run_id>.json`` with an exclusive create
(host, pid, the process's start time, the claim's time), complete from its first byte (written to a
temporary file, then hard-linked into place). Whoever creates it computes the run and removes the
claim after the record is written. A claim is *stale*, and taken over, when

- it is older than ``stale_after_s`` (from any host, this one included);
- on this host, its process is gone, or its pid now belongs to another process (the process
  start time differs: a reused pid);
- it is empty or unreadable (a torn write) and older than :data:`TORN_GRACE_S`.

Taking over renames the stale claim first, so of two sweeps racing for it only one wins. A sweep
re-checks at its end the runs it found claimed (:func:`causalmix.experiment.run_sweep`), so a run
whose holder died is never lost.

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
>>> _ = (folder / "claims" / "run-d.json").write_text(json.dumps({**held, "pid_started": -1}))  # a reused pid
>>> try_claim(folder, "run-d")
True
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from causalmix.data import safe_path
from causalmix.records import RunRecord, read_json
from causalmix.runs import RunSpec, execute_run

#: Default age after which a claim is taken over (a day: longer than any run).
STALE_AFTER_S = 24 * 3600.0
#: Age after which an empty or unreadable claim (torn by a kill mid-write) is taken over.
TORN_GRACE_S = 10.0


def _path(out_dir: str | os.PathLike, run_id: str) -> Path:
    return safe_path(Path(out_dir) / "claims", f"{run_id}.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process its parent has not reaped yet (a zombie) is gone too
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2:].split()[0] != "Z"
    except (OSError, ValueError, IndexError):
        return True


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``; None where unknown):
    with the pid, it names one process, so a pid reused by another process is told apart."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        return int(text[text.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _stale(claim: dict, stale_after_s: float) -> bool:
    try:
        started = float(claim["started"])
        pid = int(claim["pid"])
        host = str(claim["host"])
    except (KeyError, TypeError, ValueError):  # torn or foreign: judged by its age (file time) alone
        return time.time() - float(claim.get("mtime", 0)) > TORN_GRACE_S
    if time.time() - started > stale_after_s:
        return True
    if host == socket.gethostname():
        if not _alive(pid):
            return True
        recorded, now = claim.get("pid_started"), process_start(pid)
        return recorded is not None and now is not None and int(recorded) != now
    return False


def try_claim(out_dir: str | os.PathLike, run_id: str, *, stale_after_s: float = STALE_AFTER_S) -> bool:
    """Claim a run for this process; False when another live sweep holds it."""
    path = _path(out_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": time.time(),
                       "pid_started": process_start(os.getpid())})
    for _ in range(3):
        try:
            _create(path, mine)
        except FileExistsError:
            try:
                text = path.read_text()
                stamp = path.stat().st_mtime
            except OSError:
                continue  # released meanwhile: try again
            try:
                claim = json.loads(text)
            except json.JSONDecodeError:  # torn by a kill (claims are written whole): judge it by its age
                claim = {}
            if not isinstance(claim, dict):
                claim = {}
            claim["mtime"] = stamp
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
        return True
    return False


def _create(path: Path, text: str) -> None:
    """Create ``path`` holding ``text``, exclusively (FileExistsError if it exists) and whole: the
    text goes to a temporary file that is then hard-linked to ``path`` (where the filesystem has no
    hard links: an exclusive create, then the write)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    tmp.write_text(text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
    finally:
        tmp.unlink(missing_ok=True)


def holder(out_dir: str | os.PathLike, run_id: str) -> dict | None:
    """The claim on a run (``None``: unclaimed), for messages."""
    try:
        claim = json.loads(_path(out_dir, run_id).read_text())
    except (OSError, ValueError):
        return None if not _path(out_dir, run_id).exists() else {}
    return claim if isinstance(claim, dict) else {}


def release(out_dir: str | os.PathLike, run_id: str) -> None:
    """Remove this process's claim of a run (after its record is written)."""
    _path(out_dir, run_id).unlink(missing_ok=True)


def claimed_run(spec_dict: dict[str, Any], out_dir: str, stale_after_s: float) -> RunRecord | None:
    """Claim, compute and record one run; ``None`` when another sweep holds it or has finished it."""
    spec = RunSpec(**spec_dict)
    if not try_claim(out_dir, spec.run_id, stale_after_s=stale_after_s):
        return None
    try:
        previous = read_json(Path(out_dir) / "records" / f"{spec.run_id}.json")
        if previous is not None and previous.get("status") == "ok":
            return None  # finished by another sweep between our listing and our claim
        attempts = int(previous.get("attempts") or 1) + 1 if previous is not None else 1
        record = execute_run(spec, out_dir=out_dir, attempts=attempts)
    finally:
        release(out_dir, spec.run_id)
    return dataclasses.replace(record, curve=None)
