"""The same code in fresh Python processes with different string-hash seeds (``PYTHONHASHSEED``).

Project standard: the same seed gives the same numbers on the same machine, in any process. Python
salts ``hash(str)`` per process, so iterating a set of strings (or a dict built from one) can change
order from one process to the next; a test prints its numbers from each process and compares them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stdout_per_hash_seed(code: str, seeds: tuple[str, ...] = ("0", "7", "123"), timeout: float = 120) -> dict[str, str]:
    """``python -c code`` once per hash seed, one process at a time, with this checkout importable:
    ``{seed: stdout}``. A failing process raises ``CalledProcessError``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return {seed: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env={**env, "PYTHONHASHSEED": seed}, check=True, timeout=timeout).stdout
            for seed in seeds}
