"""The claims scoreboard: SPEC's claims C1–C9 (and the premise V1 that replaces two rows that could not
fail), each with our estimate, its 95 % hierarchical-bootstrap interval, a test, Holm's correction and a
verdict computed by the rule of :mod:`causalmix.report.verdicts`; the research question's Adult rows as
effect sizes without a verdict.

Every pooled statistic follows SPEC: the unit is the dataset (per dataset the mean over its seeds and
training sizes), the interval resamples datasets and then seeds within each drawn dataset
(:mod:`causalmix.report.hierarchical`), tests are Wilcoxon signed-rank over datasets.

>>> from causalmix import report
>>> board = report.scoreboard(records, curves, config="standard")     # doctest: +SKIP
>>> report.scoreboard_table(board)                                    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from causalmix.report.hierarchical import (
    Grid,
    dataset_values,
    grid,
    hierarchical_bootstrap,
    median_of,
    per_dataset,
    percentile_p,
    rank_lead,
    replicates,
    spread_difference,
    variance_components,
)
from causalmix.report.paper import EQUIVALENCE_MARGIN, PAPER_RESULTS, method_label, paper_difference
from causalmix.report.records import in_sweep, ok_runs, provenance, with_pretrained
from causalmix.report.stats import Interval, domain_shift_frame, fully_seeded, improvement_frame, reliability_frame
from causalmix.report.verdicts import (
    VERDICTS,
    Verdict,
    direction_verdict,
    effect_verdict,
    equivalence_verdict,
    holm,
    signed_rank,
    spread_test,
    tost,
)

ALPHA = 0.05
Kind = Literal["effect", "direction", "equivalence", "research question"]

VERDICT_RULE = (
    "**Verdict rule** (SPEC, fixed before looking at a study). Every interval is a 95 % hierarchical bootstrap "
    "(2,000 replicates, seeded: datasets resampled, then seeds within each drawn dataset); the unit is the dataset "
    "(per dataset the mean over its seeds and training sizes, then the median across datasets). "
    + " ".join(f"*{v}*: {text}." for v, text in VERDICTS.items())
    + f" The equivalence margin is δ = {EQUIVALENCE_MARGIN:.2f} percentage points (the paper's own default "
    "fine-tuning effect). **Tests**: Wilcoxon signed-rank over datasets against 0 (equivalence: two one-sided "
    "signed-rank tests against ±δ; the variability claim: the Pitman–Morgan test of paired variances) and against "
    "the paper's value (the variability claim: the p-value that inverts the bootstrap interval); on Adult, one "
    "dataset, the seeds are the units (with 5 seeds no two-sided signed-rank p-value goes below 0.0625). Holm's correction over every p-value of the board together. *Survives Holm* says whether the "
    "test behind the verdict stays below 0.05 after it."
)

UNITS_NOTE = (
    "**Units.** Our improvements are percent: (score / pre-trained score − 1) × 100. The paper's table "
    "gives +0.12 etc. without a unit; we read them as percent, which is an assumption. Ranks, correlations, gaps "
    "have no unit; accuracies are shares of test rows, also given as test rows."
)


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim as a number we can compute; ``paper_value`` is None for a claim stated without a number."""

    key: str
    label: str
    claim: str
    paper: str
    statistic: str
    kind: Kind
    paper_value: float | None = None
    page: str = ""
    digits: int = 2
    unit: str = ""


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What one claim's computation gives: the interval, the tests and what the board shows beside them."""

    interval: Interval | None
    p_zero: float = float("nan")  # against no effect (equivalence: TOST, small = inside ±δ)
    p_paper: float = float("nan")  # against the paper's value (equivalence: small = outside ±δ)
    wins: int | None = None
    losses: int | None = None
    values: tuple[float, ...] = ()  # per dataset (per seed on one dataset)
    components: tuple[float, float, float] | None = None  # variance between, within, seeds
    extra: str = ""


