"""What the scoreboard's verdicts rest on, for the reader: the main comparisons at each training size,
the per-dataset differences behind the headline claim, the variability claim's sensitivity, TabEBM on
the seeds it ran, the power a bigger study would have, and the landing page's summary written from the
verdicts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causalmix.report.hierarchical import (
    grid,
    hierarchical_bootstrap,
    median_of,
    per_dataset,
    spread_difference,
)
from causalmix.report.paper import EQUIVALENCE_MARGIN, PAPER_RESULTS, method_label
from causalmix.report.records import in_sweep, ok_runs, with_pretrained
from causalmix.report.scoreboard import (
    CLAIMS,
    ClaimResult,
    context,
    evaluate,
    paired_runs,
    verdict_counts,
    verdict_of,
)
from causalmix.report.stats import improvement_frame, on_shared_splits, rank_test
from causalmix.report.verdicts import datasets_needed

SIZE_CLAIMS = ("improvement_causalmix", "improvement_finetune", "causalmix_vs_finetune",
               "improvement_ctgan", "improvement_tabebm", "improvement_tableaugment")


def by_n_train(records: pd.DataFrame, curves: pd.DataFrame, *, config: str | Mapping[str, Any] | None = None,
               name: str = "records", seed: int = 0, keys: Sequence[str] = SIZE_CLAIMS) -> pd.DataFrame:
    """The claims ``keys`` at each training size of the main grid (SPEC's per-n_train aggregation: per
    dataset the mean over seeds, then the median across datasets), each with its hierarchical interval,
    verdict, datasets above / below 0 and the uncorrected signed-rank p against 0 (equivalence: TOST)."""
    ctx = context(records, curves, config=config)
    rows = []
    for n_train in sorted(ctx.main["n_train"].unique()):
        sized = ctx.restrict(n_train)
        for claim in (c for c in CLAIMS if c.key in keys):
            ev, used = evaluate(claim, sized, seed)
            if ev.interval is None:
                continue
            rows.append({"claim": claim.label, "what": claim.claim, "n_train": int(n_train),
                         "ours [95 % interval]": ev.interval.format(claim.digits, claim.unit),
                         "verdict": verdict_of(claim, ev), "above / below 0": f"{ev.wins} / {ev.losses}",
                         "p": ev.p_zero, "datasets": len(ev.values)})
    return pd.DataFrame(rows, columns=["claim", "what", "n_train", "ours [95 % interval]", "verdict",
                                       "above / below 0", "p", "datasets"])


def by_n_train_table(sizes: pd.DataFrame) -> pd.DataFrame:
    """:func:`by_n_train` for display: claims × training sizes, ``estimate [interval] · verdict``."""
    if sizes.empty:
        return sizes
    cell = sizes["ours [95 % interval]"] + " · " + sizes["verdict"]
    wide = sizes.assign(cell=cell).pivot_table(index=["claim", "what"], columns="n_train", values="cell", aggfunc="first")
    wide.columns = [f"n_train {c}" for c in wide.columns]
    return wide.reset_index(level="what").rename(columns={"what": "claim of the paper"})


def forest_frame(records: pd.DataFrame, a: str = "causalmix", b: str = "finetune", *, seed: int = 0) -> pd.DataFrame:
    """Per dataset: the mean over seeds and training sizes of ``a``'s improvement minus ``b``'s on the same
    split, with a 95 % interval resampling its seeds; sorted by the difference."""
    diff = paired_runs(improvement_frame(records[records["method"].isin([a, b])]), "improvement", a, b)
    rows = []
    for dataset, part in diff.groupby("dataset"):
        g = grid(part, "difference", columns=None)
        iv = hierarchical_bootstrap(g, median_of(0), seed=seed, datasets=False)
        rows.append({"dataset": dataset, "difference": iv.estimate, "low": iv.low, "high": iv.high,
                     "seeds": int(g.n_seeds[0]), "runs": g.n_runs})
    return pd.DataFrame(rows, columns=["dataset", "difference", "low", "high", "seeds", "runs"]).sort_values("difference")


def variability_table(records: pd.DataFrame, *, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """C8 on the unit SPEC names: the standard deviation, IQR and MAD across the per-dataset improvements of
    default FT and CausalMixFT, their difference with its hierarchical interval, and a sentence on
    leaving one dataset out at a time."""
    runs = records[records["method"].isin(["finetune", "causalmix"])]
    if set(runs["method"]) != {"finetune", "causalmix"}:
        return pd.DataFrame(), "Default FT or CausalMixFT did not run: no variability comparison."
    g = grid(improvement_frame(runs), "improvement").take(["finetune", "causalmix"])
    values = per_dataset(g)
    rows = {}
    for spread, label in (("std", "standard deviation"), ("iqr", "interquartile range"), ("mad", "median absolute deviation")):
        stat = spread_difference(spread)
        one = {m: float(spread_difference(spread)(np.stack([values[:, i], np.zeros(len(values))], -1)[None])[0])
               for i, m in enumerate(("finetune", "causalmix"))}
        iv = hierarchical_bootstrap(g, stat, seed=seed)
        rows[label] = {"default FT": one["finetune"], "CausalMixFT": one["causalmix"],
                       "default FT − CausalMixFT [95 % interval]": iv.format(2)}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("spread across datasets")
    loo = {d: float(spread_difference("std")(np.delete(values, i, axis=0)[None])[0]) for i, d in enumerate(g.datasets)}
    full = float(spread_difference("std")(values[None])[0])
    flips = [d for d, v in loo.items() if np.sign(v) != np.sign(full)]
    low, high = min(loo, key=loo.get), max(loo, key=loo.get)
    text = (f"Leaving one dataset out at a time, the standard-deviation difference (default FT − CausalMixFT, "
            f"{full:+.2f} on all {len(values)}) ranges from {loo[low]:+.2f} (without {low}) to {loo[high]:+.2f} "
            f"(without {high}); " + (f"its sign flips without {', '.join(flips)}." if flips else "its sign never flips."))
    return table, text


def seed_restricted_table(records: pd.DataFrame, method: str = "tabebm", *, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """Every method restricted to the seeds ``method`` ran, on the splits all of them share: the pooled
    median improvement with its interval, the runs that equal the pre-trained model (improvement
    exactly 0: best step 0) and the average rank (pre-trained included) — ``method`` compared on equal
    footing. Empty when ``method`` did not run."""
    if method not in set(records["method"]):
        return pd.DataFrame(), f"{method_label(method)} did not run."
    seeds = sorted(records.loc[records["method"] == method, "seed"].unique())
    shared = on_shared_splits(records[records["seed"].isin(seeds)])
    frame = improvement_frame(shared)
    ranks = rank_test(with_pretrained(shared)).average_ranks
    rows = {}
    for m, part in frame.groupby("method"):
        g = grid(part, "improvement", columns=None)
        iv = hierarchical_bootstrap(g, median_of(0), seed=seed)
        rows[method_label(m)] = {"median improvement [95 % interval]": iv.format(2, "%"), "_median": iv.estimate,
                                 "runs at step 0 (improvement 0)": f"{(part['improvement'] == 0).mean():.0%}",
                                 "average rank": ranks.get(m, np.nan), "runs": len(part)}
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values("_median", ascending=False).drop(columns="_median")
    text = (f"{method_label(method)} ran on seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} only; "
            f"here every method is restricted to {'those seeds' if len(seeds) > 1 else 'that seed'} "
            f"({shared['dataset'].nunique()} datasets). Pre-trained has rank {ranks.get('pretrained', np.nan):.2f}.")
    return table.rename_axis("method"), text


POWER_SEEDS = 20  # a bigger study's seeds per dataset in the power table


def power_table(results: Sequence[ClaimResult], *, power: float = 0.8, alpha: float = 0.05,
                seeds: int = POWER_SEEDS) -> pd.DataFrame:
    """Per claim tested over datasets: how many datasets a signed-rank test needs for ``power`` at the
    observed spread — at the paper's effect (this study's seeds, ``seeds`` seeds, infinitely many) and at
    our estimate. The spread at S seeds is √(between + within / S) from the random-effects decomposition;
    the signed-rank test's efficiency 3/π is applied to the t-test's size. An equivalence claim needs its
    effect inside ±δ: its "effect" is the distance δ − |θ| to the margin, tested one-sided."""
    rows = {}
    for r in results:
        ev, c = r.evidence, r.claim
        if ev.components is None or c.kind == "research question" or ev.interval is None:
            continue
        between, within, s_now = ev.components
        sd = {s: math.sqrt(between + within / s) if s != math.inf else math.sqrt(between)
              for s in (s_now, seeds, math.inf)}

        def need(effect: float | None, s: float) -> float:
            if effect is None or math.isnan(effect):
                return float("nan")
            if c.kind == "equivalence":
                distance = EQUIVALENCE_MARGIN - abs(effect)
                return datasets_needed(distance, sd[s], alpha=alpha, power=power, alternative="larger") \
                    if distance > 0 else float("inf")
            return datasets_needed(effect, sd[s], alpha=alpha, power=power)

        total = between + within / s_now
        rows[c.label] = {
            "claim": c.claim, "verdict": r.verdict, "datasets": len(ev.values), "seeds": s_now,
            "SD across datasets": math.sqrt(total), "seed share of variance": (within / s_now) / total if total else np.nan,
            "between-dataset SD": math.sqrt(between),
            "paper's effect": c.paper_value if c.paper_value is not None else np.nan,
            "datasets needed: paper's effect": need(c.paper_value, s_now),
            f"datasets needed: paper's effect, {seeds} seeds": need(c.paper_value, seeds),
            "datasets needed: paper's effect, ∞ seeds": need(c.paper_value, math.inf),
            "datasets needed: our estimate": need(ev.interval.estimate, s_now),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("claim id")


POWER_NOTE = (
    "**Power.** Datasets a two-sided Wilcoxon signed-rank test over datasets at α = 0.05 needs for 80 % power "
    "(equivalence claims: one-sided against the margin), for a true effect equal to the paper's value and to our "
    "estimate, at the spread across datasets this study observed; more seeds only shrink the seed part of that "
    "spread (the ∞-seeds column is the floor set by real differences between datasets). The sizes treat the "
    "median as the mean of a normal spread (t-test size ÷ 3/π): a guide, not a guarantee. The rank (C4) and "
    "variability (C8) claims are not over per-dataset values and have no row. 'inf': no number of datasets "
    "settles it (the effect is zero, or outside the equivalence margin). Where the seed share is 100 %, the "
    "decomposition finds no variance between datasets beyond seed noise, and with infinitely many seeds the "
    "smallest study the signed-rank test allows (6 datasets) would do."
)


def summary_paragraph(results: Sequence[ClaimResult], records: pd.DataFrame, *,
                      config: str | Mapping[str, Any] | None = None) -> str:
    """The landing page's first paragraph, written from the verdicts: the model, the scale, what held
    (and whether only in direction), what was contradicted, what this study cannot tell."""
    main = ok_runs(records if config is None else in_sweep(records, config))
    claims = [r for r in results if r.claim.kind != "research question"]
    models = ", ".join(sorted(set(main["model"].dropna()))) or "an unknown model"
    sizes = ", ".join(str(int(n)) for n in sorted(main["n_train"].unique()))

    def names(verdict: str) -> str:
        picked = [f"{r.claim.label} — {r.claim.claim.removesuffix(' (the headline claim)')}" for r in claims
                  if r.verdict == verdict]
        return "; ".join(picked) if picked else "none"

    survived = [r.claim.label for r in claims if r.survives == "yes"]
    head = next((r for r in claims if r.claim.key == "causalmix_vs_finetune"), None)
    tuned = main[main["method"] != "pretrained"]
    text = (f"**What was tested.** {len(tuned):,} fine-tuning runs of {tuned['method'].nunique()} methods among the ok "
            f"grid runs (the others: the pre-trained reference and any domain-shift runs) "
            f"with **{models}** — the project's own small prior-fitted model of the TabPFN v2 architecture, trained to "
            f"run on CPU, **not the TabPFN v2 weights the paper used** — on {main['dataset'].nunique()} datasets "
            f"(n_train {sizes}; {main['seed'].nunique()} seeds); the paper used {PAPER_RESULTS['n_datasets']} datasets "
            f"and TabPFN v2. Of the paper's {len(claims)} claims checked here: " + ", ".join(
                f"{n} {v}" for v, n in verdict_counts(claims).items() if n) + ".\n\n"
            f"**Held in size and direction:** {names('supported')}. **Held in direction only** (the paper's value lies "
            f"outside our interval): {names('direction only')}. **Contradicted:** {names('contradicted')}. "
            f"**This study cannot tell:** {names('inconclusive')}. **Not run:** {names('not run')}. "
            f"After Holm's correction over every test of the board, "
            + (f"the verdicts of {', '.join(survived)} survive." if survived else "no verdict's test survives."))
    if head is not None and head.interval is not None:
        iv, ev = head.interval, head.evidence
        text += (f"\n\n**The headline claim** (C3, CausalMixFT improves more than default fine-tuning): median paired "
                 f"difference {iv.format(2, ' pp')}, CausalMixFT ahead on {ev.wins} of {len(ev.values)} datasets "
                 f"(Holm-adjusted signed-rank p {head.p_zero_holm:.2g}) — **{head.verdict}**.")
    return text

