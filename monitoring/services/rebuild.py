"""Recomputing a version's sketches from raw prediction rows: the one path that reads them.

Used after the reference profile changes (bins moved) or for rows folded before the
profile existed. Rows are read in chunks through a server-side cursor, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection, transaction

from core.locks import LockSpace, advisory_lock, advisory_lock_try
from monitoring.engine.batch import PredictionBatch, prediction_batch
from monitoring.models import ModelVersion, Prediction, ReferenceProfile, SketchPartial, WindowSketch
from monitoring.models.registry import Task
from monitoring.selectors.profile import versions_stale
from monitoring.selectors.retention import raw_whole_weeks_from
from monitoring.services.compaction import sketches_compact_all, week_start
from monitoring.services.profile import profile_build
from monitoring.services.sketching import sketch_fold_predictions
from monitoring.services.slates import slates_refold

CHUNK = 10_000


def _ns(t: datetime) -> int:
    return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000


def _batches(version: ModelVersion, rows: list[tuple]) -> list[PredictionBatch]:
    """Rows of one chunk -> batches grouped by receive time (late-row counting needs it)."""
    kinds = {f["name"]: f.get("type", "numeric") for f in version.features}
    request_ids, timestamps, features, scores, predictions, segments, received, items, slates = zip(*rows, strict=True)
    stamps = np.array([_ns(t) for t in timestamps], dtype=np.int64)
    received_ns = np.array([_ns(t) for t in received], dtype=np.int64)
    columns = {}
    for name, kind in kinds.items():
        values = [f.get(name) for f in features]
        if kind == "categorical":
            columns[name] = np.array([None if v is None else str(v) for v in values], dtype=object)
        else:
            columns[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    batches = []
    for at in np.unique(received_ns):
        index = np.flatnonzero(received_ns == at)
        batches.append(
            prediction_batch(
                index,
                request_ids=request_ids,
                timestamps=stamps,
                scores=np.array(scores, dtype=np.float64),
                segments=segments,
                predictions=predictions,
                features={name: column[index] for name, column in columns.items()},
                received_at_ns=int(at),
                item_ids=items,
                slate_ids=slates,
            )
        )
    return batches


def profile_rebuild(*, version: ModelVersion, missing_only: bool = False) -> bool:
    """Rebuild the version's profile after its reference rows changed, then re-fold its
    sketches from raw rows for the new bins. ``missing_only`` (what ingestion and the beat
    ask for): build only when there is no profile yet; otherwise just finish re-folding the
    sketches if they do not match the current profile (a rebuild cut short). Idempotent.

    Returns False when the version has no reference rows.
    """
    if missing_only and ReferenceProfile.objects.filter(version=version).exists():
        if versions_stale(version_id=version.pk):
            sketches_rebuild(version=version, wait=False)
        return True
    profile = profile_build(version=version)
    if profile is None:
        return False
    if profile.sketches_generation != profile.generation:
        sketches_rebuild(version=version)
    return True


def sketches_rebuild(
    *,
    version: ModelVersion,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    wait: bool = True,
) -> int:
    """Drop and recompute the version's sketches over whole UTC weeks covering [start, end)
    (weeks, so every rollup touched is rebuilt whole).

    Runs in one REPEATABLE READ transaction: predictions committed by concurrent ingests
    after it started are neither read here nor have their partials deleted, so they count
    once. Duplicate counts (kept only in sketches) are lost for the rebuilt days. Returns
    the number of rows read.

    Weeks before the model's retention boundary (``raw_whole_weeks_from``) are left as they
    are: their raw rows are gone, so a re-fold would empty kept windows.

    Re-folds of one version never overlap (an advisory lock): ``wait=False`` returns 0 at
    once when another is running. A whole re-fold (no ``start``/``end``) records the profile
    generation it folded for, which lets compaction and readers use the version's sketches
    again; cut short, it leaves that mark behind and the beat asks for it again.
    """
    outer = connection.in_atomic_block  # inside a caller's transaction: its isolation applies
    with transaction.atomic():
        if not outer:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if wait:
            advisory_lock(LockSpace.PROFILE_REBUILD, version.pk)
        elif not advisory_lock_try(LockSpace.PROFILE_REBUILD, version.pk):
            return 0
        generation = ReferenceProfile.objects.filter(version=version).values_list("generation", flat=True).first()
        whole = start is None and end is None
        # Weeks whose raw rows retention removed (wholly or partly) keep the sketches they
        # have: re-folding them would replace kept windows with emptiness.
        floor = raw_whole_weeks_from(model_id=version.model_id)
        if floor is not None and (start is None or start < floor):
            start = floor
            if end is not None and end <= floor:
                return 0
        rows_qs = Prediction.objects.filter(version=version)
        windows = WindowSketch.objects.filter(version=version)
        partials = SketchPartial.objects.filter(version=version)
        if start is not None:
            start = week_start(start)
            rows_qs, windows, partials = (
                rows_qs.filter(timestamp__gte=start),
                windows.filter(window_start__gte=start),
                partials.filter(hour__gte=start),
            )
        if end is not None:
            end = week_start(end) + (timedelta(0) if end == week_start(end) else timedelta(days=7))
            rows_qs, windows, partials = (
                rows_qs.filter(timestamp__lt=end),
                windows.filter(window_start__lt=end),
                partials.filter(hour__lt=end),
            )
        windows.delete()
        partials.delete()
        read = 0
        chunk: list[tuple] = []
        fields = ("request_id", "timestamp", "features", "score", "prediction", "segment", "received_at", "item_id",
                  "slate_id")
        for row in rows_qs.order_by("id").values_list(*fields).iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                read += _fold(version, chunk, progress)
                chunk = []
        if chunk:
            read += _fold(version, chunk, progress)
        if version.model.task == Task.RANKING:
            # Slate metrics are folded per slate, not per row: counted again once, here.
            slates_refold(version_id=version.pk, start=start or datetime(1970, 1, 1, tzinfo=UTC),
                          end=end or datetime(9999, 1, 1, tzinfo=UTC))
        if generation is not None and whole:
            # Under REPEATABLE READ this fails (and the whole re-fold rolls back, to be
            # retried) if a newer profile was committed meanwhile: it needs its own re-fold.
            ReferenceProfile.objects.filter(version=version).update(sketches_generation=generation)
    sketches_compact_all(version_id=version.pk)
    return read


def _fold(version: ModelVersion, chunk: list[tuple], progress) -> int:
    for batch in _batches(version, chunk):
        sketch_fold_predictions(version=version, batch=batch)
    if progress is not None:
        progress(len(chunk))
    return len(chunk)
