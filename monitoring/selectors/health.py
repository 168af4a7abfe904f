"""Health verdicts and per-window conditions, from stored analysis results only.

The verdict itself is pure (monitoring.health); this module reads what it needs: the
windows' payloads (which carry the reference's metrics) and the version's schema. A fixed
number of queries whatever the number of versions, windows or features.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from monitoring.engine.stats.baselines import label_delay
from monitoring.health import (
    Context,
    Finding,
    Health,
    WindowCondition,
    WindowStats,
    conditions,
    verdict,
    window_stats,
)
from monitoring.health.windows import STEP, data_present, missing_windows
from monitoring.models import ModelVersion

# Trailing history a window's learned band is drawn from: four weeks of days (four of each
# weekday), eight days of hours (eight of each hour of day).
HISTORY = {"day": timedelta(days=28), "hour": timedelta(days=8)}
# Days of windows the verdict walks back through to say since when a finding holds.
VERDICT_DAYS = 14
SPIKE_MIN_ROWS = 30  # an hour needs this many rows before its rate can be "the peak"

# One query whatever is cached: payloads come back only for results not parsed before (the
# cached (id, computed_at) pairs of these versions are passed in), so the number of queries
# never depends on what an earlier request happened to parse.
# A row the process has parsed, unchanged since (computed_at not past the newest this process saw
# of the version and granularity: the analysis sets it strictly increasing per version), comes
# without its payload. The cached ids and one mark per (version, granularity) are the parameters:
# the (id, computed_at) pairs were, and adapting hundreds of timestamps cost more than the query.
WINDOWS_SQL = """
SELECT r.id, r.computed_at, r.version_id, r.window_start, r.granularity,
       CASE WHEN r.computed_at <= mark.at AND r.id = ANY(%s::bigint[]) THEN NULL ELSE r.payload::text END
  FROM monitoring_analysis_result r
  JOIN unnest(%s::text[], %s::timestamptz[], %s::timestamptz[]) AS span(granularity, lo, hi)
    ON span.granularity = r.granularity
  LEFT JOIN unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS mark(version_id, granularity, at)
    ON mark.version_id = r.version_id AND mark.granularity = r.granularity
 WHERE r.version_id = ANY(%s) AND r.segment = %s AND r.window_start >= span.lo AND r.window_start < span.hi
 ORDER BY r.version_id, r.window_start