@dataclasses.dataclass(frozen=True)
class ClaimResult:
    """A claim checked on our records."""

    claim: Claim
    interval: Interval | None
    basis: str
    source: str  # configuration · model
    verdict: Verdict
    evidence: Evidence = Evidence(None)
    p_zero_holm: float = float("nan")
    p_paper_holm: float = float("nan")
    survives: str = "–"  # yes / no / – (no verdict to keep)


# --- the claims -----------------------------------------------------------------------------

_IMPROVEMENT_PAGE, _RANK_PAGE, _RELIABILITY_PAGE, _ADULT_PAGE = (
    "03_median_improvement", "04_ranks", "05_validation_reliability", "06_adult_low_resource")
_MEDIAN = "median across datasets of the per-dataset normalized ROC-AUC improvement, %"
_PAPER = PAPER_RESULTS["median_improvement"]
_GAP = PAPER_RESULTS["correlation_gap"]
EQUIVALENCE_METHODS = {"ctgan": "C5", "tabebm": "C6", "tableaugment": "C7"}

CLAIMS: tuple[Claim, ...] = (
    Claim("improvement_causalmix", "C1", "CausalMixFT improves on the pre-trained model", f"{_PAPER['causalmix'][0]:+.2f}",
          _MEDIAN, "effect", _PAPER["causalmix"][0], _IMPROVEMENT_PAGE, unit="%"),
    Claim("improvement_finetune", "C2", "Default fine-tuning improves on the pre-trained model",
          f"{_PAPER['finetune'][0]:+.2f}", _MEDIAN, "effect", _PAPER["finetune"][0], _IMPROVEMENT_PAGE, unit="%"),
    Claim("causalmix_vs_finetune", "C3", "CausalMixFT improves more than default fine-tuning (the headline claim)",
          f"{_PAPER['causalmix'][0]:+.2f} vs {_PAPER['finetune'][0]:+.2f}",
          "median across datasets of the paired difference of improvements, CausalMixFT − default FT, %", "effect",
          paper_difference(_PAPER["causalmix"][0], _PAPER["finetune"][0]), _IMPROVEMENT_PAGE, unit=" pp"),
    Claim("rank", "C4", "CausalMixFT ranks first on average", "1st (default FT 2nd)",
          "average rank (by mean test ROC-AUC per dataset): best other method − CausalMixFT", "direction", None,
          _RANK_PAGE),
    *(Claim(f"improvement_{m}", label, f"{method_label(m)} does not improve on the pre-trained model",
            f"{_PAPER[m][0]:+.2f}", _MEDIAN + f", inside ±{EQUIVALENCE_MARGIN:.2f}", "equivalence", _PAPER[m][0],
            _IMPROVEMENT_PAGE, unit="%")
      for m, label in EQUIVALENCE_METHODS.items()),
    Claim("variability", "C8", "CausalMixFT varies less across datasets than default fine-tuning",
          f"± {_PAPER['causalmix'][1]:.2f} vs ± {_PAPER['finetune'][1]:.2f}",
          "std across datasets of the per-dataset improvement: default FT − CausalMixFT", "effect",
          paper_difference(_PAPER["finetune"][1], _PAPER["causalmix"][1]), _IMPROVEMENT_PAGE, unit=" pp"),
    Claim("gap", "C9", "CausalMixFT shrinks the validation–test gap", f"{_GAP['finetune']:.2f} → {_GAP['causalmix']:.2f}",
          "median across datasets of the paired gap difference (1 − Spearman), default FT − CausalMixFT", "effect",
          paper_difference(_GAP["finetune"], _GAP["causalmix"]), _RELIABILITY_PAGE),
    Claim("selection", "V1", "Early stopping overfits the validation set: the validation-selected step tests worse "
          "than simply the last step (the paper's premise)", "no number",
          "median across datasets of default FT's test ROC-AUC at the last step − at the selected step", "direction",
          None, _RELIABILITY_PAGE, digits=4),
    *(Claim(f"adult_{what}_{other}", "RQ", f"Adult: CausalMixFT vs {method_label(other)}, {label}",
            "research question", statistic, "research question", None, _ADULT_PAGE, digits=3)
      for other in ("mixup", "smote")
      for what, label, statistic in (
          ("accuracy", "test accuracy", "mean paired test-accuracy difference, CausalMixFT − other"),
          ("ood_accuracy", "out-of-domain accuracy", "mean paired out-of-domain accuracy difference"),
          ("drop", "in- → out-of-domain accuracy drop", "mean paired accuracy drop, other − CausalMixFT"),
      )),
)

