"""Verdicts, the tests behind them, Holm's correction and power: SPEC's "Claims and verdicts".

An *effect* claim has a paper value ``p ≠ 0``; its verdict compares our 95 % interval with both 0 and
``p`` (:func:`effect_verdict`). An *equivalence* claim ("does not improve") compares the interval with
±δ (:func:`equivalence_verdict`). A claim the paper states without a number (a direction only) can be
supported or contradicted by the side of 0 the interval lies on (:func:`direction_verdict`).

>>> effect_verdict(Interval(0.3, 0.1, 0.5), 0.2), effect_verdict(Interval(0.3, 0.25, 0.5), 0.2)
('supported', 'direction only')
>>> effect_verdict(Interval(-0.1, -0.2, 0.1), 0.37), effect_verdict(Interval(0.1, -0.1, 0.4), 0.2)
('contradicted', 'inconclusive')
>>> equivalence_verdict(Interval(0.0, -0.05, 0.08), 0.1), equivalence_verdict(Interval(0.3, 0.15, 0.4), 0.1)
('supported', 'contradicted')
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

from causalmix.report.stats import Interval, holm  # noqa: F401  (Holm lives beside the paired tests)

Verdict = Literal["supported", "direction only", "contradicted", "inconclusive", "not run", "effect size"]

VERDICTS: dict[str, str] = {
    "supported": "the 95 % interval lies on the paper's side of 0 and contains the paper's value (an equivalence "
                 "claim: the interval lies inside ±δ; a claim without a number: the interval lies on its side of 0)",
    "direction only": "the interval lies on the paper's side of 0 but excludes the paper's value: the sign holds, "
                      "the size does not",
    "contradicted": "the interval excludes the paper's value and does not lie on its side of 0 (an equivalence "
                    "claim: the interval lies entirely outside ±δ; a claim without a number: the interval lies on "
                    "the other side of 0)",
    "inconclusive": "the interval contains both 0 and the paper's value (an equivalence claim: it straddles ±δ): "
                    "this study cannot tell",
    "not run": "the method or the data is missing",
    "effect size": "a research question of this project, not a claim of the paper: answered with an effect size "
                   "and its interval, no verdict",
}


def _interval_ok(interval: Interval | None) -> bool:
    return interval is not None and not math.isnan(interval.estimate)


def effect_verdict(interval: Interval | None, paper: float) -> Verdict:
    """SPEC's verdict of an effect claim with paper value ``paper`` (≠ 0)."""
    if not _interval_ok(interval):
        return "not run"
    low, high = interval.low, interval.high
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    side = math.copysign(1.0, paper)
    on_side = side * low > 0 and side * high > 0
    contains = low <= paper <= high
    if on_side:
        return "supported" if contains else "direction only"
    return "inconclusive" if contains else "contradicted"


def direction_verdict(interval: Interval | None, side: Literal[">", "<"] = ">") -> Verdict:
    """A claim the paper states without a number: supported when the interval lies on ``side`` of 0,
    contradicted when it lies on the other side, inconclusive when it contains 0.

    >>> direction_verdict(Interval(1, 0.5, 2)), direction_verdict(Interval(-1, -2, -0.5)), direction_verdict(None)
    ('supported', 'contradicted', 'not run')
    """
    if not _interval_ok(interval):
        return "not run"
    if math.isnan(interval.low) or math.isnan(interval.high):
        return "inconclusive"
    sign = 1 if side == ">" else -1
    if sign * interval.low > 0 and sign * interval.high > 0:
        return "supported"
    if sign * interval.low < 0 and sign * interval.high < 0:
        return "contradicted"
    return "inconclusive"


def equivalence_verdict(interval: Interval | None, margin: float) -> Verdict:
    """SPEC's verdict of a "does not improve" claim: supported inside ±``margin``, contradicted when the
    interval lies entirely outside it, inconclusive otherwise."""
    if not _interval_ok(interval):
        return "not run"
    low, high = interval.low, interval.high
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if -margin < low and high < margin:
        return "supported"
    if low > margin or high < -margin:
        return "contradicted"
    return "inconclusive"


# --- tests -------------------------------------------------------------------------------------


