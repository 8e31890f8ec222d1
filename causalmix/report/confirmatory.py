"""The confirmatory study on the landing page: its registration, its state, and three scoreboards.

The confirmatory study (``causalmix/configs/confirmatory.yaml``, CTGAN in ``confirmatory-ctgan.yaml``)
was registered in ``studies/confirmatory/PREREGISTRATION.md`` before any run on its datasets
(:mod:`causalmix.report.registration`). The book shows

- the registration (file, sha256, the commit that added it) and the log of changes made after it
  (``DEVIATIONS.md``, read from the file: :func:`deviations_log`);
- the study's state (:func:`state_text`): its records, or — before they exist — the runs it plans,
  their estimated compute (:func:`planned`, from the data manifest's row and feature counts only: no
  dataset file is opened) and the command that computes it; while it is computed, how many of its
  registered runs have a record, per method (:func:`progress`);
- three scoreboards (:func:`scoreboards`), each labelled: *exploratory* (the configured study, whose
  records shaped the registration), *confirmatory* (the new datasets only: the registered analysis)
  and *pooled* (both together: more datasets, but not confirmatory, since the exploratory ones were
  seen before registration). The confirmatory and pooled verdicts are withheld until every registered
  run has a record: the registration fixes one analysis of the complete grid, and an interim look
  would let the stopping point depend on the results;
- which claims a study of the confirmatory and of the pooled size can settle, at the exploratory
  spread (:func:`settle_table`, from :func:`~causalmix.report.evidence.power_table`).

CTGAN runs in its own environment (``confirmatory-ctgan``, all datasets of both studies) with the same
record format: where its records exist they are merged into the confirmatory and pooled records
(:func:`with_ctgan`) and into the configured study's (:func:`study_results`, when the two share their
splits), so the CTGAN rows of the scoreboards are filled; without them they say "not run".

>>> [s.key for s in scoreboards((pd.DataFrame(), pd.DataFrame()), None, config="smoke", board=[])]
['exploratory']
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from causalmix.costs import CostModel, spec_seconds
from causalmix.io import markdown_table
from causalmix.publish import is_published
from causalmix.report.evidence import power_table
from causalmix.report.page import relative_to_repo, repository_url, source_url
from causalmix.report.paper import method_label
from causalmix.report.records import load_results
from causalmix.report.registration import STUDY, registration_facts
from causalmix.report.scoreboard import ClaimResult, scoreboard
from causalmix.runs import RunSpec
from causalmix.study import load_study, results_dir, settings, with_part

__all__ = ["CONFIRMATORY", "CTGAN_CONFIG", "DEVIATIONS", "LABELS", "RUN_COMMAND", "Scored", "apart_note",
           "companion_studies", "computed_apart", "confirmatory_records", "confirmatory_sizes", "ctgan_records",
           "deviations_log", "planned", "poolable",
           "pooled", "progress", "recomputed_runs", "registered_runs", "registration_text", "scoreboards",
           "settle_table", "settle_text", "state_text", "study_results", "unpooled_methods", "with_ctgan",
           "with_method_runs", "with_part"]

Frames = tuple[pd.DataFrame, pd.DataFrame]  # (records, curves)

CONFIRMATORY = "confirmatory"
CTGAN_CONFIG = "confirmatory-ctgan"
DEVIATIONS = STUDY / "DEVIATIONS.md"
RUN_COMMAND = f"causalmix study run {CONFIRMATORY}"
CTGAN_COMMAND = f".venv-ctgan/bin/causalmix study run {CTGAN_CONFIG}"

#: The three scoreboards' headings.
LABELS = {
    "exploratory": "Exploratory",
    "confirmatory": "Confirmatory (pre-registered)",
    "pooled": "Pooled, not confirmatory",
}

#: The settings two studies must share for their records to pool (the grid's datasets and methods aside).
POOLED_SETTINGS = ("model", "n_train", "n_val", "seeds", "test_cap", "finetune")


# --- the registration ----------------------------------------------------------------------------


def _code(text: str) -> str:
    """Inline code that may break anywhere (a sha256 is wider than a phone's screen). Not for commands:
    the book's typographer turns ``--`` in HTML into an en dash, even written as entities (measured in a
    built page); commands go in backticks, which it leaves alone."""
    return f'<code style="overflow-wrap: anywhere; word-break: break-all">{html.escape(text)}</code>'


def registration_text(folder: Path = STUDY) -> str:
    """The registration as the landing page states it: the file (linked), its sha256, the commit that
    added it and the study's datasets; a plain sentence when this checkout has no registration."""
    facts = registration_facts(folder)
    if facts is None:
        return "This checkout holds no pre-registration of a confirmatory study."
    file, commit = facts["file"], facts["registered_in_commit"]
    at_commit = (f" ([the file as registered]({repository_url()}/blob/{commit}/{file}))"
                 if commit != "unknown" else "")
    datasets = settings(CONFIRMATORY)["datasets"]
    return (f"The confirmatory study was registered before any run on its {len(datasets)} datasets "
            f"({', '.join(datasets)}): its hypotheses, outcomes, tests, verdict rules, sizes and seeds are in "
            f"[`{file}`]({source_url(file)}), sha256 {_code(facts['sha256'])}, added in commit {_code(commit)}{at_commit}. "
            f"The analysis that decides its verdicts is this page's scoreboard, frozen by a fingerprint of what it "
            f"gave on the exploratory records at registration ([`{relative_to_repo(STUDY / 'analysis_fingerprint.json')}`]"
            f"({source_url(relative_to_repo(STUDY / 'analysis_fingerprint.json'))}), checked by the test suite). "
            f"Every change made after registration is listed in [`{relative_to_repo(folder / DEVIATIONS.name)}`]"
            f"({source_url(relative_to_repo(folder / DEVIATIONS.name))}):")


