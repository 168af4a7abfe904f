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
# Only sketches binned with the version's current profile (or unbinned) are read: after a
# profile rebuild, windows still binned with the old edges (a re-fold not finished yet) are
# left out rather than added to counts of other bins.
RANGE_SQL = """
WITH current AS (SELECT generation FROM monitoring_reference_profile WHERE version_id = %(v)s)
SELECT data, binned FROM monitoring_window_sketch
 WHERE version_id = %(v)s AND segment = %(seg)s
   AND (binned_with IS NULL OR binned_with = (SELECT generation FROM current)) AND (
   (granularity = 'week' AND window_start >= %(w0)s AND window_start < %(w1)s)
   OR (granularity = 'day' AND ((window_start >= %(d0)s AND window_start < %(w0)s)
                                OR (window_start >= %(w1)s AND window_start < %(d1)s)))
   OR (granularity = 'hour' AND ((window_start >= %(h0)s AND window_start < %(d0)s)
                                 OR (window_start >= %(d1)s AND window_start < %(h1)s))))
UNION ALL
SELECT data, binned FROM monitoring_sketch_partial
 WHERE version_id = %(v)s AND segment = %(seg)s AND hour >= %(h0)s AND hour < %(h1)s
   AND (binned_with IS NULL OR binned_with = (SELECT generation FROM current))
"""


# Versions with a window whose sketch changed after its result was computed (analyses due),
# among windows binned with the version's current profile (others wait for their re-fold).
DIRTY_VERSIONS_SQL = """
SELECT DISTINCT ws.version_id FROM monitoring_window_sketch ws
  JOIN monitoring_reference_profile rp ON rp.version_id = ws.version_id
  LEFT JOIN monitoring_analysis_result ar
    ON ar.version_id = ws.version_id AND ar.granularity = ws.granularity AND ar.window_start = ws.window_start
   AND ar.segment = ws.segment
 WHERE ws.granularity IN ('hour', 'day') AND (ar.id IS NULL OR ar.sketch_changed_at < ws.changed_at)
   AND (ws.binned_with IS NULL OR ws.binned_with = rp.generation)
"""


def versions_dirty() -> list[int]:
    with connection.cursor() as cur:
        cur.execute(DIRTY_VERSIONS_SQL)
        return [r[0] for r in cur.fetchall()]


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


def range_params(*, version_id: int, segment: str, start: datetime, end: datetime) -> dict:
    """RANGE_SQL's parameters for ``[start, end)`` widened to whole UTC hours: whole weeks
    [w0, w1), the other whole days [d0, w0) and [w1, d1), edge hours [h0, d0) and [d1, h1)."""
    h0, h1 = floor_hour(start), ceil_hour(end)
    d0 = _ceil_day(h0)
    d1 = h1.replace(hour=0)
    if d1 <= d0:  # no whole day inside: hours only
        d0 = d1 = h1
    w0 = d0 + timedelta(days=(7 - d0.weekday()) % 7)  # first Monday at or after d0
    w1 = d1 - timedelta(days=d1.weekday())
    if w1 <= w0:  # no whole week inside: days only
        w0 = w1 = d1
    return {"v": version_id, "seg": segment, "w0": w0, "w1": w1, "d0": d0, "d1": d1, "h0": h0, "h1": h1}


def sketch_range_get(*, version: ModelVersion, start: datetime, end: datetime, segment: str = "") -> RangeSketch:
    """Merged sketch of ``[start, end)`` widened to whole UTC hours: whole weeks from the
    weekly rollups, the other whole days from daily ones, edge hours from hourly windows,
    plus partials not yet compacted (90 days read about 25 rows)."""
    params = range_params(version_id=version.pk, segment=segment, start=start, end=end)
    h0, h1 = params["h0"], params["h1"]
    with connection.cursor() as cur:
        cur.execute(RANGE_SQL, params)
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
    return qs.filter(stage="production").order_by("-promoted_at", "-created_at").first() or qs.order_by("-created_at").first()