"""

# Findings judged outside monitoring (staleness, by the model lifecycle): apps built on monitoring
# register the dotted path of a provider from their AppConfig.ready(), as page sections do, so
# monitoring never imports them. A provider is ``(*, versions, now) -> {version id: [Finding]}``,
# called once per verdict for every version (a fixed number of queries, whatever their number).
_FINDING_PROVIDERS: list[str] = []


def finding_provider_register(path: str) -> None:
    if path not in _FINDING_PROVIDERS:
        _FINDING_PROVIDERS.append(path)


def _extra_findings(versions: Sequence[ModelVersion], now: datetime) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {v.pk: [] for v in versions}
    for path in _FINDING_PROVIDERS:
        for vid, found in import_string(path)(versions=versions, now=now).items():
            out[vid] += found
    return out


# Parsed windows per process, keyed by (result id, computed_at), as the dashboards' rows: a
# result is rewritten only with a new computed_at, so a cached entry is never stale.
_CACHE: OrderedDict[tuple, WindowStats] = OrderedDict()
_BY_VERSION: dict[tuple, dict[int, datetime]] = {}  # (version, granularity, segment) -> {id: computed_at}
_CACHE_MAX = 100_000
_LOCK = threading.Lock()


def stored_windows(
    *, version_ids: Sequence[int], granularity: str, start: datetime, end: datetime, segment: str = ""
) -> dict[int, list[WindowStats]]:
    """Stored windows starting in [start, end) per version, oldest first. One query."""
    return stored_spans(version_ids=version_ids, spans={granularity: (start, end)}, segment=segment)[granularity]


def stored_spans(
    *, version_ids: Sequence[int], spans: dict[str, tuple[datetime, datetime]], segment: str = ""
) -> dict[str, dict[int, list[WindowStats]]]:
    """stored_windows for several granularities at once ({granularity: (start, end)}), by
    granularity then version, oldest first. One query: an hourly evaluation reads its hours and the
    days its context comes from in one round trip."""
    out: dict[str, dict[int, list[WindowStats]]] = {g: {vid: [] for vid in version_ids} for g in spans}
    known: list[int] = []
    marks: list[tuple[int, str, datetime]] = []
    with _LOCK:
        for g in spans:
            for vid in version_ids:
                seen = _BY_VERSION.get((vid, g, segment))
                if seen:
                    known += seen
                    marks.append((vid, g, max(seen.values())))
    grains = list(spans)
    with connection.cursor() as cur:
        cur.execute(WINDOWS_SQL, [known, grains, [spans[g][0] for g in grains], [spans[g][1] for g in grains],
                                  [m[0] for m in marks], [m[1] for m in marks], [m[2] for m in marks],
                                  list(version_ids), segment])
        rows = cur.fetchall()
    mine: dict[int, WindowStats] = {}
    with _LOCK:
        for rid, changed, vid, ws, g, text in rows:
            stats = window_stats(ws, g, orjson.loads(text)) if text is not None else _CACHE.get((rid, changed))
            if stats is not None:
                mine[rid] = stats
                _CACHE[(rid, changed)] = stats
                _BY_VERSION.setdefault((vid, g, segment), {})[rid] = changed
        if len(_CACHE) > _CACHE_MAX:  # rare: start afresh rather than track evictions per version
            _CACHE.clear()
            _BY_VERSION.clear()
    # Dropped from the cache meanwhile, or re-analysed before a read of other windows raised the
    # mark past it (so it came without a payload and the cache holds an older one).
    lost = [row[0] for row in rows if row[0] not in mine]
    if lost:
        with connection.cursor() as cur:
            cur.execute("SELECT id, computed_at, version_id, window_start, granularity, payload::text"
                        " FROM monitoring_analysis_result WHERE id = ANY(%s)", [lost])
            fetched = cur.fetchall()
        with _LOCK:
            for rid, changed, vid, ws, g, text in fetched:
                mine[rid] = _CACHE[(rid, changed)] = window_stats(ws, g, orjson.loads(text))
                _BY_VERSION.setdefault((vid, g, segment), {})[rid] = changed
    for rid, _, vid, _, g, _ in rows:
        if rid in mine:
            out[g][vid].append(mine[rid])
    return out


def _context(version: ModelVersion, now: datetime, days: list[WindowStats]) -> Context:
    reference = next((w.reference for w in reversed(days) if w.reference), {})
    learned = label_delay(
        [(now - w.end).total_seconds() / 86400 for w in days if w.rows],
        [w.coverage or 0.0 for w in days if w.rows],
    )
    health = (version.model.settings or {}).get("health") or {}
    return Context(
        task=version.model.task,
        now=now,
        reference=reference,
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


def _quality_peaks(judged: dict[int, list[tuple]], now: datetime) -> None:
    """Spike summaries read the finest granularity: a daily quality breach names its peak hour.
    One query for every version with such a breach."""
    hits: dict[int, tuple[WindowStats, list[WindowCondition]]] = {}  # one query, only with a breach
    for vid, windows in judged.items():
        closed = [(w, c) for w, c in windows if w.end <= now]
        if closed:
            found = [c for c in closed[-1][1] if c.kind == "quality" and c.breached]
            if found:
                hits[vid] = (closed[-1][0], found)
    if not hits:
        return
    lo = min(w.start for w, _ in hits.values())
    hi = max(w.end for w, _ in hits.values())
    hours = stored_windows(version_ids=list(hits), granularity="hour", start=lo, end=hi)
    for vid, (day, found) in hits.items():
        # Hours with a handful of rows (one null in three) would make any peak: not counted.
        inside = [h for h in hours[vid] if day.start <= h.start < day.end and h.rows >= SPIKE_MIN_ROWS]
        for c in found:
            peak = max((((h.quality.get(c.features[0]) or {}).get(c.metric) or 0.0, h.start) for h in inside),
                       default=None)
            if peak and peak[0] > (c.value or 0):
                c.detail["peak"] = f", peaking at {100 * peak[0]:.0f}% at {peak[1]:%H}:00"


def _day_span(now: datetime) -> tuple[datetime, datetime, datetime]:
    """(first judged day, first history day, end) of the verdict's daily windows."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=VERDICT_DAYS)
    return first, first - HISTORY["day"], today + STEP["day"]


def _verdicts(versions: Sequence[ModelVersion], days: dict[int, list[WindowStats]], now: datetime) -> dict[int, Health]:
    first, _, end = _day_span(now)
    today = end - STEP["day"]
    judged: dict[int, list[tuple]] = {}
    contexts: dict[int, Context] = {}
    for version in versions:
        windows = [w for w in days[version.pk] if w.start < end]
        if not windows:
            continue
        ctx = contexts[version.pk] = _context(version, now, windows)
        judged[version.pk] = _judge(windows, first, ctx, "day")
        newest_closed = today - STEP["day"]
        gap = missing_windows([w for w, _ in judged[version.pk]], windows, newest_closed, today, "day", ctx)
        if gap:
            judged[version.pk].append((WindowStats(start=newest_closed, granularity="day"), gap))
    _quality_peaks(judged, now)
    extra = _extra_findings(versions, now)
    return {
        v.pk: verdict(windows=judged[v.pk], ctx=contexts[v.pk], extra=extra[v.pk]) if v.pk in judged
        else verdict(windows=[], ctx=Context(task=v.model.task, now=now), extra=extra[v.pk])
        for v in versions
    }


