"""The package works installed, not only from a checkout: a wheel of it (no editable install) finds its
configurations, model weights and cost tables, and plans the standard study from another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from causalmix.provenance import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, unpacked alone into an empty folder (dependencies come from
    the current environment, so no network is needed)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "causalmix", source / "causalmix", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root),
                    str(source)], check=True, capture_output=True, timeout=600)
    (wheel,) = root.glob("causalmix-*.whl")
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return site


def test_the_wheel_ships_the_package_data(installed):
    names = {p.relative_to(installed / "causalmix").as_posix() for p in (installed / "causalmix").rglob("*")}
    assert {"configs/standard.yaml", "configs/confirmatory.yaml", "cost_model.json", "run_times.csv",
            "weights/causalmix-wide.ckpt", "weights/causalmix-wide.json"} <= names


def test_an_installed_package_plans_the_standard_study_from_another_folder(installed, tmp_path, data_dir):
    env = {**os.environ, "PYTHONPATH": str(installed), "CAUSALMIX_DATA_DIR": str(data_dir)}
    where = subprocess.run([sys.executable, "-c", "import causalmix; print(causalmix.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(installed)  # the wheel's copy, not this checkout
    out = subprocess.run([sys.executable, "-m", "causalmix", "study", "plan", "standard", "--jobs", "2"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "study 'standard': 2828 runs to do in grid, extension, ablation" in out.stdout
    assert not any(tmp_path.iterdir())  # a plan writes nothing


def test_the_wheel_has_no_file_of_the_checkout_outside_the_package(installed):
    (wheel,) = installed.parent.glob("causalmix-*.whl")
    tops = {name.split("/", 1)[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"causalmix", "causalmix-0.1.0.dist-info"}
