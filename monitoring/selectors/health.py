"""A version's health verdict and its per-window conditions, from stored analysis results only.

The verdict itself is pure (monitoring.health); this module reads what it needs: the
windows' payloads (one query), the reference performance (the cached profile) and the
version's schema (time-derived features).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import orjson
from django.db import connection
from django.utils import timezone

from monitoring.engine.perf_report import reference_counts, reference_performance
from monitoring.engine.stats.baselines import label_delay
from monitoring.health import Context, Health, WindowCondition, WindowStats, conditions, verdict, window_stats
from monitoring.health.windows import STEP, missing_windows
from monitoring.models import ModelVersion
from monitoring.selectors.profile import profile_load

# Trailing history a window's learned band is drawn from: four weeks of days (four of each
# weekday), eight days of hours (eight of each hour of day).
HISTORY = {"day": timedelta(days=28), "hour": timedelta(days=8)}
# Days of windows the verdict walks back through to say since when a finding holds.
VERDICT_DAYS = 14

KEYS_SQL = """
SELECT id, computed_at, window_start FROM monitoring_analysis_result
 WHERE version_id = %s AND granularity = %s AND segment = %s AND window_start >= %s AND window_start < %s
 ORDER BY window_start
"""
PAYLOADS_SQL = "SELECT id, payload::text FROM monitoring_analysis_result WHERE id = ANY(%s)"

# Parsed windows per process, keyed by (result id, computed_at), as the dashboards' rows: a
# result is rewritten only with a new computed_at, so a cached entry is never stale.
_CACHE: OrderedDict[tuple, WindowStats] = OrderedDict()
_CACHE_MAX = 100_000
_LOCK = threading.Lock()


def stored_windows(
    *, version: ModelVersion, granularity: str, start: datetime, end: datetime, segment: str = ""
) -> list[WindowStats]:
    """Stored windows starting in [start, end), oldest first. Two queries at most."""
    with connection.cursor() as cur:
        cur.execute(KEYS_SQL, [version.pk, granularity, segment, start, end])
        keys = cur.fetchall()
        with _LOCK:
            found = {(k[0], k[1]): _CACHE.get((k[0], k[1])) for k in keys}
        missing = {k[0]: k for k in keys if found[(k[0], k[1])] is None}
        if missing:
            cur.execute(PAYLOADS_SQL, [list(missing)])
            for result_id, text in cur.fetchall():
                rid, changed, ws = missing[result_id]
                found[(rid, changed)] = window_stats(ws, granularity, orjson.loads(text))
    with _LOCK:
        for key, value in found.items():
            _CACHE[key] = value
            _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return [found[(k[0], k[1])] for k in keys]


def _context(version: ModelVersion, now: datetime, days: list[WindowStats]) -> Context:
    profile = profile_load(version=version)
    reference, counts = {}, {}
    if profile is not None:
        reference = {k: v for k, v in reference_performance(layout=profile.layout, profile_arrays=profile.arrays).items()
                     if isinstance(v, int | float)}
        counts = reference_counts(profile_arrays=profile.arrays)
    learned = label_delay(
        [(now - w.end).total_seconds() / 86400 for w in days if w.rows],
        [w.coverage or 0.0 for w in days if w.rows],
    )
    health = (version.model.settings or {}).get("health") or {}
    return Context(
        task=version.model.task,
        now=now,
        reference=reference,
        reference_counts=counts,
        time_derived=frozenset(f["name"] for f in version.features or [] if f.get("time_derived")),
        label_delay=learned[0] if learned else None,
        mature_coverage=learned[1] if learned else None,
        quality_rate=float(health.get("quality_rate", Context.quality_rate)),
    )


def _judge(windows: list[WindowStats], first: datetime, ctx: Context, granularity: str) -> list[tuple]:
    """(window, its conditions) for the windows starting at or after ``first``; each is
    compared with the windows in its trailing history."""
    out = []
    span = HISTORY[granularity]
    lo = 0
    for i, w in enumerate(windows):
        while windows[lo].start < w.start - span:
            lo += 1
        if w.start >= first:
            out.append((w, conditions(w, windows[lo:i], ctx)))
    return out


def _quality_peaks(version: ModelVersion, judged: list[tuple], now: datetime) -> None:
    """Spike summaries read the finest granularity: a daily quality breach names the peak hour."""
    closed = [(w, c) for w, c in judged if w.end <= now]
    if not closed:
        return
    w, conds = closed[-1]
    hits = [c for c in conds if c.kind == "quality" and c.breached]
    if not hits:
        return
    hours = stored_windows(version=version, granularity="hour", start=w.start, end=w.end)
    for c in hits:
        peak = max(((h.quality.get(c.features[0]) or {}).get(c.metric) or 0.0, h.start) for h in hours) if hours else None
        if peak and peak[0] > (c.value or 0):
            c.detail["peak"] = f", peaking at {100 * peak[0]:.0f}% at {peak[1]:%H}:00"


def version_health(*, version: ModelVersion, now: datetime | None = None) -> Health:
    """The version's verdict now: findings from its daily windows."""
    now = now or timezone.now()
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=VERDICT_DAYS)
    days = stored_windows(version=version, granularity="day", start=first - HISTORY["day"], end=today + STEP["day"])
    if not days:
        return verdict(windows=[], ctx=Context(task=version.model.task, now=now))
    ctx = _context(version, now, days)
    judged = _judge(days, first, ctx, "day")
    # A closed day with no rows at all where history expects some.
    newest_closed = today - STEP["day"]
    gap = missing_windows([w for w, _ in judged], days, newest_closed, today, "day", ctx)
    if gap:
        judged.append((WindowStats(start=newest_closed, granularity="day"), gap))
    _quality_peaks(version, judged, now)
    return verdict(windows=judged, ctx=ctx)


def window_conditions(
    *, version: ModelVersion, granularity: str, start: datetime, end: datetime, segment: str = "",
    now: datetime | None = None,
) -> list[WindowCondition]:
    """Every condition of the version's windows starting in [start, end): one per (window,
    kind, feature or none), judged against learned bands and the reference."""
    now = now or timezone.now()
    windows = stored_windows(version=version, granularity=granularity, start=start - HISTORY[granularity], end=end,
                             segment=segment)
    days = windows if granularity == "day" else stored_windows(
        version=version, granularity="day", start=now - HISTORY["day"] - timedelta(days=VERDICT_DAYS), end=now,
        segment=segment)
    ctx = _context(version, now, days)
    out = [c for _, conds in _judge(windows, start, ctx, granularity) for c in conds] if windows else []
    out += missing_windows([w for w in windows if w.start >= start], windows, start, end, granularity, ctx)
    return out