def deviations_log(path: Path = DEVIATIONS, *, html_cells: bool = False) -> pd.DataFrame:
    """The first markdown table of the deviation log (``DEVIATIONS.md``) as a frame, as written there
    (``html_cells``: escaped, with its inline code as ``<code>``, for a page's table)."""
    table = markdown_table(path.read_text()) if path.is_file() else []
    if not table:
        return pd.DataFrame()
    header, rows = table[0], table[1:]
    frame = pd.DataFrame([row + [""] * (len(header) - len(row)) for row in rows], columns=header)
    if html_cells:
        frame = frame.map(lambda cell: re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(cell)))
    return frame


# --- records ---------------------------------------------------------------------------------------


def _load(config: str, out_dir: str | Path | None) -> Frames | None:
    try:
        records, curves = load_results(config, out_dir)
    except FileNotFoundError:
        return None
    return (with_part(records, config), curves) if len(records) else None


def ctgan_records(config: str = CTGAN_CONFIG, out_dir: str | Path | None = None) -> Frames | None:
    """The CTGAN study's ``(records, curves)`` (published or computed), None before it has records."""
    return _load(config, out_dir)


def study_results(config: str | Path, out_dir: str | Path | None = None) -> Frames:
    """The configured study's ``(records, curves)`` (:func:`~causalmix.report.load_results`), with the CTGAN
    study's runs on its datasets merged in (:func:`with_ctgan`) when the configuration does not run CTGAN
    itself and shares the CTGAN study's settings (:func:`poolable`: the same splits): CTGAN needs its own
    environment, so the paper's CTGAN baseline is computed there, for every dataset of both studies."""
    records, curves = load_results(config, out_dir)
    if "ctgan" in settings(config)["methods"] or not poolable(config, CTGAN_CONFIG):
        return records, curves
    return with_ctgan((with_part(records, config), curves), ctgan_records())


def computed_apart(records: pd.DataFrame, config: str | Path) -> dict[str, str]:
    """The methods of ``records`` that another study computed for ``config`` (:func:`study_results`),
    each with that study's name: CTGAN's, when the configuration does not run it itself."""
    methods = set(records["method"]) if "method" in records else set()
    return {"ctgan": CTGAN_CONFIG} if "ctgan" in methods and "ctgan" not in settings(config)["methods"] else {}


