"""A statistic with its bootstrap interval, as every table of the report prints it.

>>> print(Interval(0.0123, 0.004, 0.021))
+0.01 [+0.00, +0.02]
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["Interval"]


@dataclasses.dataclass(frozen=True)
class Interval:
    """A statistic with its percentile bootstrap interval."""

    estimate: float
    low: float
    high: float
    level: float = 0.95
    n_clusters: int = 0  # what was resampled: datasets (or seeds, on one dataset)

    def __str__(self) -> str:
        return self.format()

    def format(self, digits: int = 2, unit: str = "") -> str:
        """``+1.23% [+0.40, +2.10]``; the estimate alone, marked, when there is no interval."""
        if math.isnan(self.estimate):
            return "–"
        # an interval entirely below the last digit keeps two significant digits; a value that rounds to zero
        # reads "+0.000", never "-0.000"
        scale = max(abs(v) for v in (self.estimate, self.low, self.high) if not math.isnan(v))
        if 0 < scale < 10 ** -digits:
            digits = min(8, -math.floor(math.log10(scale)) + 1)

        def fmt(v: float) -> str:
            return f"{0.0 if round(v, digits) == 0 else v:+.{digits}f}"

        if math.isnan(self.low) or math.isnan(self.high):
            return f"{fmt(self.estimate)}{unit} (no interval: only {self.n_clusters} to resample)"
        return f"{fmt(self.estimate)}{unit} [{fmt(self.low)}, {fmt(self.high)}]"
