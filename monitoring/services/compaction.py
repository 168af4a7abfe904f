"""Merging appended partial sketches into hourly windows and daily rollups.

One transaction claims a batch of partials with ``DELETE ... RETURNING`` over rows locked
``FOR UPDATE SKIP LOCKED`` (two workers never claim the same partial) and merges them into
the hour WindowSketch rows and their day and week rollups. A worker killed mid-run rolls the whole transaction
back: the partials reappear and nothing was added twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from monitoring.engine.sketch_codec import Sketch

# Only partials binned with the version's current profile (or with none) are claimed, and
# none of a version whose sketches are being re-folded for a new profile: merging them into
# windows binned with other edges would add counts of different bins. They wait for the
# re-fold, which deletes them and folds their rows again (monitoring.services.rebuild).
CLAIM_SQL = """
DELETE FROM monitoring_sketch_partial WHERE id IN (
    SELECT p.id FROM monitoring_sketch_partial p
      LEFT JOIN monitoring_reference_profile rp ON rp.version_id = p.version_id
     WHERE {where} (rp.id IS NULL OR (rp.sketches_generation = rp.generation
                                      AND (p.binned_with IS NULL OR p.binned_with = rp.generation)))
     ORDER BY p.id LIMIT %s FOR UPDATE OF p SKIP LOCKED
) RETURNING version_id, hour, segment, binned, binned_with, data, sample
"""

INSERT_SQL = """
INSERT INTO monitoring_window_sketch
    (version_id, granularity, window_start, segment, binned, binned_with, data, sample, changed_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (version_id, granularity, window_start, segment) DO NOTHING RETURNING id
"""


def _day(hour: datetime) -> datetime:
    return hour.replace(hour=0, minute=0, second=0, microsecond=0)


def week_start(t: datetime) -> datetime:
    """Monday 00:00 UTC of ``t``'s week."""
    return _day(t) - timedelta(days=t.weekday())


def _tag(a: int | None, b: int | None) -> int | None:
    """The profile generation of two merged sketches (claimed partials never disagree)."""
    return a if b is None else b


def _merge_window(cur, key: tuple, sketch: Sketch, binned: bool, binned_with: int | None, now: datetime) -> None:
    version_id, granularity, start, segment = key
    cur.execute(
        INSERT_SQL,
        [version_id, granularity, start, segment, binned, binned_with, sketch.to_bytes(), sketch.sample_bytes(), now],
    )
    if cur.fetchone() is not None:
        return
    cur.execute(
        "SELECT id, binned, binned_with, data, sample FROM monitoring_window_sketch WHERE version_id = %s "
        "AND granularity = %s AND window_start = %s AND segment = %s FOR UPDATE",
        [version_id, granularity, start, segment],
    )
    row_id, old_binned, old_with, data, sample = cur.fetchone()
    merged = Sketch.from_bytes(data, sample).merge(sketch)
    cur.execute(
        "UPDATE monitoring_window_sketch SET data = %s, sample = %s, binned = %s, binned_with = %s, changed_at = %s "
        "WHERE id = %s",
        [merged.to_bytes(), merged.sample_bytes(), old_binned and binned, _tag(old_with, binned_with), now, row_id],
    )


def sketches_compact(*, limit: int = 500, version_id: int | None = None) -> int:
    """Claim up to ``limit`` partials and merge them into their windows; returns how many."""
    where = "p.version_id = %s AND" if version_id is not None else ""
    params = ([version_id] if version_id is not None else []) + [limit]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(CLAIM_SQL.format(where=where), params)
        claimed = cur.fetchall()
        if not claimed:
            return 0
        windows: dict[tuple, Sketch] = defaultdict(Sketch)
        binned: dict[tuple, bool] = defaultdict(lambda: True)
        tags: dict[tuple, int | None] = defaultdict(lambda: None)
        for vid, hour, segment, is_binned, binned_with, data, sample in claimed:
            key = (vid, "hour", hour, segment)
            windows[key].merge(Sketch.from_bytes(data, sample))
            binned[key] = binned[key] and is_binned
            tags[key] = _tag(tags[key], binned_with)
        # Day and week rollups get their hours' merged partials (one merge per hour, not per partial).
        for (vid, _, hour, segment), sketch in list(windows.items()):
            for rollup in ((vid, "day", _day(hour), segment), (vid, "week", week_start(hour), segment)):
                windows[rollup].merge(sketch)
                binned[rollup] = binned[rollup] and binned[(vid, "hour", hour, segment)]
                tags[rollup] = _tag(tags[rollup], tags[(vid, "hour", hour, segment)])
        now = timezone.now()
        # A fixed lock order keeps two compacting workers from deadlocking on window rows.
        for key in sorted(windows):
            _merge_window(cur, key, windows[key], binned[key], tags[key], now)
    return len(claimed)


def sketches_compact_all(*, limit: int = 500, version_id: int | None = None) -> int:
    """Compact until no partial is left (each batch its own transaction)."""
    total = 0
    while True:
        done = sketches_compact(limit=limit, version_id=version_id)
        total += done
        if done < limit:
            return total