def apart_note(records: pd.DataFrame, config: str | Path) -> str:
    """A sentence naming the runs of ``records`` that the CTGAN study computed for ``config``
    (:func:`computed_apart`), or "" when there are none.

    >>> apart_note(pd.DataFrame({"method": ["finetune"]}), "standard")
    ''
    """
    return " ".join(f"{method_label(m)}: its {int((records['method'] == m).sum()):,} runs here are the CTGAN study's "
                    f"(`{other}`, computed in its own environment on the same splits)."
                    for m, other in computed_apart(records, config).items())


def with_ctgan(frames: Frames, ctgan: Frames | None, datasets: Sequence[str] | None = None) -> Frames:
    """``frames`` with the CTGAN records of ``datasets`` (default: the datasets of ``frames``) merged in,
    on the datasets where ``frames`` has no CTGAN run of its own; ``frames`` as they are without CTGAN
    records. Both studies share the records' format and splits, so CTGAN's improvements are over the
    pre-trained runs of ``frames`` on the same splits."""
    return with_method_runs(frames, ctgan, "ctgan", datasets)


def with_method_runs(frames: Frames, extra: Frames | None, method: str, datasets: Sequence[str] | None = None) -> Frames:
    """``frames`` with ``method``'s records in ``extra`` on ``datasets`` (default: those of ``frames``)
    merged in where ``frames`` has no run of that method on the dataset (:func:`with_ctgan`)."""
    records, curves = frames
    if extra is None or extra[0].empty:
        return frames
    extra, extra_curves = extra
    datasets = set(records["dataset"]) if datasets is None else set(datasets)
    own = set(records.loc[records["method"] == method, "dataset"]) if len(records) else set()
    keep = extra[(extra["method"] == method) & extra["dataset"].isin(datasets - own)
                 & ~extra["run_id"].isin(set(records["run_id"]) if len(records) else set())]
    if keep.empty:
        return frames
    kept_curves = extra_curves[extra_curves["run_id"].isin(keep["run_id"])] if "run_id" in extra_curves else extra_curves
    return (pd.concat([records, keep], ignore_index=True),
            pd.concat([curves, kept_curves], ignore_index=True) if len(kept_curves) else curves)


def confirmatory_records(config: str = CONFIRMATORY, *, out_dir: str | Path | None = None,
                         ctgan: Frames | None | str = CTGAN_CONFIG) -> Frames | None:
    """The confirmatory study's ``(records, curves)`` — published (``published/confirmatory/``) or
    computed (``results/confirmatory/``, or ``out_dir``) — with CTGAN's records of its datasets merged
    in (``ctgan``: the CTGAN configuration's name, its frames, or None); None while it has no records."""
    found = _load(config, out_dir)
    if found is None:
        return None
    extra = ctgan_records(ctgan) if isinstance(ctgan, str) else ctgan
    return with_ctgan(found, extra, settings(config)["datasets"])


def poolable(config: str | Path, confirmatory: str | Path = CONFIRMATORY) -> bool:
    """Whether two studies' records pool: the same model and fine-tuning settings (:data:`POOLED_SETTINGS`;
    a method whose generator settings differ is left out of the pool, :func:`unpooled_methods`)."""
    a, b = settings(config), settings(confirmatory)
    return all(a.get(k) == b.get(k) for k in POOLED_SETTINGS)


def unpooled_methods(config: str | Path, confirmatory: str | Path = CONFIRMATORY) -> list[str]:
    """The methods whose generator settings differ between the two studies (TabEBM, checked and fixed
    after the exploratory study: studies/confirmatory/DEVIATIONS.md): their exploratory runs stay out
    of the pooled view, which would otherwise mix two generators under one name."""
    a, b = settings(config)["generators"], settings(confirmatory)["generators"]
    return sorted(m for m in set(a) | set(b) if (a.get(m) or {}) != (b.get(m) or {}))


