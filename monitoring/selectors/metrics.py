"""Reads of sketches and analysis results (never raw prediction rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from monitoring.engine.sketch_codec import Sketch
from monitoring.models import ModelVersion

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# One statement, so compacted windows and not-yet-compacted partials come from the same
# snapshot: a compaction committing in between can neither hide rows nor count them twice.
RANGE_SQL = """
SELECT data, binned FROM monitoring_window_sketch
 WHERE version_id = %(v)s AND segment = %(seg)s AND (
   (granularity = 'week' AND window_start >= %(w0)s AND window_start < %(w1)s)
   OR (granularity = 'day' AND ((window_start >= %(d0)s AND window_start < %(w0)s)
                                OR (window_start >= %(w1)s AND window_start < %(d1)s)))
   OR (granularity = 'hour' AND ((window_start >= %(h0)s AND window_start < %(d0)s)
                                 OR (window_start >= %(d1)s AND window_start < %(h1)s))))
UNION ALL
SELECT data, binned FROM monitoring_sketch_partial
 WHERE version_id = %(v)s AND segment = %(seg)s AND hour >= %(h0)s AND hour < %(h1)s
"""


@dataclass
class RangeSketch:
    start: datetime  # the hour-aligned range actually covered
    end: datetime
    sketch: Sketch
    binned: bool  # False if some rows were folded before the reference profile existed
    parts: int


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def ceil_hour(t: datetime) -> datetime:
    f = floor_hour(t)
    return f if f == t else f + HOUR


def _ceil_day(t: datetime) -> datetime:
    f = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return f if f == t else f + DAY


def sketch_range_get(*, version: ModelVersion, start: datetime, end: datetime, segment: str = "") -> RangeSketch:
    """Merged sketch of ``[start, end)`` widened to whole UTC hours: whole weeks from the
    weekly rollups, the other whole days from daily ones, edge hours from hourly windows,
    plus partials not yet compacted (90 days read about 25 rows)."""
    h0, h1 = floor_hour(start), ceil_hour(end)
    d0 = _ceil_day(h0)
    d1 = h1.replace(hour=0)
    if d1 <= d0:  # no whole day inside: hours only
        d0 = d1 = h1
    w0 = d0 + timedelta(days=(7 - d0.weekday()) % 7)  # first Monday at or after d0
    w1 = d1 - timedelta(days=d1.weekday())
    if w1 <= w0:  # no whole week inside: days only
        w0 = w1 = d1
    with connection.cursor() as cur:
        cur.execute(
            RANGE_SQL, {"v": version.pk, "seg": segment, "w0": w0, "w1": w1, "d0": d0, "d1": d1, "h0": h0, "h1": h1}
        )
        rows = cur.fetchall()
    total = Sketch()
    binned = True
    for data, is_binned in rows:
        total.merge(Sketch.from_bytes(data))
        binned = binned and is_binned
    return RangeSketch(start=h0, end=h1, sketch=total, binned=binned, parts=len(rows))


def version_for(*, model, version: str | None) -> ModelVersion | None:
    """The named version, else the production one (latest promoted), else the newest."""
    qs = ModelVersion.objects.filter(model=model).select_related("model")
    if version:
        # PostgreSQL text cannot hold NUL, so no stored label has one (and psycopg2 refuses it).
        return None if "\x00" in version else qs.filter(version=version).first()
    return qs.filter(stage="production").order_by("-promoted", "-created").first() or qs.order_by("-created").first()
