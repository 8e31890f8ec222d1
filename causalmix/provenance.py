"""Where a result came from: file hashes, the git commit, package versions and hardware.

>>> len(file_sha256(__file__))
64
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, remembered per (path, mtime, size) so repeated calls cost nothing."""
    path = Path(path).resolve()
    stat = path.stat()
    return _file_sha256(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _file_sha256(path: str, _mtime_ns: int, _size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git(*args: str) -> str | None:
    """The output of ``git args`` in this package's checkout; None when git fails or is not there."""
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def git_commit(*, short: bool = False, paths: Sequence[str] | None = None) -> str:
    """HEAD of the checkout holding this package, ``-dirty`` when tracked files (or only ``paths``)
    have uncommitted changes; ``"unknown"`` outside a checkout."""
    commit = _git("rev-parse", *(["--short"] if short else []), "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", *(paths or [])) if commit else None
    return commit + ("-dirty" if dirty else "") if commit and dirty is not None else "unknown"


def made_before(commit: str, later: str) -> bool:
    """Whether ``commit`` (a record's, ``-dirty`` or not) does not contain commit ``later``; True when
    this cannot be told (no checkout here, a commit this clone does not have)."""
    return _git("merge-base", "--is-ancestor", later, str(commit).removesuffix("-dirty")) is None


#: The packages whose versions determine a run's numbers (part of every run id).
RESULT_PACKAGES = ("torch", "tabpfn", "dowhy", "causal-learn", "scikit-learn", "imbalanced-learn", "numpy", "pandas")


def _versions(packages: Sequence[str]) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in packages:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@functools.cache
def result_versions() -> dict[str, str]:
    """Versions of the packages that determine results (:data:`RESULT_PACKAGES`)."""
    return _versions(RESULT_PACKAGES)


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of Python, causalmix and the packages that decide the numbers (provenance)."""
    return {"python": platform.python_version(), **_versions(("causalmix", *RESULT_PACKAGES))}


#: CPU flags that decide which float kernels torch and oneDNN pick (and so the last bits of a result).
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_tile")


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


@functools.cache
def machine(device: str = "cpu") -> dict[str, object]:
    """What decides a run's last bits on this machine: CPU model and vendor, the instruction sets
    it offers and the one torch dispatches to, oneDNN's version, thread counts, GPU.

    >>> sorted(machine())[:3]
    ['cores', 'cpu', 'cpu_flags']
    """
    import torch

    cpu = _cpuinfo()
    flags = set(cpu.get("flags", "").split())
    onednn = next((line.split("v", 1)[-1].split()[0] for line in torch.__config__.show().splitlines()
                   if "MKL-DNN" in line or "oneDNN" in line), "unknown")
    info: dict[str, object] = {
        "cpu": cpu.get("model name") or platform.processor() or platform.machine(),
        "vendor": cpu.get("vendor_id", "unknown"),
        "cores": os.cpu_count(),
        "cpu_flags": [f for f in ISA_FLAGS if f in flags],
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn": onednn,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


@functools.cache
def hardware(device: str = "cpu") -> str:
    """``"<CPU model>, <n> cores[, GPU <name>]"``: :func:`machine` in one line, without importing torch
    on a CPU."""
    cpu = _cpuinfo().get("model name") or platform.processor() or platform.machine()
    text = f"{cpu}, {os.cpu_count()} cores"
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    return text