def recomputed_runs(config: str | Path, method: str, confirmatory: str | Path = CONFIRMATORY) -> Frames | None:
    """The records of ``<study>-<method>`` (e.g. ``standard-tabebm``: the standard study's TabEBM runs
    recomputed with the confirmatory study's generator settings, as its registration plans), once every
    one of its runs has a record and its settings for ``method`` are the confirmatory study's; else None."""
    name = f"{settings(config)['name']}-{method}"
    try:
        again = settings(name)
    except FileNotFoundError:
        return None
    same = (again["generators"].get(method) or {}) == (settings(confirmatory)["generators"].get(method) or {})
    found = _load(name, None) if same else None
    if found is None or not _complete(progress(found[0], registered_runs(name, None))):
        return None
    return found


def companion_studies(config: str | Path) -> list[str]:
    """The published studies this book reads beside ``config``: the confirmatory study, CTGAN's and the
    exploratory runs recomputed with the confirmatory settings (``<study>-<method>``, :func:`recomputed_runs`),
    those of them published in this checkout (``make reproduce`` checks each, as it checks ``config``)."""
    name = settings(config)["name"]
    found = []
    for other in (CONFIRMATORY, CTGAN_CONFIG, *(f"{name}-{m}" for m in unpooled_methods(config))):
        try:
            if other != name and is_published(other):
                found.append(other)
        except FileNotFoundError:  # no such configuration in this checkout
            continue
    return found


def pooled(exploratory: Frames, confirmatory: Frames, *, ctgan: Frames | None = None,
           leave_out: Sequence[str] = (), recomputed: Sequence[Frames] = ()) -> Frames:
    """The exploratory and confirmatory records (and curves) together, each keeping its ``part`` (the
    exploratory study's extension stays out of the pooled grid), with CTGAN's records of every pooled
    dataset merged in; the exploratory runs of the methods in ``leave_out`` (other generator settings)
    are not pooled, unless ``recomputed`` holds their runs made again with the confirmatory settings
    (:func:`recomputed_runs`). Not a confirmatory analysis: the exploratory datasets were seen before
    registration."""
    explo, explo_curves = exploratory
    explo = explo[~explo["method"].isin(list(leave_out))] if len(leave_out) else explo
    for again in recomputed:
        for method in sorted(set(again[0]["method"])):
            explo, explo_curves = with_method_runs((explo, explo_curves), again, method)
    records = pd.concat([explo, confirmatory[0]], ignore_index=True)
    records = records.drop_duplicates("run_id", keep="first").reset_index(drop=True)
    curves = pd.concat([explo_curves, confirmatory[1]], ignore_index=True)
    if "run_id" in curves and "step" in curves:
        curves = curves.drop_duplicates(["run_id", "step"], keep="first").reset_index(drop=True)
    return with_ctgan((records, curves), ctgan)


# --- the three scoreboards ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scored:
    """One labelled scoreboard: ``key`` exploratory / confirmatory / pooled, its heading, the name its
    table's rows carry, the records behind it and a sentence saying what it is."""

    key: str
    label: str
    name: str
    records: pd.DataFrame
    board: list[ClaimResult]
    note: str

    @property
    def datasets(self) -> list[str]:
        grid = self.records[self.records["part"] != "extra"] if "part" in self.records else self.records
        return sorted(set(grid["dataset"])) if len(grid) else []


