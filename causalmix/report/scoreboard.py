"""The claims scoreboard: each claim of the paper with our estimate, its 95 % bootstrap interval and
a verdict computed by code.

The verdict rule (:data:`VERDICT_RULE`) compares the interval with the side the paper claims:
*reproduced* when it lies entirely on that side, *not reproduced* when entirely on the other,
*inconclusive* when it covers both, *not run* when the method or the data is missing. Intervals
resample datasets (seed means inside, every training size of a dataset together); the Adult rows,
on one dataset, resample its splits (seed × training size).

>>> from causalmix import report
>>> board = report.scoreboard(records, curves, config="quick")      # doctest: +SKIP
>>> report.scoreboard_table(board)                                  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from causalmix.metrics import rank_table
from causalmix.report.paper import PAPER_RESULTS, method_label
from causalmix.report.records import in_sweep, ok_runs, provenance, with_pretrained
from causalmix.report.stats import (
    Interval,
    cluster_bootstrap,
    domain_shift_frame,
    fully_seeded,
    improvement_cells,
    median_improvement_interval,
    median_interval,
    on_shared_splits,
    pooled_median,
    reliability_frame,
)

Verdict = Literal["reproduced", "not reproduced", "inconclusive", "not run"]

VERDICT_RULE = (
    "**Verdict rule.** *Reproduced* when our 95 % bootstrap interval lies entirely on the side the paper "
    "claims (an improvement above 0, CausalMixFT ahead of the other method, a smaller gap with CausalMixFT); "
    "*not reproduced* when it lies entirely on the other side; *inconclusive* when it covers both; *not run* "
    "when the method or the data is missing. Intervals resample datasets (2,000 percentile-bootstrap "
    "replicates; per dataset the mean over seeds, all its training sizes together); the Adult rows resample "
    "its splits (seed × training size). With few datasets most verdicts are inconclusive: that is the correct "
    "answer, not a failure."
)

UNITS_NOTE = (
    "**Units.** Our improvements are percent: (score / pre-trained score − 1) × 100. The paper's table "
    "gives +0.12 etc. without a unit; we read them as percent, which is an assumption. Ranks, correlations, gaps "
    "and regrets have no unit; accuracies are shares of test rows."
)


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim of the paper as a number we can compute: ``statistic`` should be ``side`` ``threshold``."""

    key: str
    claim: str
    paper: str
    statistic: str
    side: Literal[">", "<"]
    threshold: float = 0.0
    page: str = ""
    digits: int = 2
    unit: str = ""


@dataclasses.dataclass(frozen=True)
class ClaimResult:
    """A claim checked on our records."""

    claim: Claim
    interval: Interval | None
    basis: str
    source: str  # configuration · model
    verdict: Verdict


def verdict(interval: Interval | None, side: Literal[">", "<"], threshold: float = 0.0) -> Verdict:
    """The verdict of an interval against the claimed side of ``threshold``.

    >>> verdict(Interval(0.5, 0.1, 0.9), ">"), verdict(Interval(-0.5, -0.9, -0.1), ">")
    ('reproduced', 'not reproduced')
    >>> verdict(Interval(0.1, -0.2, 0.4), ">"), verdict(None, ">")
    ('inconclusive', 'not run')
    """
    if interval is None or math.isnan(interval.estimate):
        return "not run"
    if math.isnan(interval.low) or math.isnan(interval.high):
        return "inconclusive"
    sign = 1 if side == ">" else -1
    if sign * (interval.low - threshold) > 0 and sign * (interval.high - threshold) > 0:
        return "reproduced"
    if sign * (interval.low - threshold) < 0 and sign * (interval.high - threshold) < 0:
        return "not reproduced"
    return "inconclusive"


# --- the claims -----------------------------------------------------------------------------

_IMPROVEMENT_PAGE = "03_median_improvement"


def _paper_improvement(method: str) -> str:
    median, variability = PAPER_RESULTS["median_improvement"][method]
    return f"{median:+.2f}" + (f" (± {variability:.2f})" if variability is not None else "")


