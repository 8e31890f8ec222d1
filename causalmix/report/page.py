"""What a book page shows around its tables and figures: numbers, captions with provenance, alt
text, the records behind each figure as a CSV download, and a link to the notebook's source.

>>> page = Page("03_median_improvement", config="quick")        # doctest: +SKIP
>>> page.figure(fig, "Per-dataset improvement", alt="...", records=records)   # doctest: +SKIP
"""

from __future__ import annotations

import base64
import functools
import html
import io
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix import study
from causalmix.provenance import REPO_ROOT, git_commit
from causalmix.report.records import Provenance, _caption_of
from causalmix.report.tables import styled

#: Record columns a figure's CSV keeps (the others are provenance blobs: versions, timings, spec).
CSV_COLUMNS = ("run_id", "dataset", "n_train", "seed", "method", "variant", "domain", "status", "best_step",
               "n_test", "n_test_ood")


#: Tables longer than this open collapsed (the reader clicks to open them).
COLLAPSE_ROWS = 20


def setup_notebook() -> None:
    """Quiet, readable notebook output: SVG figures with text of at least 9 pt at column width, no
    library warnings printed (a run's warnings live in its record), wide tables not truncated."""
    import matplotlib as mpl
    from IPython import get_ipython

    warnings.filterwarnings("ignore")
    pd.set_option("display.max_columns", 30)
    mpl.rcParams.update({"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9,
                         "ytick.labelsize": 9, "legend.fontsize": 9, "figure.dpi": 100, "svg.fonttype": "none",
                         "figure.max_open_warning": 0})
    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['svg']")


@functools.cache
def repository_url() -> str:
    """The repository's URL, set once in ``_config.yml`` (``repository.url``)."""
    import yaml

    cfg = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    return str(cfg.get("repository", {}).get("url", "")).rstrip("/")


def source_url(path: str) -> str:
    """A link to ``path`` of the repository at the commit that runs now."""
    commit = git_commit().removesuffix("-dirty")
    return f"{repository_url()}/blob/{commit}/{path}"


def legend_overlaps(fig) -> list[str]:
    """Where a legend inside an axes covers plot data, from the bounding boxes matplotlib draws (the
    SVG's own geometry): data points of lines and scatter collections inside the legend's box, bars and
    other patches whose box meets it (a band or span across the whole axes does not count)."""
    import numpy as np

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        area = ax.get_window_extent(renderer)

        def inside(points) -> int:
            points = np.asarray(points, dtype=float).reshape(-1, 2)
            points = points[np.isfinite(points).all(axis=1)]
            return int(((points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0)
                        & (points[:, 1] < box.y1)).sum())

        hits = sum(inside(line.get_transform().transform(line.get_xydata())) for line in ax.get_lines()
                   if line.get_visible() and len(line.get_xydata()) > 2)
        hits += sum(inside(c.get_offset_transform().transform(c.get_offsets())) for c in ax.collections
                    if c.get_visible() and len(c.get_offsets()))
        for patch in ax.patches:
            extent = patch.get_window_extent(renderer)
            spans = extent.width >= 0.95 * area.width or extent.height >= 0.95 * area.height
            if patch.get_visible() and not spans and extent.overlaps(box):
                hits += 1
        if hits:
            found.append(f"axes {i + 1} ({ax.get_title() or ax.get_ylabel() or 'untitled'}): {hits} data marks under the legend")
    return found


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _csv_link(data: pd.DataFrame, filename: str) -> str:
    if data is None or data.empty:
        return ""
    keep = [c for c in data.columns if not data[c].map(lambda v: isinstance(v, (dict, list))).any()]
    text = data[keep].to_csv(index=False)
    encoded = base64.b64encode(text.encode()).decode()
    return f'<a download="{filename}" href="data:text/csv;base64,{encoded}">data ({len(data)} rows, CSV)</a>'