def scoreboards(exploratory: Frames, confirmatory: Frames | None, *, config: str, name: str | None = None,
                board: list[ClaimResult] | None = None, ctgan: Frames | None = None,
                confirmatory_config: str = CONFIRMATORY, ctgan_config: str = CTGAN_CONFIG,
                withhold_incomplete: bool = True) -> list[Scored]:
    """The landing page's scoreboards, each labelled: exploratory (the configured study; ``board`` when
    already computed), confirmatory (only when its records exist) and pooled (only when both exist and
    the two studies share their settings, :func:`poolable`). With ``withhold_incomplete`` (the default)
    the confirmatory board waits until every registered run of it (CTGAN's on its datasets included)
    has a record, and the pooled one until CTGAN's runs on every pooled dataset have one too
    (:func:`progress`): no interim verdicts."""
    name = name or settings(config)["name"]
    records, curves = exploratory
    if board is None:
        board = scoreboard(records, curves, config=config, name=name)
    out = [Scored("exploratory", LABELS["exploratory"], name, records, board,
                  f"The configured study `{name}`, whose records this build reads: its verdicts are exploratory, "
                  f"not part of the registered confirmatory test. {apart_note(records, config)}".rstrip())]
    if confirmatory is None:
        return out
    conf = with_ctgan(confirmatory, ctgan)
    if withhold_incomplete and not _complete(progress(conf[0], registered_runs(confirmatory_config, ctgan_config))):
        return out
    conf_name = settings(confirmatory_config)["name"]
    out.append(Scored("confirmatory", LABELS["confirmatory"], conf_name, conf[0],
                      scoreboard(*conf, config=confirmatory_config, name=conf_name),
                      f"The registered analysis on the confirmatory study `{conf_name}` alone: its datasets were "
                      "not looked at before registration. These are the confirmatory verdicts."))
    if not poolable(config, confirmatory_config):
        return out
    every_ctgan = registered_runs(None, ctgan_config, datasets=None)
    if withhold_incomplete and not _complete(progress(ctgan[0] if ctgan is not None else None, every_ctgan)):
        return out
    apart = unpooled_methods(config, confirmatory_config)
    again = {m: found for m in apart if (found := recomputed_runs(config, m, confirmatory_config)) is not None}
    both = pooled((with_part(records, config), curves), conf, ctgan=ctgan, leave_out=apart,
                  recomputed=list(again.values()))
    pooled_name = f"{name} + {conf_name}"
    unpooled = "".join(
        f" {method_label(m)}: its exploratory runs recomputed with the confirmatory settings (`{name}-{m}`)." if m in again
        else f" {method_label(m)}: the confirmatory runs only (its generator settings differ between the studies; "
             "see the changes after registration)." for m in apart)
    out.append(Scored("pooled", LABELS["pooled"], pooled_name, both[0],
                      scoreboard(*both, config=confirmatory_config, name=pooled_name),
                      f"`{name}` and `{conf_name}` together: more datasets, so narrower intervals, but not "
                      "confirmatory (the exploratory datasets shaped the registration); it does not replace "
                      "the confirmatory verdicts." + unpooled))
    return out


# --- the study's state ------------------------------------------------------------------------------


def registered_runs(config: str | None = CONFIRMATORY, ctgan_config: str | None = CTGAN_CONFIG, *,
                    datasets: Sequence[str] | None | str = "study") -> list[RunSpec]:
    """The runs a study registered: its grid's and the CTGAN study's on ``datasets`` ("study": the
    study's own; None: all of CTGAN's). Expanding them opens no dataset file."""
    specs = load_study(config).specs("grid") if config is not None else []
    if ctgan_config is not None:
        keep = set(settings(config)["datasets"]) if datasets == "study" else None if datasets is None else set(datasets)
        specs += [s for s in load_study(ctgan_config).specs("grid") if keep is None or s.name in keep]
    return specs


def _key(dataset: Any, method: Any, n_train: Any, seed: Any) -> tuple[str, str, int, int]:
    return str(dataset), str(method), int(n_train), int(seed)