CLAIMS: tuple[Claim, ...] = (
    *(Claim(f"improvement_{m}", f"{method_label(m)} improves on the pre-trained model" if v > 0
            else f"{method_label(m)} does not improve on the pre-trained model",
            _paper_improvement(m), "median normalized ROC-AUC improvement, %", ">" if v > 0 else "<",
            page=_IMPROVEMENT_PAGE, unit="%")
      for m, (v, _) in PAPER_RESULTS["median_improvement"].items()),
    Claim("variability", "CausalMixFT varies less across datasets than default fine-tuning",
          "± 0.63 vs ± 0.98", "std across datasets: default FT − CausalMixFT", ">", page=_IMPROVEMENT_PAGE),
    Claim("rank", "CausalMixFT ranks first on average", "1st (default FT 2nd)",
          "average rank: next-best method − CausalMixFT", ">", page="04_ranks"),
    Claim("regret", "Early stopping overfits the validation set: it costs test score",
          "no number", "median early-stopping regret of default FT (ROC-AUC)", ">",
          page="05_validation_reliability", digits=3),
    Claim("correlation", "Early stopping overfits the validation set: validation does not track test",
          "no number", "median validation–test correlation of default FT", "<", 1.0,
          page="05_validation_reliability"),
    Claim("gap", "CausalMixFT shrinks the validation–test gap", "0.67 → 0.30",
          "median gap: default FT − CausalMixFT", ">", page="05_validation_reliability"),
    *(Claim(f"adult_{what}_{other}", f"Adult: CausalMixFT beats {method_label(other)} on {label}",
            "research question", statistic, ">", page="06_adult_low_resource", digits=3)
      for other in ("mixup", "smote")
      for what, label, statistic in (
          ("accuracy", "test accuracy", "mean paired test-accuracy difference"),
          ("ood_accuracy", "out-of-domain accuracy", "mean paired out-of-domain accuracy difference"),
          ("drop", "the in- → out-of-domain drop", "mean paired accuracy drop: other − CausalMixFT"),
      )),
)