def signed_rank(values: Sequence[float], against: float = 0.0, alternative: str = "two-sided") -> float:
    """Wilcoxon signed-rank p-value of ``values`` (one per dataset) against ``against``
    (:func:`scipy.stats.wilcoxon`; zeros split between the signs); NaN with fewer than 2 values or
    all of them equal to ``against``.

    >>> round(signed_rank([1.0, 2.0, 3.0, 4.0, 5.0]), 4), round(signed_rank([1.0, 2.0, 3.0], 10, "less"), 3)
    (0.0625, 0.125)
    """
    x = np.asarray(values, float)
    x = x[np.isfinite(x)] - against
    if len(x) < 2 or not np.any(x != 0):
        return float("nan")
    return float(stats.wilcoxon(x, zero_method="zsplit", alternative=alternative).pvalue)


def tost(values: Sequence[float], margin: float) -> tuple[float, float]:
    """Two one-sided signed-rank tests of equivalence within ±``margin``: ``(p equivalence, p outside)``.
    The first is the larger of the tests "above −margin" and "below +margin" (small = inside the
    margin); the second is the one-sided test that the effect lies beyond the margin on the side of
    the values' median (small = outside the margin).

    >>> [round(p, 4) for p in tost([0.01, -0.02, 0.0, 0.02, -0.01, 0.01], 0.1)]
    [0.0156, 1.0]
    """
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return float("nan"), float("nan")
    inside = max(signed_rank(x, -margin, "greater"), signed_rank(x, margin, "less"))
    outside = (signed_rank(x, margin, "greater") if np.median(x) >= 0 else signed_rank(x, -margin, "less"))
    return inside, outside


def spread_test(a: Sequence[float], b: Sequence[float]) -> float:
    """Pitman–Morgan test of equal variances of paired samples (the correlation of ``a + b`` with
    ``a − b`` is ``var a − var b`` scaled); NaN with fewer than 3 complete pairs.

    >>> rng = np.random.default_rng(0); a = rng.normal(0, 3, 40)
    >>> spread_test(a, a / 3 + rng.normal(0, 0.1, 40)) < 0.001
    True
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if len(a) < 3 or np.std(a + b) == 0 or np.std(a - b) == 0:
        return float("nan")
    return float(stats.pearsonr(a + b, a - b).pvalue)


# --- power -------------------------------------------------------------------------------------

WILCOXON_ARE = 3 / math.pi  # asymptotic relative efficiency of the signed-rank test to the t-test (normal data)


def datasets_needed(effect: float, sd: float, *, alpha: float = 0.05, power: float = 0.8,
                    alternative: str = "two-sided") -> float:
    """Datasets for ``power`` of a signed-rank test over datasets of a true mean per-dataset effect
    ``effect`` with per-dataset standard deviation ``sd``: the one-sample t-test's sample size
    (:class:`statsmodels.stats.power.TTestPower`) divided by the signed-rank test's efficiency 3/π,
    and never fewer than the signed-rank test needs to reach ``alpha`` at all (6 two-sided, 5
    one-sided at 0.05); ``inf`` for no effect, NaN for a NaN effect or spread.

    >>> datasets_needed(0.5, 1.0), datasets_needed(0.5, 0.0), datasets_needed(0.0, 1.0), datasets_needed(0.5, 1e-17)
    (35, 6, inf, 6)
    """
    if math.isnan(effect) or math.isnan(sd):
        return float("nan")
    if effect == 0:
        return float("inf")
    two = alternative == "two-sided"
    floor = next(n for n in range(2, 64) if (2 if two else 1) / 2 ** n < alpha)
    if sd <= 0:
        return floor
    from statsmodels.stats.power import TTestPower
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    size = abs(effect) / sd
    with warnings.catch_warnings():  # no root is handled below, not printed on a page
        warnings.simplefilter("ignore", ConvergenceWarning)
        n = float(TTestPower().solve_power(effect_size=size, alpha=alpha, power=power, alternative=alternative))
    if not math.isfinite(n):  # the solver finds no root when the effect dwarfs the spread (e.g. one dataset)
        return floor if size > 1 else float("nan")
    return max(floor, int(math.ceil(n / WILCOXON_ARE)))