def versions_health(*, versions: Sequence[ModelVersion], now: datetime | None = None) -> dict[int, Health]:
    """Each version's verdict now, by version id, from its daily windows. Two queries."""
    now = now or timezone.now()
    _, lo, hi = _day_span(now)
    days = stored_windows(version_ids=[v.pk for v in versions], granularity="day", start=lo, end=hi)
    return _verdicts(versions, days, now)


def version_health(*, version: ModelVersion, now: datetime | None = None) -> Health:
    """The version's verdict now (what the health API returns)."""
    return versions_health(versions=[version], now=now)[version.pk]


def _conditions(version, windows, days, granularity, start, end, now) -> list[WindowCondition]:
    ctx = _context(version, now, [d for d in days if d.start < now])
    out = [c for _, conds in _judge(windows, start, ctx, granularity) for c in conds] if windows else []
    out += missing_windows([w for w in windows if w.start >= start], windows, start, end, granularity, ctx)
    out += data_present(windows, start, end, ctx)
    return out


def window_conditions(
    *, version: ModelVersion, granularity: str, start: datetime, end: datetime, segment: str = "",
    now: datetime | None = None,
) -> list[WindowCondition]:
    """Every condition of the version's windows starting in [start, end): one per (window,
    kind, feature or none), judged against learned bands and the reference."""
    return windows_conditions_many(requests=[(version, granularity, start, end)], now=now or timezone.now(),
                                   segment=segment)[0]


def windows_conditions_many(
    *, requests: Sequence[tuple[ModelVersion, str, datetime, datetime]], now: datetime, segment: str = "",
) -> list[list[WindowCondition]]:
    """window_conditions for several (version, granularity, start, end) at once, in order: one read
    of the stored windows for them all (the alerts evaluation of every version a compaction cycle
    analysed), each then judged exactly as window_conditions judges it."""
    if not requests:
        return []
    spans: dict[str, tuple[datetime, datetime]] = {}

    def cover(g: str, lo: datetime, hi: datetime) -> None:
        spans[g] = (min(lo, spans[g][0]), max(hi, spans[g][1])) if g in spans else (lo, hi)

    context = (now - HISTORY["day"] - timedelta(days=VERDICT_DAYS), now)
    for _, g, start, end in requests:
        cover(g, start - HISTORY[g], end)
        if g != "day":
            cover("day", *context)
    read = stored_spans(version_ids=sorted({v.pk for v, *_ in requests}), spans=spans, segment=segment)
    out = []
    for version, g, start, end in requests:
        lo = start - HISTORY[g]
        windows = [w for w in read[g][version.pk] if lo <= w.start < end]
        days = windows if g == "day" else [d for d in read["day"][version.pk] if context[0] <= d.start < context[1]]
        out.append(_conditions(version, windows, days, g, start, end, now))
    return out


def health_and_conditions(
    *, version: ModelVersion, granularity: str, start: datetime, end: datetime, segment: str = "",
    now: datetime | None = None,
) -> tuple[Health, list[WindowCondition]]:
    """The verdict now and the conditions of a page's windows, sharing one read of the daily
    windows (a page shows both): three queries for hourly pages, two for daily ones."""
    now = now or timezone.now()
    if segment:
        return version_health(version=version, now=now), window_conditions(
            version=version, granularity=granularity, start=start, end=end, segment=segment, now=now)
    _, lo, hi = _day_span(now)
    if granularity == "day":
        days = stored_windows(version_ids=[version.pk], granularity="day", start=min(lo, start - HISTORY["day"]),
                              end=max(hi, end))[version.pk]
        windows = [w for w in days if start - HISTORY["day"] <= w.start < end]
    else:
        days = stored_windows(version_ids=[version.pk], granularity="day", start=lo, end=hi)[version.pk]
        windows = stored_windows(version_ids=[version.pk], granularity=granularity, start=start - HISTORY[granularity],
                                 end=end)[version.pk]
    health = _verdicts([version], {version.pk: [d for d in days if lo <= d.start < hi]}, now)[version.pk]
    return health, _conditions(version, windows, days, granularity, start, end, now)
