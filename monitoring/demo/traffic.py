"""Shared traffic shapes: when requests arrive, who sends them, and when labels come back."""

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
# Relative traffic per UTC hour: quiet nights, a morning ramp, a lunch dip, an evening peak.
HOURLY = np.array(
    [0.2, 0.15, 0.1, 0.1, 0.12, 0.2, 0.4, 0.7, 1.0, 1.1, 1.15, 1.1,
     0.95, 1.05, 1.1, 1.05, 1.0, 1.05, 1.2, 1.25, 1.1, 0.8, 0.5, 0.3]
)  # fmt: skip
WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 1.1, 0.7, 0.6])  # Monday .. Sunday


def arrival_times(rng: np.random.Generator, *, start: pd.Timestamp, days: int, per_day: float) -> pd.Series:
    """About ``per_day * days`` sorted UTC timestamps in [start, start + days) with a daily/weekly rhythm.

    Candidates are drawn uniformly and thinned by the hour and weekday weights (rejection
    sampling), which keeps it vectorised and exact about the rhythm.
    """
    expected = per_day * days
    weight_max = HOURLY.max() * WEEKDAY.max()
    mean_weight = HOURLY.mean() * WEEKDAY.mean()
    candidates = int(expected * weight_max / mean_weight) + 10
    offsets = rng.uniform(0, days * 86400, size=candidates)
    times = start + pd.to_timedelta(offsets, unit="s")
    weight = HOURLY[times.hour] * WEEKDAY[times.dayofweek]
    keep = rng.uniform(0, weight_max, size=candidates) < weight
    kept = np.sort(offsets[keep])
    return pd.Series(start + pd.to_timedelta(kept, unit="s"), name="timestamp").dt.floor("ms")


def day_index(times: pd.Series, start: pd.Timestamp) -> np.ndarray:
    """0 for the first day of the scenario, 1 for the next, ..."""
    return ((times - start) // DAY).to_numpy().astype(int)


def customers(rng: np.random.Generator, n: int, *, pool: int, prefix: str, width: int = 5) -> np.ndarray:
    """Ids drawn from a pool of ``pool`` people, so customers come back (n / pool visits each on average)."""
    ids = rng.integers(0, pool, size=n)
    return np.char.add(prefix, np.char.zfill(ids.astype(str), width)).astype(object)


def categorical(rng: np.random.Generator, values: list[str], probs: list[float], n: int) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), size=n, p=probs)


def hour_arrivals(rng: np.random.Generator, *, hour: pd.Timestamp, per_day: float) -> pd.Series:
    """The sorted UTC timestamps of one hour's requests, with the rhythm of ``arrival_times``.

    A Poisson count at the hour's rate (``per_day`` averaged over the week), spread uniformly:
    ``arrival_times`` draws a few spare candidates, which over a single hour would add requests.
    """
    rate = per_day / 24 * HOURLY[hour.hour] * WEEKDAY[hour.dayofweek] / (HOURLY.mean() * WEEKDAY.mean())
    offsets = np.sort(rng.uniform(0, 3600, size=rng.poisson(rate)))
    return pd.Series(hour + pd.to_timedelta(offsets, unit="s"), name="timestamp").dt.floor("ms")
