"""A window's history split once by phase gives every series the band seasonal_band gives it from
the whole history (no database): the split is only a faster way to the same numbers."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitoring.engine.stats.baselines import seasonal_band
from monitoring.health import WindowStats
from monitoring.health.windows import MIN_ROWS, _history, _Phases

START = datetime(2026, 9, 7, tzinfo=UTC)


def _history_windows(rng, granularity: str, n: int) -> list[WindowStats]:
    step = timedelta(days=1) if granularity == "day" else timedelta(hours=1)
    out = []
    for i in range(n):
        if rng.random() < 0.2:  # gaps: empty windows are never stored
            continue
        psi = {"a": float(rng.gamma(2, 0.01)), "b": float("nan") if rng.random() < 0.1 else float(rng.random())}
        if rng.random() < 0.2:
            del psi["a"]
        out.append(WindowStats(start=START + i * step, granularity=granularity,
                               rows=int(rng.choice([0, 20, MIN_ROWS, 400, 1500])), psi=psi))
    return out


@pytest.mark.parametrize("granularity,lengths", [("hour", (0, 5, 30, 80, 192, 600)), ("day", (0, 4, 9, 28, 40))])
def test_the_split_history_gives_the_same_band_as_the_whole_history(granularity, lengths):
    rng = np.random.default_rng(5)
    step = timedelta(days=1) if granularity == "day" else timedelta(hours=1)
    picks = [(lambda h: h.psi.get("a"), MIN_ROWS), (lambda h: h.psi.get("b"), MIN_ROWS), (lambda h: float(h.rows), 0)]
    compared, bases = 0, set()
    for n in lengths:
        for _ in range(15):
            history = _history_windows(rng, granularity, n)
            w = WindowStats(start=START + (n + int(rng.integers(0, 30))) * step, granularity=granularity, rows=500)
            phases = _Phases(w, history)
            for pick, min_rows in picks:
                expected = seasonal_band(_history(history, pick, min_rows), w.start, granularity)
                assert phases.band(pick, min_rows) == expected
                compared += 1
                bases.add(expected[3] if expected else None)
    # Every basis (same phase, same hour of day, all windows) and the no-band case were exercised.
    assert compared > 200
    assert bases == ({None, "same weekday and hour", "same hour of day", "all windows"} if granularity == "hour"
                     else {None, "same weekday", "all windows"})
