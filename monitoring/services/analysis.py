"""Scheduled analyses: per version and window, drift + quality + performance from sketches.

Incremental: only windows whose sketch changed after their stored result are redone.
Idempotent and safe with several workers: a worker analyses a version only while holding
its advisory lock (others skip it), and results are upserts keyed by window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from core.locks import LockSpace, advisory_lock_try
from monitoring.engine.sketch_codec import Sketch
from monitoring.engine.window import window_analyse
from monitoring.models import AnalysisResult, ModelVersion, WindowSketch
from monitoring.selectors.profile import profile_load
from monitoring.signals import windows_analysed

STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
HISTORY_DAYS = 7

# Windows binned with an older profile (its re-fold not finished) are left out: their bins
# do not match the current edges. The re-fold rewrites them, which makes them dirty again.
# All rows ("") and every tracked segment get their own results (segment sketches exist
# only for tracked segments, see monitoring.services.sketching).
DIRTY_FROM = """
  FROM monitoring_window_sketch ws
  LEFT JOIN monitoring_analysis_result ar
    ON ar.version_id = ws.version_id AND ar.granularity = ws.granularity AND ar.window_start = ws.window_start
   AND ar.segment = ws.segment
 WHERE ws.version_id = %s AND ws.granularity IN ('hour', 'day') AND (ar.id IS NULL OR ar.sketch_changed_at < ws.changed_at OR %s)
   AND ws.window_start >= %s AND ws.window_start < %s AND (ws.binned_with IS NULL OR ws.binned_with = %s)
"""
DIRTY_SQL = (
    "SELECT ws.segment, ws.granularity, ws.window_start, ws.changed_at, ws.binned, ws.data, ws.sample"
    + DIRTY_FROM
    + " ORDER BY ws.segment, ws.granularity, ws.window_start"
)
# With the first dirty window, the results' computed_at: read under the version's lock (analyses of a
# version are serialised by it), later than every result of the version already stored, so results
# written after a reader saw the newest computed_at carry a later one, whatever the workers' clocks
# (alerts evaluation re-reads exactly the windows past the computed_at it consumed).
DIRTY_START_SQL = (
    "SELECT min(ws.window_start), GREATEST(clock_timestamp(), (SELECT max(computed_at) + interval '1 microsecond'"
    " FROM monitoring_analysis_result WHERE version_id = %s))" + DIRTY_FROM
)
# Windows are streamed and results written in chunks: a backfill of 90 days x 20 segments
# is tens of thousands of sketches, too many to hold in memory at once.
CHUNK = 200

def _history(segment: str, granularity: str, start: datetime, volumes: dict) -> list[int]:
    """Rows of the segment in the same hour (or day) on each of the previous days."""
    starts = [start - timedelta(days=k) for k in range(1, HISTORY_DAYS + 1)]
    return [volumes[(segment, granularity, s)] for s in starts if volumes.get((segment, granularity, s)) is not None]


def version_analyse(
    *,
    version_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Analyse the version's changed windows (all windows in range with ``force``).

    Returns the number of windows analysed; 0 if another worker holds the version or it has
    no reference profile yet.
    """
    version = ModelVersion.objects.select_related("model").get(pk=version_id)
    profile = profile_load(version=version)
    if profile is None:
        return 0
    lo = since or datetime(1970, 1, 1, tzinfo=UTC)
    hi = until or datetime(9999, 1, 1, tzinfo=UTC)
    with transaction.atomic(), connection.cursor() as cur:
        if not advisory_lock_try(LockSpace.VERSION_ANALYSIS, version_id):
            return 0
        current = [version_id, force, lo, hi, profile.generation]
        cur.execute(DIRTY_START_SQL, [version_id, *current])
        earliest, now = cur.fetchone()
        if earliest is None:
            return 0
        first = (
            WindowSketch.objects.filter(version=version, segment="", granularity="hour")
            .order_by("window_start")
            .values_list("window_start", flat=True)
            .first()
        )
        cache: dict[tuple, Sketch | None] = {}
        # Volumes of earlier windows for the same-hour trailing median, in one query.
        volumes: dict[tuple, int] = {
            (seg, g, ws): rows
            for seg, g, ws, rows in AnalysisResult.objects.filter(
                version=version, window_start__gte=earliest - timedelta(days=HISTORY_DAYS)
            ).values_list("segment", "granularity", "window_start", "payload__rows")
        }
        results: list[AnalysisResult] = []
        analysed: list[tuple] = []
        done = 0
        catalogue = (version.metadata or {}).get("catalogue_size")
        catalogue = catalogue if isinstance(catalogue, int) and catalogue > 0 else None
        with connection.connection.cursor(name=f"vigil_dirty_{version_id}") as windows:
            windows.itersize = CHUNK
            windows.execute(DIRTY_SQL, current)
            for segment, granularity, start, changed_at, binned, data, sample in windows:
                sketch = Sketch.from_bytes(data, sample)
                cache[(segment, granularity, start)] = sketch
                prev_key = (segment, granularity, start - STEP[granularity])
                if prev_key not in cache:
                    row = WindowSketch.objects.filter(
                        Q(binned_with__isnull=True) | Q(binned_with=profile.generation),
                        version=version, segment=segment, granularity=granularity, window_start=prev_key[2],
                    ).values_list("data", flat=True).first()
                    cache[prev_key] = Sketch.from_bytes(row) if row is not None else None
                payload = window_analyse(
                    model_settings=version.model.settings,
                    profile=profile,
                    sketch=sketch,
                    previous=cache[prev_key],
                    volume_history=_history(segment, granularity, start, volumes),
                    # Training-serving skew: judged once, on all rows of the first window.
                    first_window=segment == "" and first is not None and start <= first < start + STEP[granularity],
                    binned=binned,
                    light=granularity == "hour",
                    catalogue_size=catalogue,
                )
                volumes[(segment, granularity, start)] = payload["rows"]
                analysed.append((granularity, segment, start))
                cache.pop(prev_key, None)
                results.append(
                    AnalysisResult(
                        version=version,
                        granularity=granularity,
                        window_start=start,
                        segment=segment,
                        payload=payload,
                        sketch_changed_at=changed_at,
                        computed_at=now,
                    )
                )
                if len(results) >= CHUNK:
                    done += _save(results)
                if progress is not None:
                    progress(1)
        done += _save(results)
        transaction.on_commit(
            lambda: windows_analysed.send(sender=ModelVersion, version_id=version_id, windows=analysed)
        )
    return done


def _save(results: list[AnalysisResult]) -> int:
    """Upsert the results by window and empty the list; returns how many."""
    AnalysisResult.objects.bulk_create(
        results,
        update_conflicts=True,
        unique_fields=["version", "granularity", "window_start", "segment"],
        update_fields=["payload", "sketch_changed_at", "computed_at"],
    )
    count = len(results)
    results.clear()
    return count
