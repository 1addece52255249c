"""Percentiles, summaries and Jain's fairness index."""

from __future__ import annotations

import math
import statistics
from typing import Dict, List, Sequence


def pct(xs: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of xs (sorted or not); 0 for no data."""
    if not xs:
        return 0.0
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def summary(xs: List[float]) -> Dict[str, float]:
    return {"n": len(xs), "p50_us": pct(xs, 50) * 1e6, "p99_us": pct(xs, 99) * 1e6,
            "mean_us": statistics.fmean(xs) * 1e6 if xs else 0.0}


def jain(counts: Sequence[float]) -> float:
    """(sum x)^2 / (n * sum x^2): 1 when every worker did the same, 1/n when one did all."""
    sq = sum(c * c for c in counts)
    return (sum(counts) ** 2) / (len(counts) * sq) if sq else 0.0
