"""The book builds with `jupyter-book build -W` from the smoke-executed notebooks; its pages exist and
hold their figures and tables; headless Chromium renders the results page to a non-blank PNG and checks
every page of the table of contents: tables fit the article column, images load and have alt text,
no stderr, warning or traceback is shown (see tests/_browser.py)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import _browser
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
    for page in ("book/method", "book/reproduce", "book/own_dataset", "book/limitations"):
        assert page in files and (REPO_ROOT / f"{page}.md").is_file()
    notebooks = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("0*.ipynb"))
    assert sorted(f.removeprefix("book/results/") for f in files if f.startswith("book/results/")) == notebooks


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
        # Figures are PNG files beside the book or inline data: URIs (e.g. SVG in a <figure>).
        images = re.findall(r'<img\b[^>]*?\ssrc="([^"]+)"', html)
        assert images, f"{stem} has no figure"
        for src in images:
            if src.startswith("data:"):
                assert src.startswith("data:image/"), src[:80]
            else:
                assert src.endswith(".png") and (page.parent / src).resolve().is_file(), src
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


@pytest.fixture(scope="module")
def page_reports(built_book, tmp_path_factory) -> dict[str, dict]:
    """Every page of the table of contents rendered by headless Chromium at 1280 px; its report."""
    browser = chromium()
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    pages = {name: built_book / f"{name}.html" for name in toc_files(toc)}
    reports, errors, seconds = _browser.check_pages(browser, pages, tmp_path_factory.mktemp("chromium-profile"))
    print(f"chromium checked {len(pages)} pages in {seconds:.1f} s")
    for name, report in reports.items():
        assert report is not None, f"{name}: no report in Chromium's DOM dump:\n{errors[name][-2000:]}"
        assert "script_error" not in report, f"{name}: the check script failed: {report['script_error']}"
        assert report["window"][0] == 1280 and report["article"], f"{name}: {report['window']}, {report['article']}"
    return reports


@pytest.mark.slow
def test_every_page_has_tables_that_fit_the_article_column(page_reports):
    problems = [p for name, report in page_reports.items() for p in _browser.table_problems(name, report)]
    assert not problems, "tables wider than the article column at a 1280 px window:\n" + "\n".join(problems)


@pytest.mark.slow
def test_every_page_has_loaded_images_with_alt_text(page_reports):
    problems = [p for name, report in page_reports.items() for p in _browser.image_problems(name, report)]
    assert not problems, "images:\n" + "\n".join(problems)


@pytest.mark.slow
def test_no_page_shows_stderr_warnings_or_tracebacks(page_reports):
    problems = [p for name, report in page_reports.items() for p in _browser.output_problems(name, report)]
    assert not problems, "stderr, warnings or tracebacks shown:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def phone_reports(built_book, tmp_path_factory) -> dict[str, dict]:
    """The landing page and the results pages rendered at a phone's 390 px."""
    browser = chromium()
    pages = {name: built_book / f"{name}.html" for name in ["book/results/08_overview",
                                                             *[f"book/results/{s}" for s in RESULTS]]}
    reports, errors, seconds = _browser.check_pages(browser, pages, tmp_path_factory.mktemp("chromium-phone"), width=390)
    print(f"chromium checked {len(pages)} pages at 390 px in {seconds:.1f} s")
    for name, report in reports.items():
        assert report is not None and "script_error" not in report, f"{name}: {errors[name][-2000:]} {report}"
    return reports


@pytest.mark.slow
def test_no_table_cell_or_caption_is_clipped_at_1280_or_390_px(page_reports, phone_reports):
    problems = [p for reports in (page_reports, phone_reports) for name, report in reports.items()
                for p in _browser.clipping_problems(name, report)]
    assert not problems, "clipped at 1280 or 390 px (a phone may scroll a table's own box, never cut it):\n" + "\n".join(problems)


@pytest.mark.slow
def test_every_table_of_a_notebook_page_has_its_csv_download(page_reports):
    problems = [p for name, report in page_reports.items() for p in _browser.download_problems(name, report)]
    assert not problems, "\n".join(problems)
    for stem in ["08_overview", *RESULTS]:
        report = page_reports[f"book/results/{stem}"]
        assert report["output_tables"] and len(report["downloads"]) >= report["output_tables"], (stem, report["downloads"])


@pytest.mark.slow
def test_no_legend_covers_plot_data(page_reports):
    problems = [p for name, report in page_reports.items() for p in _browser.legend_problems(name, report)]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_page_types_a_number_that_code_did_not_produce(built_book):
    """Every count, duration and result in the book's prose comes from the records (glue, outputs); typed
    digits may only be single digits, years, notebook numbers, or the paper's numbers and SPEC's protocol
    constants (causalmix.report.paper)."""
    import _prose

    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    found = {name: _prose.typed_numbers(built_book / f"{name}.html") for name in toc_files(toc)}
    found = {name: numbers for name, numbers in found.items() if numbers}
    assert not found, "numbers typed in the prose:\n" + "\n".join(f"{n}: {x}" for n, xs in found.items() for x in xs)


@pytest.mark.slow
def test_no_stale_sentence_is_left(built_book):
    stale = ["as the benchmark page says", "SGLD chains cost minutes", "Read the <em>quick</em> results",
             "take about a minute", "(intervals overlap)", 'config = "quick"']
    for page in built_book.rglob("*.html"):
        text = page.read_text()
        assert not [s for s in stale if s in text], (page, [s for s in stale if s in text])
