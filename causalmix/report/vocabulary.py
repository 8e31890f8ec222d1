"""One vocabulary of counts for the whole book (and the README): the runs of a study and the hours
they took, defined once here, computed from the records, and pasted into every page with myst-nb
``glue`` so that no page types a count.

>>> COUNT_TERMS["failed by design"][:40]
'grid runs the configuration asks for but'
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.publish import load_published, read_provenance, uses_published
from causalmix.records import load_records
from causalmix.report.frontmatter import configurations_table, method_settings_table
from causalmix.report.records import failed_by_design, load_results
from causalmix.report.tables import styled
from causalmix.study import ablation_config, in_sweep, settings

#: The terms a page may use for a count, and what each one counts. Every page says "grid runs",
#: "ok", "failed by design", "extension", "ablations", "compute hours" and "wall hours" in this sense.
COUNT_TERMS: dict[str, str] = {
    "grid runs": "the runs of the configuration's grid (datasets × training sizes × seeds × methods, the pre-trained "
                 "reference included) plus its domain-shift runs, whatever their status",
    "ok": "grid runs that finished with a record of their metrics; every table of the results pages uses these",
    "failed by design": "grid runs the configuration asks for but the data cannot supply (a dataset with fewer rows "
                        "than n_train + n_val + 1): recorded with their error, left out of every table",
    "failed": "grid runs that raised any other error (a defect to fix; none is expected)",
    "extension": "runs of the low-resource extension at training sizes outside the grid, on page 06's dataset",
    "ablations": "runs of the one-factor-at-a-time ablation of CausalMixFT (page 07)",
    "runs in all": "grid runs + extension + ablations",
    "compute hours": "the sum of every run's own wall time (grid, extension and ablations), in hours",
    "wall hours": "the elapsed time of the sweeps that produced the records, in hours (recorded for published studies)",
}


@dataclasses.dataclass(frozen=True)
class StudyCounts:
    """The counts of :data:`COUNT_TERMS` for one configuration's records."""

    config: str
    grid_runs: int
    ok: int
    failed_by_design: int
    failed: int
    extension: int
    ablations: int
    compute_hours: float
    wall_hours: float | None
    published: bool
    by_design_detail: str = ""

    @property
    def runs_in_all(self) -> int:
        return self.grid_runs + self.extension + self.ablations

    def values(self) -> dict[str, str]:
        """Term -> the count as a page shows it."""
        return {
            "grid runs": f"{self.grid_runs:,}", "ok": f"{self.ok:,}", "failed by design": f"{self.failed_by_design:,}",
            "failed": f"{self.failed:,}", "extension": f"{self.extension:,}", "ablations": f"{self.ablations:,}",
            "runs in all": f"{self.runs_in_all:,}", "compute hours": f"{self.compute_hours:.1f}",
            "wall hours": "not recorded" if self.wall_hours is None else f"{self.wall_hours:.1f}",
        }

    def table(self) -> pd.DataFrame:
        """The counts with their definitions (the benchmark page's table of the vocabulary)."""
        values = self.values()
        return pd.DataFrame({"count": values, "what it counts": COUNT_TERMS}).rename_axis("term")

    def sentence(self) -> str:
        """One markdown sentence with every count, in the vocabulary's words."""
        v = self.values()
        wall = "" if self.wall_hours is None else f", {v['wall hours']} wall hours"
        design = f" ({self.by_design_detail})" if self.by_design_detail and self.failed_by_design else ""
        other = f", **{v['failed']} failed**" if self.failed else ""
        return (f"**{v['runs in all']} runs in all**: {v['grid runs']} grid runs ({v['ok']} ok, "
                f"{v['failed by design']} failed by design{design}{other}), {v['extension']} extension and "
                f"{v['ablations']} ablations; **{v['compute hours']} compute hours**{wall}.")


def by_design_detail(records: pd.DataFrame) -> str:
    """Which grid cells fail by design, e.g. ``wdbc at n_train 512 (569 rows < 641)``."""
    failed = records[failed_by_design(records)]
    parts = []
    for (dataset, n_train), group in failed.groupby(["dataset", "n_train"]):
        error = str(group["error"].iloc[0])
        rows = error.split(" has ", 1)[-1].split(" rows", 1)[0] if " has " in error else "?"
        need = error.rsplit("= ", 1)[-1].split(";", 1)[0] if "= " in error else "?"
        parts.append(f"{dataset} at n_train {int(n_train)}: {rows} rows < {need}")
    return "; ".join(parts)