def progress(records: pd.DataFrame | None, specs: Sequence[RunSpec]) -> pd.DataFrame:
    """Per method, the registered runs ``specs`` and how many of them ``records`` hold: ``ok``,
    ``failed`` (a sweep retries it; one that fails for good is left out of its cell with its reason)
    and ``to run``; matched by (dataset, method, n_train, seed), so no dataset file is hashed.

    >>> spec = RunSpec(dataset="d", n_train=64, seed=0, method="finetune")
    >>> progress(pd.DataFrame({"dataset": ["d"], "method": ["finetune"], "variant": [None], "n_train": [64],
    ...                        "seed": [0], "status": ["ok"]}), [spec]).to_dict("records")
    [{'method': 'finetune', 'registered': 1, 'ok': 1, 'failed': 0, 'to run': 0}]
    """
    status: dict[tuple[str, str, int, int], str] = {}
    if records is not None and len(records):
        method = records["variant"].fillna(records["method"]) if "variant" in records else records["method"]
        for row, label in zip(records.itertuples(index=False), method):
            key = _key(row.dataset, label, row.n_train, row.seed)
            status[key] = "ok" if row.status == "ok" or status.get(key) == "ok" else "failed"
    rows = {}
    for spec in specs:
        row = rows.setdefault(spec.variant or spec.method, {"registered": 0, "ok": 0, "failed": 0, "to run": 0})
        row["registered"] += 1
        row[status.get(_key(spec.name, spec.variant or spec.method, spec.n_train, spec.seed), "to run")] += 1
    return pd.DataFrame([{"method": m, **row} for m, row in rows.items()],
                        columns=["method", "registered", "ok", "failed", "to run"])


def _complete(table: pd.DataFrame) -> bool:
    return bool(len(table)) and int(table["to run"].sum()) == 0


def planned(config: str = CONFIRMATORY) -> dict[str, Any]:
    """What computing a study means, without touching its data: runs per part and in total (the
    configuration's own expansion), datasets and methods, and the estimated CPU-hours of the cost model
    (:mod:`causalmix.costs`) from the data manifest's row, feature and class counts — NaN when the
    manifest here has no counts for a dataset (no dataset file is opened, no run id is computed)."""
    study = load_study(config)
    specs = [s for part in study.parts for s in study.specs(part)]
    model = CostModel.load()
    seconds = spec_seconds(specs, model, load=False)
    total = sum(seconds) + model.startup_s if specs and all(math.isfinite(s) for s in seconds) else math.nan
    return {"name": study.name, "runs": len(specs), "parts": {p: len(study.specs(p)) for p in study.parts},
            "datasets": sorted({s.dataset for s in specs}), "methods": sorted({s.method for s in specs}),
            "cpu_hours": total / 3600, "folder": relative_to_repo(results_dir(config))}


def _plan_sentence(plan: dict[str, Any]) -> str:
    methods = plan["methods"]
    what = ", ".join(method_label(m) for m in methods) if len(methods) <= 2 else f"{len(methods)} methods"
    hours = (f"about {plan['cpu_hours']:,.0f} CPU-hours" if math.isfinite(plan["cpu_hours"])
             else "no compute estimate here (this machine's data manifest lacks the datasets' sizes)")
    return f"`{plan['name']}` plans {plan['runs']:,} runs ({len(plan['datasets'])} datasets, {what}; {hours})"


