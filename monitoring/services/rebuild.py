"""Recomputing a version's sketches from raw prediction rows: the one path that reads them.

Used after the reference profile changes (bins moved) or for rows folded before the
profile existed. Rows are read in chunks through a server-side cursor, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction

from monitoring.engine.batch import PredictionBatch
from monitoring.models import ModelVersion, Prediction, SketchPartial, WindowSketch
from monitoring.services.compaction import sketches_compact_all, week_start
from monitoring.services.sketching import sketch_fold_predictions

CHUNK = 10_000


def _ns(t: datetime) -> int:
    return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000


def _week_floor(t: datetime) -> datetime:
    return week_start(t)


def _batch(version: ModelVersion, rows: list[tuple]) -> list[PredictionBatch]:
    """Rows of one chunk -> batches grouped by receive time (late-row counting needs it)."""
    kinds = {f["name"]: f.get("type", "numeric") for f in version.features}
    by_received: dict[int, list[tuple]] = {}
    for row in rows:
        by_received.setdefault(_ns(row[6]), []).append(row)
    batches = []
    for received, group in by_received.items():
        features = {}
        for name, kind in kinds.items():
            values = [r[2].get(name) for r in group]
            if kind == "categorical":
                features[name] = np.array([None if v is None else str(v) for v in values], dtype=object)
            else:
                features[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        batches.append(
            PredictionBatch(
                request_ids=np.array([r[0] for r in group], dtype=object),
                timestamps=np.array([_ns(r[1]) for r in group], dtype=np.int64),
                scores=np.array([r[3] for r in group], dtype=np.float64),
                features=features,
                segments=np.array([r[5] for r in group], dtype=object),
                predictions=[r[4] for r in group],
                received_at_ns=received,
            )
        )
    return batches


def sketches_rebuild(
    *,
    version: ModelVersion,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Drop and recompute the version's sketches over whole UTC weeks covering [start, end)
    (weeks, so every rollup touched is rebuilt whole).

    Runs in one REPEATABLE READ transaction: predictions committed by concurrent ingests
    after it started are neither read here nor have their partials deleted, so they count
    once. Duplicate counts (kept only in sketches) are lost for the rebuilt days. Returns
    the number of rows read.
    """
    outer = connection.in_atomic_block  # inside a caller's transaction: its isolation applies
    with transaction.atomic():
        if not outer:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        rows_qs = Prediction.objects.filter(version=version)
        windows = WindowSketch.objects.filter(version=version)
        partials = SketchPartial.objects.filter(version=version)
        if start is not None:
            start = _week_floor(start)
            rows_qs, windows, partials = (
                rows_qs.filter(timestamp__gte=start),
                windows.filter(window_start__gte=start),
                partials.filter(hour__gte=start),
            )
        if end is not None:
            end = _week_floor(end) + (timedelta(0) if end == _week_floor(end) else timedelta(days=7))
            rows_qs, windows, partials = (
                rows_qs.filter(timestamp__lt=end),
                windows.filter(window_start__lt=end),
                partials.filter(hour__lt=end),
            )
        windows.delete()
        partials.delete()
        read = 0
        chunk: list[tuple] = []
        fields = ("request_id", "timestamp", "features", "score", "prediction", "segment", "received_at")
        for row in rows_qs.order_by("id").values_list(*fields).iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                read += _fold(version, chunk, progress)
                chunk = []
        if chunk:
            read += _fold(version, chunk, progress)
    sketches_compact_all(version_id=version.pk)
    return read


def _fold(version: ModelVersion, chunk: list[tuple], progress) -> int:
    for batch in _batch(version, chunk):
        sketch_fold_predictions(version=version, batch=batch)
    if progress is not None:
        progress(len(chunk))
    return len(chunk)