SPLIT = ["dataset", "n_train", "seed", "domain"]


def paired_runs(frame: pd.DataFrame, value: str, a: str, b: str) -> pd.DataFrame:
    """Per split both methods ran: ``a``'s ``value`` minus ``b``'s, as column ``difference``.

    >>> f = pd.DataFrame({"dataset": "d", "n_train": 64, "seed": [0, 0, 1], "method": ["a", "b", "a"], "v": [3, 1, 2]})
    >>> paired_runs(f, "v", "a", "b")[["seed", "difference"]].to_dict("records")
    [{'seed': 0, 'difference': 2.0}]
    """
    keys = [k for k in SPLIT if k in frame]
    part = frame[frame["method"].isin([a, b])].assign(**({"domain": frame["domain"].fillna("")} if "domain" in frame else {}))
    if part.empty:
        return pd.DataFrame(columns=[*keys, "difference"])
    wide = part.pivot_table(index=keys, columns="method", values=value, aggfunc="mean")
    if a not in wide or b not in wide:
        return pd.DataFrame(columns=[*keys, "difference"])
    return (wide[a] - wide[b]).astype(float).dropna().rename("difference").reset_index()


def selection_frame(records: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per fine-tuning run: its test ROC-AUC at the last evaluated step minus at the validation-selected
    step (``last_minus_selected``: > 0 when simply taking the last step would have tested better)."""
    keep = records[records["method"] != "pretrained"].set_index("run_id")
    rows = []
    for run_id, curve in curves[curves["run_id"].isin(keep.index)].groupby("run_id", sort=False):
        curve = curve.sort_values("step")
        hit = np.flatnonzero(curve["step"].to_numpy() == keep.at[run_id, "best_step"])
        if len(hit):
            test = curve["test_roc_auc"].to_numpy()
            rows.append({"run_id": run_id, **{k: keep.at[run_id, k] for k in ("dataset", "method", "n_train", "seed")},
                         "last_minus_selected": float(test[-1] - test[hit[0]])})
    return pd.DataFrame(rows, columns=["run_id", "dataset", "method", "n_train", "seed", "last_minus_selected"])


def _median_evidence(g: Grid, paper: float | None, seed: int, *, equivalence: bool = False,
                     datasets: bool = True) -> Evidence:
    """The median over datasets of a one-column grid, its interval and its tests."""
    if not g.datasets:
        return Evidence(None)
    values = per_dataset(g)[:, 0]
    if not datasets:  # one dataset: the seeds are the units of the test
        values = np.nanmean(g.values[0, : g.n_seeds[0], :, 0], axis=1)
    iv = hierarchical_bootstrap(g, median_of(0), seed=seed)
    if equivalence:
        p_zero, p_paper = tost(values, EQUIVALENCE_MARGIN)
    else:
        p_zero = signed_rank(values)
        p_paper = signed_rank(values, paper) if paper is not None else float("nan")
    return Evidence(iv, p_zero, p_paper, int((values > 0).sum()), int((values < 0).sum()),
                    tuple(float(v) for v in values), variance_components(g))


@dataclasses.dataclass(frozen=True)
class Context:
    """The frames the claims are computed from."""

    main: pd.DataFrame
    reliability: pd.DataFrame
    selection: pd.DataFrame
    adult: pd.DataFrame
    shifted: pd.DataFrame

    def restrict(self, n_train: int) -> Context:
        """The main grid's frames at one training size (the Adult frames as they are)."""
        on = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in ("main", "reliability", "selection"):
            frame = on[name]
            on[name] = frame[frame["n_train"] == n_train] if len(frame) else frame
        return Context(**on)


def evaluate(claim: Claim, ctx: Context, seed: int = 0) -> tuple[Evidence, pd.DataFrame]:
    """The evidence on ``claim`` and the runs it used."""
    main = ctx.main
    if claim.key.startswith("improvement_"):
        method = claim.key.removeprefix("improvement_")
        used = main[main["method"] == method]
        g = grid(improvement_frame(used), "improvement", columns=None) if len(used) else grid(used, "x")
        return _median_evidence(g, claim.paper_value, seed, equivalence=claim.kind == "equivalence"), used
    if claim.key == "causalmix_vs_finetune":
        used = main[main["method"].isin(["causalmix", "finetune"])]
        diff = paired_runs(improvement_frame(used), "improvement", "causalmix", "finetune")
        return _median_evidence(grid(diff, "difference", columns=None), claim.paper_value, seed), used
    if claim.key == "rank":
        used = fully_seeded(with_pretrained(main)) if len(main) else main
        if "causalmix" not in set(used["method"]) or used["method"].nunique() < 2:
            return Evidence(None), used
        g = grid(used, "test_roc_auc")
        ours = g.columns.index("causalmix")
        iv = hierarchical_bootstrap(g, rank_lead(ours), seed=seed)
        table = dataset_values(g).dropna()
        ranks = table.rank(axis=1, ascending=False).mean().drop("causalmix")
        best = ranks.idxmin()
        diff = (table["causalmix"] - table[best]).to_numpy()
        return Evidence(iv, signed_rank(diff), float("nan"), int((diff > 0).sum()), int((diff < 0).sum()),
                        tuple(diff), extra=f"vs {method_label(best)}"), used
    if claim.key == "variability":
        used = main[main["method"].isin(["causalmix", "finetune"])]
        if set(used["method"]) != {"causalmix", "finetune"}:
            return Evidence(None), used
        g = grid(improvement_frame(used), "improvement").take(["finetune", "causalmix"])
        values = per_dataset(g)
        estimate, draws = replicates(g, spread_difference("std"), seed=seed)
        iv = hierarchical_bootstrap(g, spread_difference("std"), seed=seed)
        return Evidence(iv, spread_test(values[:, 0], values[:, 1]), percentile_p(draws, claim.paper_value)), used
    if claim.key == "gap":
        used = main[main["method"].isin(["causalmix", "finetune"])]
        diff = paired_runs(ctx.reliability, "gap", "finetune", "causalmix")
        return _median_evidence(grid(diff, "difference", columns=None), claim.paper_value, seed), used
    if claim.key == "selection":
        used = main[main["method"] == "finetune"]
        frame = ctx.selection[ctx.selection["method"] == "finetune"]
        return _median_evidence(grid(frame, "last_minus_selected", columns=None), None, seed), used
    if claim.key.startswith("adult_"):
        what, other = claim.key.removeprefix("adult_").rsplit("_", 1)
        frame = ctx.adult if what == "accuracy" else ctx.shifted
        value = {"accuracy": "test_accuracy", "ood_accuracy": "test_ood_accuracy", "drop": "drop_accuracy"}[what]
        used = frame[frame["method"].isin(["causalmix", other])] if len(frame) else frame
        if used.empty:
            return Evidence(None), used
        a, b = (other, "causalmix") if what == "drop" else ("causalmix", other)
        diff = paired_runs(used, value, a, b)
        ev = _median_evidence(grid(diff, "difference", columns=None, cells=("n_train", "domain")), None, seed,
                              datasets=False)
        rows = used["n_test_ood" if what == "ood_accuracy" else "n_test"].mean() if "n_test" in used else float("nan")
        accuracy, majority = (("test_ood_accuracy", "test_ood_majority_accuracy") if what == "ood_accuracy"
                              else ("test_accuracy", "test_majority_accuracy"))
        at_majority = ((used[accuracy] - used[majority]).abs().lt(1e-9).mean() if majority in used
                       else float("nan"))
        extra = f"{len(diff)} splits"
        if ev.interval is not None and not math.isnan(rows):
            iv = ev.interval
            extra += (f" · {iv.estimate * rows:+.1f} [{iv.low * rows:+.1f}, {iv.high * rows:+.1f}] of "
                      f"{rows:.0f} test rows")
        if not math.isnan(at_majority):
            extra += f" · {at_majority:.0%} of runs at majority-class accuracy"
        return dataclasses.replace(ev, extra=extra), used
    raise KeyError(claim.key)


def verdict_of(claim: Claim, evidence: Evidence) -> Verdict:
    """The verdict :mod:`causalmix.report.verdicts` gives ``claim`` on ``evidence``."""
    if claim.kind == "research question":
        return "not run" if evidence.interval is None else "effect size"
    if claim.kind == "equivalence":
        return equivalence_verdict(evidence.interval, EQUIVALENCE_MARGIN)
    if claim.kind == "direction" or claim.paper_value is None:
        return direction_verdict(evidence.interval, ">")
    return effect_verdict(evidence.interval, claim.paper_value)


def _survives(r: ClaimResult) -> str:
    """Whether the test behind the verdict stays below ALPHA after Holm's correction."""
    needed = {
        "supported": [r.p_zero_holm],
        "direction only": [r.p_zero_holm, r.p_paper_holm],
        "contradicted": [r.p_zero_holm if r.claim.kind == "direction" else r.p_paper_holm],
        "effect size": [r.p_zero_holm],
    }.get(r.verdict)
    if needed is None:
        return "–"
    if any(math.isnan(p) for p in needed):
        return "untested"
    return "yes" if all(p < ALPHA for p in needed) else "no"


# --- the board ------------------------------------------------------------------------------


def _basis(used: pd.DataFrame, extra: str = "") -> str:
    """What a row rests on; seeds per dataset, as a range where datasets differ (a pooled TabEBM row: one
    seed on each exploratory dataset, three on each confirmatory one).

    >>> _basis(pd.DataFrame({"run_id": ["a", "b", "c", "d"], "dataset": ["x", "y", "y", "y"], "seed": [0, 0, 1, 2]}))
    '2 datasets · 1–3 seeds · 4 runs'
    """
    if used.empty:
        return "no runs"
    n = used["run_id"].nunique() if "run_id" in used else len(used)
    per_dataset = used.groupby("dataset")["seed"].nunique()
    d, low, high = len(per_dataset), int(per_dataset.min()), int(per_dataset.max())
    seeds = f"{high} seed{'s' if high != 1 else ''}" if low == high else f"{low}–{high} seeds"
    text = f"{d} dataset{'s' if d != 1 else ''} · {seeds} · {n} runs"
    return f"{text} · {extra}" if extra else text


def context(records: pd.DataFrame, curves: pd.DataFrame, *, config: str | Mapping[str, Any] | None = None,
            dataset: str = "adult") -> Context:
    """The frames of a sweep's records the claims need (main grid, reliability, Adult extension, domain shift)."""
    main = ok_runs(records if config is None else in_sweep(records, config))
    reliability = reliability_frame(main, curves) if not main.empty else pd.DataFrame(
        columns=["run_id", "dataset", "method", "n_train", "seed", "gap"])
    on_dataset = records[records["dataset"] == dataset]
    shifted = ok_runs(on_dataset, domain=True)
    return Context(main, reliability, selection_frame(main, curves), ok_runs(on_dataset),
                   domain_shift_frame(shifted) if not shifted.empty else shifted)


def judge(ctx: Context, *, name: str, seed: int = 0, claims: Sequence[Claim] = CLAIMS) -> list[ClaimResult]:
    """Every claim on ``ctx``, with Holm's correction over all of their p-values together."""
    results = []
    for claim in claims:
        evidence, used = evaluate(claim, ctx, seed)
        source = f"{name} · {', '.join(provenance(used, config=name).models) or 'unknown'}" if len(used) else name
        results.append(ClaimResult(claim, evidence.interval, _basis(used, evidence.extra), source,
                                   verdict_of(claim, evidence), evidence))
    adjusted = holm([r.evidence.p_zero for r in results] + [r.evidence.p_paper for r in results])
    n = len(results)
    results = [dataclasses.replace(r, p_zero_holm=float(adjusted[i]), p_paper_holm=float(adjusted[n + i]))
               for i, r in enumerate(results)]
    return [dataclasses.replace(r, survives=_survives(r)) for r in results]


def scoreboard(records: pd.DataFrame, curves: pd.DataFrame, *, config: str | Mapping[str, Any] | None = None,
               name: str | None = None, dataset: str = "adult", seed: int = 0) -> list[ClaimResult]:
    """Every claim of :data:`CLAIMS` checked on a sweep's records (the main grid, the Adult
    low-resource extension and the domain-shift runs are selected here).

    ``config`` is the configuration (name, path or dict) whose grid is the main study, ``None`` for
    every plain low-data run in ``records``; ``name`` the name the table shows (default: the
    configuration's).
    """
    if name is None:
        name = "records" if config is None else str(config) if not isinstance(config, Mapping) else str(config["name"])
    results = judge(context(records, curves, config=config, dataset=dataset), name=name, seed=seed)
    if dataset not in set(records["dataset"]):  # the research question's rows belong to studies that have its dataset
        results = [r for r in results if r.claim.kind != "research question"]
    return results


VERDICT_COLOURS = {"supported": "#1a7f37", "direction only": "#0969da", "contradicted": "#cf222e",
                   "inconclusive": "#9a6700", "not run": "#57606a", "effect size": "#57606a"}


def _p(p: float) -> str:
    return "–" if math.isnan(p) else f"{p:.2g}" if p >= 0.001 else f"{p:.1e}" if p > 0 else "< 1e-300"


def scoreboard_table(results: Sequence[ClaimResult], *, pages: Sequence[str] | None = None,
                     html: bool = True) -> pd.DataFrame:
    """The scoreboard for display: claim (with what ours measures) · paper · ours (estimate [95 %
    interval]) · wins/losses over datasets · p (Holm) against 0 and against the paper's value (equivalence:
    inside / outside ±δ) · verdict · whether it survives Holm · basis · configuration and model; ``pages``
    keeps the claims tested on those notebook pages; ``html`` marks up the claim and colours the verdict."""
    rows = []
    for r in results:
        if pages is not None and r.claim.page not in pages:
            continue
        c, ev = r.claim, r.evidence
        claim = f"{c.label} {c.claim}"
        won = f"{ev.wins} / {ev.losses}" if ev.wins is not None else "–"
        rows.append({
            "claim": f'{claim}<br><span style="color: #57606a; font-size: 0.72rem">ours: {c.statistic}</span>'
                     if html else claim,
            "paper": c.paper,
            "ours [95 % interval]": r.interval.format(c.digits, c.unit) if r.interval is not None else "–",
            "above / below 0": won,
            "p (Holm): 0 · paper": f"{_p(r.p_zero_holm)} · {_p(r.p_paper_holm)}",
            "verdict": (f'<b style="color: {VERDICT_COLOURS[r.verdict]}">{r.verdict}</b>' if html else r.verdict),
            "survives Holm": r.survives,
            "basis": r.basis,
            "configuration · model": r.source,
        })
    table = pd.DataFrame(rows)
    if html and len(table):  # the book: the basis joins the claim's grey line (the table fits a 1280 px window),
        # and every table's provenance line names the configuration and model, so no column for them
        table["claim"] = [c.replace("</span>", f" · basis: {b}</span>") for c, b in zip(table["claim"], table["basis"])]
        table = table.drop(columns=["basis", "configuration · model"])
    return table


def verdict_counts(results: Sequence[ClaimResult]) -> dict[str, int]:
    """How many of the paper's claims (not the research-question rows) got each verdict, zero included."""
    counts = dict.fromkeys([v for v in VERDICTS if v != "effect size"], 0)
    for r in results:
        if r.claim.kind != "research question":
            counts[r.verdict] += 1
    return counts