def state_text(found: Frames | None, *, config: str = CONFIRMATORY, ctgan_config: str = CTGAN_CONFIG) -> str:
    """The confirmatory study's state, in plain words: not computed yet (the runs it plans, their
    estimated compute and the command that computes it), or what its records (CTGAN's merged in,
    :func:`confirmatory_records`) hold."""
    if found is None:
        plan, extra = planned(config), planned(ctgan_config)
        files = sum(1 for _ in (results_dir(config) / "records").glob("*.json"))
        if files:  # records there, but none checked here: run ids hash the data files, which are absent
            return (f"**The confirmatory study is being computed**: `{plan['folder']}/` holds {files:,} record "
                    f"file{'s' * (files != 1)} of its {plan['runs']:,} runs, but this build cannot check them against their data (the datasets' "
                    "files are not on this machine), so it counts none of them. No verdict is shown before every "
                    "registered run has a record in any case.")
        return (f"**The confirmatory study is not computed yet**: this checkout has no records of it (none "
                f"published, none under `{plan['folder']}/`), so no confirmatory verdict exists and the page "
                f"shows the exploratory scoreboard only. {_plan_sentence(plan)}; {_plan_sentence(extra)}, in its own "
                f"environment. CPU-hours are the cost model's (`causalmix.costs`), priced from the data manifest's row "
                f"and feature counts. Compute it with `{RUN_COMMAND} --jobs 2` (CTGAN: `{CTGAN_COMMAND} --jobs 2`); "
                "rebuilding the book then adds the confirmatory and the pooled scoreboards here.")
    table = progress(found[0], registered_runs(config, ctgan_config))
    done, total = int(table["ok"].sum() + table["failed"].sum()), int(table["registered"].sum())
    failed = int(table["failed"].sum())
    if not _complete(table):
        return (f"**The confirmatory study is being computed**: {done:,} of its {total:,} registered runs have a "
                f"record (CTGAN's on its datasets included; per method below). Its verdicts, and the pooled ones, are "
                "withheld until every registered run has one: the registration fixes one analysis of the complete "
                "grid, and a look at interim verdicts would let when to stop depend on them. "
                f"`{RUN_COMMAND} --jobs 2` (CTGAN: `{CTGAN_COMMAND} --jobs 2`) resumes it.")
    return (f"**The confirmatory study is complete**: every one of its {total:,} registered runs has a record "
            f"(CTGAN's on its datasets included), {failed:,} of them failed (left out of their cells with the reason "
            "their record gives). Its scoreboard below is the registered analysis.")


# --- what the sizes can settle -------------------------------------------------------------------------


def confirmatory_sizes(config: str, confirmatory: str = CONFIRMATORY) -> dict[str, int]:
    """The datasets of the confirmatory study and, when the configured study pools with it
    (:func:`poolable`), of the pooled one (the union of both studies' datasets): label -> count."""
    mine, theirs = settings(config)["datasets"], settings(confirmatory)["datasets"]
    sizes = {"confirmatory": len(theirs)}
    if poolable(config, confirmatory):
        sizes["pooled"] = len(set(mine) | set(theirs))
    return sizes


def _settles(need: float, n: int) -> bool:
    return not math.isnan(need) and need <= n


def settle_table(board: Sequence[ClaimResult], sizes: Mapping[str, int]) -> pd.DataFrame:
    """Per claim tested over datasets: the datasets an 80 % power signed-rank test needs at the spread
    ``board`` observed (:func:`~causalmix.report.evidence.power_table`), at the paper's effect and at
    ``board``'s estimate, and whether a study of each of ``sizes`` (label -> datasets) reaches it."""
    power = power_table(board)
    if power.empty:
        return power
    paper, ours = "datasets needed: paper's effect", "datasets needed: our estimate"
    table = power[["claim", "verdict", paper, ours]].rename(columns={"verdict": "verdict here"})
    for label, n in sizes.items():
        table[f"{label}: {n} datasets"] = [
            " · ".join(w for w, ok in (("paper's effect", _settles(a, n)), ("our estimate", _settles(b, n))) if ok) or "neither"
            for a, b in zip(power[paper], power[ours])]
    return table


def settle_text(board: Sequence[ClaimResult], sizes: Mapping[str, int]) -> str:
    """One sentence per size: the claims a study of that many datasets has 80 % power to settle at the
    paper's effect and at the exploratory estimate (the spread this build observed)."""
    table = settle_table(board, sizes)
    if table.empty:
        return "This build's records give no spread across datasets, so no power estimate for a bigger study."
    out = []
    for label, n in sizes.items():
        col = table[f"{label}: {n} datasets"]
        at_paper = [c for c, v in col.items() if "paper's effect" in v]
        at_ours = [c for c, v in col.items() if "our estimate" in v]
        out.append(f"With {n} datasets ({label}), a signed-rank test has 80 % power at the paper's effect for "
                   f"{', '.join(at_paper) or 'none of the claims'}, and at this build's estimate for "
                   f"{', '.join(at_ours) or 'none'}.")
    return " ".join(out) + (" The rest would stay inconclusive at the observed spread unless the effect is larger; "
                            "the rank (C4) and spread (C8) claims are not tests over per-dataset values and have no row.")
