"""Expected bands: intervals from counts, and baselines learned from a metric's own history.

Pure numpy/scipy. References: Wilson (1927) for proportions; Hanley & McNeil (1982) for the
standard error of ROC AUC; the median absolute deviation (Hampel 1974) for robust bands,
as NannyML, Arize and Fiddler learn thresholds from history or reference chunks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from monitoring.engine.stats.quality import MAD_TO_SD

Z95 = 1.959963984540054
# How far a window's value may sit from what no change would give before it is a finding: 3
# standard errors, as NannyML's thresholds (one-sided 0.13% a window). A monitor judges 24 hourly
# windows a day per metric, and 95% bands (2.5% a window) raised a false alarm most days.
Z_WINDOW = 3.0
# Band half-width in robust standard deviations (MAD * 1.4826): 4 keeps a normal series'
# false-alarm rate per window under 1 in 10,000 while a real step stands out.
K_MAD = 4.0
MIN_HISTORY = 7  # windows of history before a learned band exists
MIN_PHASE_HISTORY = 3  # same weekday (or hour of day) windows before a seasonal band exists


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion; None without trials. Unlike the normal
    approximation it stays inside [0, 1] and keeps its coverage near 0 and 1 and for small n."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def auc_interval(auc: float, n_pos: int, n_neg: int, z: float = Z95) -> tuple[float, float] | None:
    """ROC AUC +- z standard errors (Hanley & McNeil 1982); None without both classes."""
    if n_pos <= 0 or n_neg <= 0:
        return None
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    half = z * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def mean_interval(mean: float, sd: float, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Normal interval of a mean (MAE: the mean absolute error) from its spread; None if n < 2."""
    if n < 2:
        return None
    half = z * sd / math.sqrt(n)
    return mean - half, mean + half


def robust_band(history: Sequence[float], *, k: float = K_MAD, floor: float = 0.0) -> tuple[float, float, float] | None:
    """(median, low, high): median +- k * 1.4826 * MAD of ``history`` (NaNs dropped), the
    half-width at least ``floor``; None with fewer than MIN_HISTORY values."""
    h = np.asarray([v for v in history if v is not None], dtype=np.float64)
    h = h[np.isfinite(h)]
    if h.size < MIN_HISTORY:
        return None
    median = float(np.median(h))
    half = max(k * MAD_TO_SD * float(np.median(np.abs(h - median))), floor)
    return median, median - half, median + half


def _median(values: list[float]) -> float:
    """np.median's value (the mean of the two middle values for an even count), without numpy's
    overhead: bands are drawn from a handful of windows, a hundred times per window judged."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def seasonal_band(
    history: Sequence[tuple[datetime, float]], moment: datetime, granularity: str, *, k: float = K_MAD, floor: float = 0.0
) -> tuple[float, float, float, str] | None:
    """(median, low, high, basis) of the window's learned band, or None without enough history.
    A phase history of 3-6 values is enough here: the phases' own rhythm is what it removes."""
    weekday, hour = moment.weekday(), moment.hour
    same = [v for t, v in history if t.weekday() == weekday and (granularity == "day" or t.hour == hour)]
    return phase_band(same, lambda: [v for t, v in history if t.hour == hour], lambda: [v for _, v in history],
                      granularity, k=k, floor=floor)


def phase_band(
    same: Sequence[float | None], same_hour: Callable[[], Sequence[float | None]],
    every: Callable[[], Sequence[float | None]], granularity: str, *, k: float = K_MAD, floor: float = 0.0,
) -> tuple[float, float, float, str] | None:
    """seasonal_band from a history already split by phase: ``same`` the values of the window's
    phase (weekday for days, weekday-hour for hours), ``same_hour`` and ``every`` called only when
    the phase has too few (a caller judging a hundred series of one window splits the windows once,
    not once per series).

    The band is drawn from the same phase when it has enough values; else, for hours, from the
    same hour of day; else from every window. A series with a weekly or daily rhythm is thus
    compared with its own phase and never alarms on its rhythm."""
    if len(same) >= MIN_PHASE_HISTORY:
        values, basis = same, "same weekday" if granularity == "day" else "same weekday and hour"
    elif granularity == "hour" and len(hours := same_hour()) >= MIN_PHASE_HISTORY:
        values, basis = hours, "same hour of day"
    else:
        values, basis = every(), "all windows"
    h = [x for v in values if v is not None and math.isfinite(x := float(v))]
    need = MIN_PHASE_HISTORY if basis != "all windows" else MIN_HISTORY
    if len(h) < need:
        return None
    median = _median(h)
    half = max(k * MAD_TO_SD * _median([abs(x - median) for x in h]), floor)
    low, high = median - half, median + half
    if basis in ("all windows", "same hour of day"):
        # Too few windows of this phase for their own band, but the ones seen count: a
        # weekend that looked like the previous weekend is not an anomaly.
        seen = [v for v in same if v is not None and np.isfinite(v)]
        if seen:
            low, high = min(low, 0.75 * min(seen)), max(high, 1.25 * max(seen))
    return median, low, high, basis


def label_delay(ages_days: Sequence[float], coverages: Sequence[float], *, share: float = 0.9) -> tuple[float, float] | None:
    """(delay in days, mature coverage) learned from windows' label coverage by age.

    The mature coverage is the median coverage of the oldest third of the windows; the delay
    is the smallest age from which every older window reached ``share`` of it. None with
    fewer than 3 windows or no labels at all.
    """
    pairs = sorted(((a, c or 0.0) for a, c in zip(ages_days, coverages, strict=True)), key=lambda p: p[0])
    if len(pairs) < 3:
        return None
    oldest = [c for _, c in pairs[-max(1, len(pairs) // 3):]]
    mature = float(np.median(oldest))
    if mature <= 0:
        return None
    delay = pairs[-1][0]
    for age, cov in reversed(pairs):
        if cov < share * mature:
            break
        delay = age
    return float(delay), mature
