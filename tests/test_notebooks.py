"""Every report notebook executes under papermill in the smoke configuration, and says what it shows."""

import base64
import json
import re

import nbformat
import pytest
from _smoke_book import CONFIG, CONFIG_NAME, STEMS, execute

from causalmix.book_params import configuration_parameters, declared_parameters
from causalmix.reproduce import NOTEBOOK_DIR, main, notebooks, parameters_for
from causalmix.study import settings
from causalmix.sweep_config import CONFIG_DIR

EXPECTED = ["01_scm_anatomy", "02_benchmark", "03_median_improvement", "04_ranks",
            "05_validation_reliability", "06_adult_low_resource", "07_ablations", "08_overview"]


def test_the_notebooks_exist_in_order():
    assert STEMS == EXPECTED


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_each_notebook_has_one_parameters_cell_with_the_quick_defaults(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert 'config = "quick"' in tagged[0].source and "out_dir = None" in tagged[0].source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    ids = [c.get("id") for c in json.loads(path.read_text())["cells"]]  # as committed: nbformat.read adds missing ids
    assert None not in ids and len(set(ids)) == len(ids), "every cell needs its own id (nbformat 4.5)"


def test_parameters_passed_per_configuration(tmp_path):
    nb = NOTEBOOK_DIR / "01_scm_anatomy.ipynb"
    params = parameters_for(nb, "full", tmp_path, 2)
    assert params["config"] == "full" and params["jobs"] == 2 and params["out_dir"] == str(tmp_path.resolve())
    assert params["n_train"] == 512
    assert parameters_for(NOTEBOOK_DIR / "04_ranks.ipynb", "causalmix/configs/full.yaml") == {"config": "causalmix/configs/full.yaml", "jobs": 1}
    # every name a study's YAML decides is a parameter the notebook declares (none is dropped unseen)
    for path in sorted(CONFIG_DIR.glob("*.yaml")):
        if path.stem.startswith("pretrain"):
            continue
        for stem, decided in configuration_parameters(settings(path)).items():
            assert set(decided) <= declared_parameters(NOTEBOOK_DIR / f"{stem}.ipynb"), (path.stem, stem)


def test_reproduce_fails_loudly_on_an_unknown_configuration(capsys):
    assert main(["--config", "no-such-config"]) == 1
    assert "No configuration 'no-such-config'" in capsys.readouterr().err


def test_reproduce_names_the_failing_notebook(tmp_path, capsys):
    bad = tmp_path / "nbs"
    bad.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell('config = "quick"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nbformat.write(nb, bad / "07_broken.ipynb")
    from causalmix.reproduce import NotebookFailed, run_notebooks

    with pytest.raises(NotebookFailed, match=r"Notebook 07_broken failed .*ValueError: boom"):
        run_notebooks(CONFIG, output_dir=tmp_path / "out", notebook_dir=bad, log=lambda *a, **k: None)
    assert (tmp_path / "out" / "07_broken.ipynb").is_file()  # the executed copy shows the error


def svg_width_and_font_sizes(figure_html: str) -> tuple[float, set[float]]:
    """The width (pt) and the font sizes of the SVG inlined in a book figure."""
    encoded = re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", figure_html).group(1)
    svg = base64.b64decode(encoded).decode()
    width = float(re.search(r'width="([\d.]+)pt"', svg).group(1))
    return width, {float(x) for x in re.findall(r"font(?:-size)?: ?(?:[a-z]+ )*([\d.]+)px", svg)}


@pytest.mark.slow
@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_executes_in_the_smoke_configuration(stem, tmp_path_factory):
    nb = nbformat.read(execute(stem, tmp_path_factory), as_version=4)
    shown = [c for c in nb.cells if c.cell_type == "code" and "remove-stderr" not in c.metadata.get("tags", [])]
    outputs = [o for c in shown for o in c.get("outputs", [])]
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    # a cell whose stderr the page hides may only have written progress bars there (the sweep's, for the console)
    hidden = [o.get("text", "") for c in nb.cells if "remove-stderr" in c.metadata.get("tags", [])
              for o in c.get("outputs", []) if o.get("name") == "stderr"]
    pieces = [p for text in hidden for p in re.split(r"[\r\n]+", text) if p.strip()]
    assert all(re.search(r"\d+/\d+ \[|\d+run \[", p) for p in pieces), f"only progress bars on a hidden stderr: {pieces[:3]}"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and f'config = "{CONFIG}"' in injected[0].source
    assert "hide-input" in injected[0].metadata["tags"], "the page shows the parameters this build ran with"
    defaults = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert defaults and all("remove-cell" in c.metadata["tags"] for c in defaults), "not the notebook's defaults"
    noisy = [o.get("text", "")[:200] for o in outputs if o.get("name") == "stderr"]
    assert not noisy, f"no stderr on the page (warnings belong in the run records): {noisy}"
    html = "".join(json.dumps(o.get("data", {})) for o in outputs)
    assert f"configuration {CONFIG_NAME}" in html, "every table and figure states its provenance"
    if stem not in ("02_benchmark", "08_overview"):
        figures = [o["data"]["text/html"] for o in outputs if "causalmix-figure" in o.get("data", {}).get("text/html", "")]
        assert figures, "a figure"
        assert all("data:image/svg+xml;base64," in f and 'alt="' in f and "<figcaption" in f for f in figures)
        assert all(f"configuration {CONFIG_NAME}" in f for f in figures), "provenance in every figure's caption"
        for figure in figures:
            width_pt, sizes = svg_width_and_font_sizes(figure)
            # shown unscaled in the book's 752-px (564-pt) column at a 1280-px window: text stays >= 9 pt
            assert width_pt <= 564, f"figure {width_pt:.0f} pt wide would be shrunk below 9-pt text"
            assert sizes and min(sizes) >= 9, f"font sizes {sorted(sizes)}"
    assert "<table" in html, "a table"


@pytest.mark.slow
def test_the_study_runs_before_the_notebooks_and_its_parts_share_runs(tmp_path_factory):
    """The notebooks only read: the records exist before the first one runs, and the ablation's
    CausalMixFT as configured is the grid's run, copied byte for byte instead of recomputed."""
    executed = execute("01_scm_anatomy", tmp_path_factory)
    runs = executed.parents[2] / "runs"
    grid = {p.name for p in (runs / "records").glob("*.json")}
    ablation = {p.name for p in (runs / "ablation" / "records").glob("*.json")}
    shared = grid & ablation
    assert shared and all((runs / "records" / n).read_bytes() == (runs / "ablation" / "records" / n).read_bytes()
                          for n in shared)
    sources = "".join(nbformat.read(p, as_version=4).cells[i].source for p in notebooks()
                      for i in range(len(nbformat.read(p, as_version=4).cells)))
    assert "run_sweep" not in sources and "run_study" not in sources, "a notebook computes runs"
