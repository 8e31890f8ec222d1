"""The confirmatory study's pre-registration: where it is, what it froze, and a check that the
analysis code still computes what was registered.

The registration (``studies/confirmatory/PREREGISTRATION.md``, its study YAML and
``analysis_fingerprint.json``) is committed before any run on the confirmatory datasets. The
fingerprint holds what the registered analysis (:func:`causalmix.report.scoreboard`) gave on the
*exploratory* study's records at registration: every claim's estimate, interval, Holm-adjusted
p-values and verdict. Later analysis code must reproduce it exactly on those records
(``tests/test_preregistration.py``), so the confirmatory verdicts are computed by the analysis that
was registered, not one chosen after seeing them; a change that moves the fingerprint is a deviation
to declare in the registration's deviation log.

>>> sorted(fingerprint([]))
[]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from causalmix.provenance import REPO_ROOT, file_sha256

__all__ = ["FINGERPRINT", "PREREGISTRATION", "STUDY", "fingerprint", "registration_facts"]

STUDY = REPO_ROOT / "studies" / "confirmatory"
PREREGISTRATION = STUDY / "PREREGISTRATION.md"
FINGERPRINT = STUDY / "analysis_fingerprint.json"


def _number(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def fingerprint(board: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Per claim key: estimate, interval, Holm-adjusted p-values and verdict of a scoreboard."""
    out = {}
    for r in board:
        iv = r.interval
        out[r.claim.key] = {
            "label": r.claim.label, "verdict": r.verdict,
            "estimate": _number(iv.estimate) if iv else None, "low": _number(iv.low) if iv else None,
            "high": _number(iv.high) if iv else None,
            "p_zero_holm": _number(r.p_zero_holm), "p_paper_holm": _number(r.p_paper_holm),
        }
    return out


def registration_facts(folder: Path = STUDY) -> dict[str, str] | None:
    """The registration's sha256 and the commit that added it (for the book), or None without one."""
    import subprocess

    path = folder / PREREGISTRATION.name
    if not path.is_file():
        return None
    try:
        commit = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", str(path)], cwd=REPO_ROOT,
                                capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        commit = []
    return {"file": str(path.relative_to(REPO_ROOT)), "sha256": file_sha256(path),
            "registered_in_commit": commit[-1] if commit else "unknown"}


def write_fingerprint(board: Sequence[Any], path: Path = FINGERPRINT) -> Path:
    """Write the fingerprint of the registered analysis on the exploratory records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fingerprint(board), indent=1, sort_keys=True) + "\n")
    return path
