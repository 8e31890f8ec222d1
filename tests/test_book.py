"""The book builds with `jupyter-book build -W` from the smoke-executed notebooks; its pages exist and
hold their figures and tables; headless Chromium renders the results page to a non-blank PNG."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _smoke_book import CONFIG_NAME, execute_all
from causalmix.report import PAPER_LABEL, REPO_ROOT

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
RESULTS = ["02_benchmark", "03_median_improvement", "04_ranks", "05_validation_reliability", "06_adult_low_resource",
           "07_ablations"]


def toc_files(toc: dict) -> list[str]:
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [s["file"] for s in chapter.get("sections", [])]
    return files


def test_config_renders_only_and_offline():
    cfg = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["only_build_toc_files"] is True
    for excluded in (".venv", "_build", "results", "runs"):
        assert excluded in cfg["exclude_patterns"]


def test_toc_lists_every_page_and_notebook():
    files = toc_files(yaml.safe_load((REPO_ROOT / "_toc.yml").read_text()))
    for page in ("book/intro", "book/method", "book/reproduce", "book/own_dataset", "book/limitations"):
        assert page in files and (REPO_ROOT / f"{page}.md").is_file()
    notebooks = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("0*.ipynb"))
    assert [f.removeprefix("book/results/") for f in files if f.startswith("book/results/")] == notebooks


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    root = execute_all(tmp_path_factory)
    shutil.rmtree(root / "_build", ignore_errors=True)
    proc = subprocess.run([str(JUPYTER_BOOK), "build", str(root), "-W", "--keep-going"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"jupyter-book build -W failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return root / "_build" / "html"


@pytest.mark.slow
def test_every_page_is_built(built_book):
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    for page in toc_files(toc):
        assert (built_book / f"{page}.html").is_file(), page
    assert (built_book / "index.html").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["01_scm_anatomy", *RESULTS])
def test_result_pages_hold_their_figures_tables_and_provenance(built_book, stem):
    page = built_book / "book" / "results" / f"{stem}.html"
    html = page.read_text()
    assert "<table" in html
    assert f"configuration {CONFIG_NAME}" in html
    if stem != "02_benchmark":
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
        assert images, f"{stem} has no figure"
        for src in images:
            assert (page.parent / src).resolve().is_file(), src
    assert "Traceback" not in html
    if stem in ("03_median_improvement", "05_validation_reliability"):
        assert PAPER_LABEL in html, "the paper's numbers, labelled as the paper's"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed; CI (.ci/run) must install Debian's chromium package.")
    pytest.skip("chromium is not installed (apt-get install chromium); required in CI.")


@pytest.mark.slow
def test_chromium_renders_the_results_page_non_blank(built_book, tmp_path):
    import numpy as np
    from matplotlib.image import imread

    browser = chromium()
    page = built_book / "book" / "results" / "03_median_improvement.html"
    png = tmp_path / "results.png"
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400", f"--screenshot={png}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert png.is_file(), f"no screenshot: {proc.stderr[-2000:]}"
    pixels = imread(png)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    # Not blank: many distinct colours and real contrast (text, a figure, a table).
    distinct = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert len(distinct) > 200
    assert pixels.std() > 0.05
    dark = (pixels.mean(axis=2) < 0.5).mean()
    assert 0.002 < dark < 0.9, f"share of dark pixels {dark:.4f}"
