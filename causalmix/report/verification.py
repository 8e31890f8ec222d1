"""This build's check of a published study, as the landing and benchmark pages show it: where the
published records come from, the verification box, the sample's reach, the machines, the checked runs."""

from __future__ import annotations

import html as _html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.provenance import file_sha256
from causalmix.publish import load_published, published_dir, read_provenance
from causalmix.report.page import relative_to_repo, source_url
from causalmix.report.vocabulary import study_counts
from causalmix.verify import DEFAULT_BUDGET_S, draw_probabilities, verification_path

__all__ = ["current_check", "machines_table", "published_text", "sample_reach_text", "verification_notice",
           "verification_table"]


def published_text(config: str | Path) -> str:
    """Markdown: where the published records of a configuration come from, and this build's
    re-verification of them (or that there was none, e.g. on GitHub Pages without the datasets)."""
    prov = read_provenance(config)
    folder = relative_to_repo(published_dir(config))
    files = " · ".join(f"[{name}]({source_url(f'{folder}/{name}')})" for name in (*prov.get("files", {}), "provenance.json"))
    text = (f"These are the **published records** of the `{prov['configuration']}` configuration "
            f"(`{folder}`: {files}): {study_counts(config).sentence()} Computed on {', '.join(prov['hardware'])}, "
            f"model `{prov['model']}` (sha256 {', '.join(s[:12] for s in prov['model_sha256'])}…), result version "
            f"{', '.join(map(str, prov.get('result_version', ['unknown'])))}, published {prov['published_at']} from "
            f"commit {prov['published_from_commit'][:12]}.\n\n")
    return text + verification_notice(config)


def verification_notice(config: str | Path, *, named: bool = False) -> str:
    """Markdown for the landing and benchmark pages: this build's check of the published records as a
    coloured box — passed (green), FAILED with the runs' names (red), or not run (grey); ``named``: the
    title starts with the study's name (a companion study's box on the landing page)."""
    study = f"<code>{_html.escape(read_provenance(config)['configuration'])}</code>: " if named else ""

    def box(kind: str, title: str, body: str) -> str:
        # HTML, not a MyST directive: notebook outputs are rendered as CommonMark, where a directive is a code block.
        return (f'\n<div class="admonition {kind}"><p class="admonition-title">{study}{title}</p><p>{body}</p></div>\n')

    check = current_check(config)
    if check is None:
        return box("note", "Not re-verified in this build",
                   "It had no shared datasets to recompute runs from (the GitHub Pages build) or skipped the check "
                   "(<code>VERIFY_RUNS=0</code>). <code>make reproduce</code> checks every published record against its "
                   "curve and recomputes a stratified sample of the runs from scratch before it builds the book.")
    if check["ok"] and check["counts"].get("diverged"):
        return box("warning", f"This build's check passed; {check['counts']['diverged']} recomputed run(s) diverged",
                   _html.escape(str(check["summary"])) + " A diverged run agrees at step 0 (same split, weights and "
                   "evaluation), but its generator (CausalMix or TabEBM) turned this CPU's float rounding into other "
                   "synthetic rows, so its curve leaves the published one; on the publishing CPU model it must agree.")
    if check["ok"]:
        return box("tip", "This build's check passed", _html.escape(str(check["summary"])))
    failed = ", ".join(f"<code>{_html.escape(str(run))}</code>" for run in check.get("failed_runs", []))
    return box("error", "This build's check FAILED",
               f"{failed}. {_html.escape(str(check['summary']))} <code>make reproduce</code> exits with an error after "
               "building this book.")


def sample_reach_text(config: str | Path, *, seeds: int = 100) -> str:
    """Markdown: how likely the default check recomputes one given published run (by simulation over
    ``seeds`` sample seeds), and which runs it cannot reach (their recorded time exceeds the budget)."""
    records, _ = load_published(config, ("main", "extra", "ablation"))
    ok = records[records["status"] == "ok"].drop_duplicates("run_id")
    p = draw_probabilities(ok, budget_s=DEFAULT_BUDGET_S, seeds=range(seeds))
    out = int((ok["wall_time_s"] > DEFAULT_BUDGET_S).sum())
    return (f"**Reach of the check.** Every one of the {len(ok)} successful records is checked against its curve in "
            f"every build. Of the runs, a default sample (32 runs, {DEFAULT_BUDGET_S:.0f} recorded seconds) recomputes a "
            f"given one with probability {p.mean():.2%} on average (median {p.median():.2%}, at most {p.max():.0%}; "
            f"estimated over {seeds} sample seeds); {out} run(s) whose recorded time exceeds the budget are reached "
            "only by `causalmix verify --all` or a larger `--budget`.")


def machines_table(config: str | Path) -> pd.DataFrame | None:
    """The publishing machines (from the records) beside this build's verifying machine (None
    without a check): CPU, vendor, cores, instruction sets, torch's kernel choice, oneDNN, threads."""
    check = current_check(config)
    if check is None:
        return None
    prov = read_provenance(config)
    published = prov.get("machine") or {"cpu": ", ".join(prov.get("hardware", [])) or "unknown"}
    here = check.get("machine_details") or {"cpu": check.get("machine", "unknown")}
    rows = {"published runs": published, "this build's check": here}
    keys = ["cpu", "vendor", "cores", "cpu_flags", "torch_cpu_capability", "onednn", "torch_threads", "torch"]
    table = pd.DataFrame({who: {k: (", ".join(v) if isinstance(v, list) else v) for k, v in m.items() if k in keys}
                          for who, m in rows.items()})
    return table.reindex([k for k in keys if k in table.index]).fillna("not recorded").rename_axis("machine")


def current_check(config: str | Path) -> dict[str, Any] | None:
    """This machine's last re-verification of the published records as they are now (None when there
    was none, or it checked an earlier publication)."""
    path = verification_path(config)
    check = json.loads(path.read_text()) if path.is_file() else None
    if check is None or check.get("published_sha256") != file_sha256(published_dir(config) / "runs.csv.gz"):
        return None
    return check


def verification_table(config: str | Path) -> pd.DataFrame | None:
    """The runs the last re-verification recomputed (None when there was none for these records)."""
    check = current_check(config)
    if check is None:
        return None
    table = pd.DataFrame(check["runs"]).rename(columns={"max_abs_diff": "largest |difference|"})
    return table.drop(columns=["detail"]).set_index("run_id")