def study_counts(config: str | Path, out_dir: str | Path | None = None) -> StudyCounts:
    """The counts of a configuration's records as they are on disk (published or computed)."""
    records_all, _ = load_results(config, out_dir)
    grid = in_sweep(records_all, config)
    extension = len(records_all) - len(grid)
    published = uses_published(config, out_dir)
    wall_hours = None
    if published:
        ablation, _ = load_published(config, "ablation")
        prov = read_provenance(config)
        wall_hours = prov["wall_seconds"] / 3600 if prov.get("wall_seconds") else None
    else:
        sweep, _ = ablation_config(config, out_dir=out_dir)
        folder = Path(sweep["out_dir"]) if sweep else None
        ablation = load_records(folder) if folder is not None and folder.is_dir() else pd.DataFrame()
    by_design = failed_by_design(grid)
    seconds = sum(float(f["wall_time_s"].sum()) for f in (records_all, ablation) if len(f) and "wall_time_s" in f)
    return StudyCounts(
        config=str(settings(config)["name"]), grid_runs=len(grid), ok=int((grid["status"] == "ok").sum()),
        failed_by_design=int(by_design.sum()), failed=int(((grid["status"] != "ok") & ~by_design).sum()),
        extension=int(extension), ablations=len(ablation), compute_hours=seconds / 3600, wall_hours=wall_hours,
        published=published, by_design_detail=by_design_detail(grid))


def glue_html(key: str, text: str) -> None:
    """Glue ``text`` (inline markdown-free HTML) under ``key``: other pages paste it with
    ``{glue}`results/08_overview.ipynb::key``` (cross-page glue pastes HTML, not markdown)."""
    from IPython.display import HTML
    from myst_nb import glue

    glue(key, HTML(f'<span class="causalmix-glue">{text}</span>'), display=False)


def glue_table(key: str, table: pd.DataFrame, title: str, what: str) -> None:
    """Glue a captioned table (HTML) under ``key`` for a markdown page (``{glue} key`` with ``:doc:``)."""
    from IPython.display import HTML
    from myst_nb import glue

    body = styled(table, html.escape(title), what).to_html()
    glue(key, HTML(f'<div class="causalmix-table" style="overflow-x: auto; max-width: 100%;">{body}</div>'), display=False)


#: The keys the landing page glues for the other pages: count_<term> for each term, and the texts below.
def glue_counts(counts: StudyCounts) -> None:
    """Glue every count under ``count_<term with underscores>`` (e.g. ``count_compute_hours``)."""
    for term, value in counts.values().items():
        glue_html("count_" + term.replace(" ", "_"), html.escape(value))


def glue_study_texts(cfg: dict[str, Any], counts: StudyCounts) -> None:
    """Glue the configuration-dependent sentences of the markdown pages (reproduce, limitations)."""
    name = html.escape(str(cfg["name"]))
    sizes = ", ".join(str(int(n)) for n in cfg["n_train"])
    scope = (f"<b>{name}</b> configuration: {len(cfg['datasets'])} datasets, n_train {sizes}, "
             f"{len(cfg['seeds'])} seeds, {len(cfg['methods'])} methods")
    glue_html("study_scope", scope)
    glue_html("study_name", name)
    if len(cfg["datasets"]) >= 15 and len(cfg["seeds"]) >= 5:
        reading = ("as evidence at the scale of this study for or against the paper's claims in direction, with the "
                   "power the landing page states, not as a replication on the paper's model")
    else:
        reading = ("as a check that the pipeline works end to end and as the <i>direction</i> of the effects, not as "
                   "evidence for or against the paper")
    glue_html("study_reading", f"Read the {name} results {reading}.")
    hours = counts.compute_hours
    rerun = (f"Reruns reuse the cached records: only the notebooks execute again (the sweep itself took "
             f"{hours:.1f} compute hours for this build's records and is not repeated).")
    glue_html("rerun_cost", rerun)

    glue_table("method_settings", method_settings_table(cfg),
               f"CausalMixFT's settings: the package defaults and the {cfg['name']} configuration's",
               f"configuration {cfg['name']} · causalmix.generators, causalmix.finetuning")
    glue_table("configurations", configurations_table(), "The shipped configurations (causalmix/configs/*.yaml)", "causalmix/configs/")


__all__ = ["COUNT_TERMS", "StudyCounts", "by_design_detail", "glue_counts", "glue_html", "glue_study_texts", "glue_table",
           "study_counts"]