def _paired_clusters(a: pd.DataFrame, b: pd.DataFrame, value: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per dataset both frames have: ``(a's values, b's values)`` of ``value`` — the clusters of a
    bootstrap that compares two methods and resamples datasets."""
    both = sorted(set(a["dataset"]) & set(b["dataset"]))
    return [(a.loc[a["dataset"] == d, value].dropna().to_numpy(), b.loc[b["dataset"] == d, value].dropna().to_numpy())
            for d in both]


def _variability(records: pd.DataFrame, seed: int) -> Interval | None:
    clusters = _paired_clusters(improvement_cells(records, "finetune"), improvement_cells(records, "causalmix"),
                                "improvement")
    if len(clusters) < 2:
        return None

    def spread_difference(cs: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
        return float(np.std(np.concatenate([c[0] for c in cs]), ddof=1) - np.std(np.concatenate([c[1] for c in cs]), ddof=1))

    return cluster_bootstrap(clusters, spread_difference, seed=seed)


def _rank_lead(records: pd.DataFrame, seed: int) -> Interval | None:
    ranks = rank_table(on_shared_splits(with_pretrained(records)), "test_roc_auc")
    if "causalmix" not in ranks or ranks.shape[1] < 2:
        return None
    ours = list(ranks.columns).index("causalmix")

    def lead(rows: Sequence[np.ndarray]) -> float:
        mean = np.mean(rows, axis=0)
        return float(np.min(np.delete(mean, ours)) - mean[ours])

    return cluster_bootstrap(list(ranks.to_numpy()), lead, seed=seed)


def _reliability_median(frame: pd.DataFrame, method: str, column: str, seed: int) -> Interval | None:
    part = frame[frame["method"] == method]
    return None if part[column].notna().sum() == 0 else median_interval(part, column, seed=seed)


def _gap_difference(frame: pd.DataFrame, seed: int) -> Interval | None:
    a, b = frame[frame["method"] == "finetune"], frame[frame["method"] == "causalmix"]
    clusters = _paired_clusters(a, b, "gap")
    if not clusters or a["gap"].notna().sum() == 0 or b["gap"].notna().sum() == 0:
        return None

    def difference(cs: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
        return pooled_median([c[0] for c in cs]) - pooled_median([c[1] for c in cs])

    return cluster_bootstrap(clusters, difference, seed=seed)


def _paired_adult(runs: pd.DataFrame, other: str, value: Callable[[pd.DataFrame], pd.Series], seed: int,
                  *, flip: bool = False) -> tuple[Interval | None, int]:
    """Mean over splits of (CausalMixFT − other) in ``value`` (``flip``: other − CausalMixFT),
    resampling splits; returns the interval and the number of paired splits."""
    if runs.empty:
        return None, 0
    keys = [k for k in ("domain", "n_train", "seed") if k in runs]
    runs = runs.assign(_value=value(runs), domain=runs["domain"].fillna("") if "domain" in runs else "")
    wide = runs.pivot_table(index=keys, columns="method", values="_value", aggfunc="mean")
    if "causalmix" not in wide or other not in wide:
        return None, 0
    diff = (wide["causalmix"] - wide[other]).dropna().to_numpy() * (-1 if flip else 1)
    if not len(diff):
        return None, 0
    return cluster_bootstrap(list(diff), lambda cs: float(np.mean(cs)), seed=seed), len(diff)


# --- the board ------------------------------------------------------------------------------


def _basis(records: pd.DataFrame, unit: str = "datasets") -> str:
    n = records["run_id"].nunique() if "run_id" in records else len(records)
    runs = f"{n} run{'s' if n != 1 else ''}"
    if unit == "datasets":
        d = records["dataset"].nunique()
        return f"{d} dataset{'s' if d != 1 else ''} · {runs}"
    return f"{unit} · {runs}"


def _source(records: pd.DataFrame, config: str) -> str:
    prov = provenance(records, config=config)
    return f"{config} · {', '.join(prov.models) or 'unknown'}"


def scoreboard(records: pd.DataFrame, curves: pd.DataFrame, *, config: str | Mapping[str, Any] | None = None,
               name: str | None = None, dataset: str = "adult", seed: int = 0) -> list[ClaimResult]:
    """Every claim of :data:`CLAIMS` checked on a sweep's records (all of them: the main grid, the
    Adult low-resource extension and the domain-shift runs are selected here).

    ``config`` is the configuration (name, path or dict) whose grid is the main study, ``None`` for
    every plain low-data run in ``records``; ``name`` the name the table shows (default: the
    configuration's).
    """
    if name is None:
        name = "records" if config is None else str(config) if not isinstance(config, Mapping) else str(config["name"])
    main = ok_runs(records if config is None else in_sweep(records, config))
    reliability = reliability_frame(main, curves) if not main.empty else pd.DataFrame(
        columns=["dataset", "method", "gap", "correlation", "regret"])
    on_dataset = records[records["dataset"] == dataset]
    adult = ok_runs(on_dataset)
    shifted = ok_runs(on_dataset, domain=True)
    shifted = domain_shift_frame(shifted) if not shifted.empty else shifted

    def main_runs(methods: Sequence[str]) -> pd.DataFrame:
        return main[main["method"].isin(methods)]

    results = []
    for claim in CLAIMS:
        interval, used, splits = None, main.iloc[:0], None
        if claim.key.startswith("improvement_"):
            method = claim.key.removeprefix("improvement_")
            used = main_runs([method])
            interval = median_improvement_interval(main, method, seed=seed) if not used.empty else None
        elif claim.key == "variability":
            used = main_runs(["finetune", "causalmix"])
            interval = _variability(main, seed)
        elif claim.key == "rank":  # a method run on fewer seeds (TabEBM in `standard`) is ranked apart on 04
            used = fully_seeded(main)
            interval = _rank_lead(used, seed) if not used.empty else None
        elif claim.key in ("regret", "correlation"):
            used = main_runs(["finetune"])
            interval = _reliability_median(reliability, "finetune", claim.key, seed) if not used.empty else None
        elif claim.key == "gap":
            used = main_runs(["finetune", "causalmix"])
            interval = _gap_difference(reliability, seed)
        elif claim.key.startswith("adult_"):
            what, other = claim.key.removeprefix("adult_").rsplit("_", 1)
            if what == "accuracy":
                used = adult[adult["method"].isin(["causalmix", other])]
                interval, splits = _paired_adult(used, other, lambda r: r["test_accuracy"], seed)
            elif what == "ood_accuracy":
                used = shifted
                interval, splits = _paired_adult(used, other, lambda r: r["test_ood_accuracy"], seed)
            else:
                used = shifted
                interval, splits = _paired_adult(used, other, lambda r: r["drop_accuracy"], seed, flip=True)
            used = used[used["method"].isin(["causalmix", other])]
        if splits is not None:
            basis = _basis(used, f"{splits} split{'s' if splits != 1 else ''}")
        else:
            basis = _basis(used) if not used.empty else "no runs"
        results.append(ClaimResult(claim, interval, basis, _source(used, name) if not used.empty else name,
                                   verdict(interval, claim.side, claim.threshold)))
    return results


VERDICT_COLOURS = {"reproduced": "#1a7f37", "not reproduced": "#cf222e", "inconclusive": "#9a6700",
                   "not run": "#57606a"}


def scoreboard_table(results: Sequence[ClaimResult], *, pages: Sequence[str] | None = None,
                     html: bool = True) -> pd.DataFrame:
    """The scoreboard for display: claim (with what ours measures and the side claimed) · paper ·
    ours (estimate [95 % interval]) · verdict · basis · configuration and model; ``pages`` keeps the
    claims tested on those notebook pages; ``html`` marks up the claim and colours the verdict."""
    rows = []
    for r in results:
        if pages is not None and r.claim.page not in pages:
            continue
        c = r.claim
        measured = f"{c.statistic} {c.side} {c.threshold:g}"
        rows.append({
            "claim of the paper": f'{c.claim}<br><span style="color: #57606a; font-size: 0.72rem">ours: {measured}</span>' if html else f"{c.claim} ({measured})",
            "paper": c.paper,
            "ours [95 % interval]": r.interval.format(c.digits, c.unit) if r.interval is not None else "–",
            "verdict": (f'<b style="color: {VERDICT_COLOURS[r.verdict]}">{r.verdict}</b>' if html else r.verdict),
            "basis": r.basis,
            "configuration · model": r.source,
        })
    return pd.DataFrame(rows)


def verdict_counts(results: Sequence[ClaimResult]) -> dict[str, int]:
    """How many claims got each verdict (every verdict listed, zero included)."""
    counts = dict.fromkeys(get_args(Verdict), 0)
    for r in results:
        counts[r.verdict] += 1
    return counts