class Page:
    """One book page: numbers its figures and tables (``Figure 3.1``), captions them with the
    provenance of the records behind them, and links the notebook's source at the current commit.

    ``notebook`` is the notebook's stem (``"03_median_improvement"``); the chapter number is its prefix.
    """

    def __init__(self, notebook: str, *, config: str, settings: dict[str, Any] | None = None):
        self.notebook = notebook
        self.config = config
        self.settings = settings or {}
        self.chapter = int(notebook.split("_", 1)[0]) if notebook[:2].isdigit() else 0
        self._figures = 0
        self._tables = 0

    def _source(self) -> str:
        return f'<a href="{source_url(f"notebooks/{self.notebook}.ipynb")}">source</a>'

    def figure(self, fig, title: str, *, alt: str, records: pd.DataFrame | Provenance | str,
               data: pd.DataFrame | None = None, note: str = ""):
        """The figure as an inline SVG image with ``alt`` text and a numbered caption: title, ``note``,
        provenance of ``records``, the data behind it as CSV (``data``, default: ``records``) and the
        notebook's source. Closes the matplotlib figure."""
        from IPython.display import HTML

        self._figures += 1
        number = f"{self.chapter}.{self._figures}"
        overlaps = legend_overlaps(fig)
        svg = base64.b64encode(_svg(fig).encode()).decode()
        if data is None and isinstance(records, pd.DataFrame):
            data = records[[c for c in records.columns if c in CSV_COLUMNS or c.startswith(("test_", "val_"))
                            or c in ("improvement", "gap", "correlation", "regret")]]
        links = " · ".join(x for x in (_csv_link(data, f"figure-{number}.csv"), self._source()) if x)
        caption = (f"<b>Figure {number}.</b> {html.escape(title)}" + (f" {note}" if note else "")
                   + f"<br><small>{html.escape(_caption_of(records, self.config))} · {links}</small>")
        check = f' data-legend-overlap="{html.escape("; ".join(overlaps))}"' if overlaps else ""
        return HTML(f'<figure class="causalmix-figure"{check} style="margin: 0.5em 0 1.5em 0;">'
                    f'<img src="data:image/svg+xml;base64,{svg}" alt="{html.escape(alt)}" '
                    f'style="max-width: 100%; height: auto;">'
                    f'<figcaption style="font-size: 0.9em;">{caption}</figcaption></figure>')

    def table(self, table: pd.DataFrame, title: str, records: pd.DataFrame | Provenance | str, *,
              precision: int = 3, collapsed: bool | None = None, note: str = ""):
        """A numbered table (``Table 3.1``) with its provenance line, the table as a CSV download and the
        notebook's source; it scrolls sideways in a narrow window instead of being clipped. ``collapsed``
        puts it in a ``<details>`` element the reader opens (default: tables of more than
        :data:`COLLAPSE_ROWS` rows); ``note`` is a sentence under the title (what the table shows)."""
        from IPython.display import HTML

        self._tables += 1
        number = f"{self.chapter}.{self._tables}"
        collapsed = len(table) > COLLAPSE_ROWS if collapsed is None else collapsed
        data = table.reset_index() if not isinstance(table.index, pd.RangeIndex) else table
        links = " · ".join(x for x in (_csv_link(data, f"table-{number}.csv"), self._source()) if x)
        caption = f"Table {number}. {title}" + (f" {note}" if note else "")
        style = styled(table, caption, records, config=self.config, precision=precision)
        body = (f'<div class="causalmix-table" style="overflow-x: auto; max-width: 100%;">{style.to_html()}</div>'
                f'<p class="causalmix-data"><small>{links}</small></p>')
        if collapsed:
            body = (f"<details><summary><b>Table {number}.</b> {html.escape(title)} ({len(table)} rows; click to open)"
                    f"</summary>{body}</details>")
        return HTML(body)


def open_page(notebook: str, config: str | Path) -> Page:
    """A notebook's opening: readable output (:func:`setup_notebook`), the study's validated settings
    (``page.settings``) and its name (``page.config``, as captions state it).

    >>> page = open_page("03_median_improvement", "smoke")
    >>> page.config, page.chapter, page.settings["n_train"]
    ('smoke', 3, [64])
    """
    setup_notebook()
    settings = study.settings(config)
    return Page(notebook, config=settings["name"], settings=settings)


def relative_to_repo(path: str | Path) -> str:
    """``path`` relative to the repository root when inside it (for the reader), else as given."""
    path = Path(path)
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


__all__ = ["COLLAPSE_ROWS", "CSV_COLUMNS", "Page", "legend_overlaps", "relative_to_repo", "repository_url", "setup_notebook", "source_url"]


