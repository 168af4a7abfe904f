"""Folding stored rows into window sketches. Called by ingestion inside its transaction.

Each call APPENDS partial sketches (one INSERT per touched version/hour/segment): no row
is updated, so concurrent ingests never wait on each other. monitoring.services.compaction
merges the partials later. Ingestion passes only newly stored rows, so a retried batch
(all duplicates) folds nothing. Rows folded before the version's reference profile exists
are stored unbinned (counts, moments, labels; no bins or sample) and re-folded from raw
rows when the profile is built (monitoring.services.rebuild.profile_rebuild). Every partial
records the profile generation it was binned with (``binned_with``).

Labels fold into the hour of their PREDICTION. A label stored before its prediction is
pending: the prediction's fold picks it up. Both folds take a per-model advisory lock
(predictions shared, labels exclusive) before looking for the other side, so when a label
and its prediction commit at the same moment exactly one of the two transactions sees the
other: the one that locks second waits until the first has committed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import numpy as np
from django.conf import settings
from django.db import connection

from core.locks import LockSpace, advisory_lock
from monitoring.engine.batch import HOUR_NS, LabelChange, PredictionBatch
from monitoring.engine.profile import Profile
from monitoring.engine.sketch_build import Layout, labels_sketch, rows_sketch
from monitoring.engine.sketch_codec import Sketch
from monitoring.engine.stats.ranking import item_counts
from monitoring.models import ModelVersion, ReferenceRow, SketchPartial, TrackedSegment
from monitoring.selectors.profile import layout_for_version, profile_load
from monitoring.services.profile import profile_request_build


def _late_ns() -> int:
    return settings.VIGIL_LATE_SECONDS * 1_000_000_000


def hour_start(hour_index: int) -> datetime:
    return datetime.fromtimestamp(int(hour_index) * 3600, tz=UTC)


def _lock_labels(model_id: int, *, exclusive: bool) -> None:
    advisory_lock(LockSpace.LABEL_FOLD, model_id, shared=not exclusive)


def _tracked_segments(version: ModelVersion, segments: np.ndarray | None) -> np.ndarray | None:
    """The batch's segment column with untracked segments blanked (they fold into all rows only).

    Segments not yet tracked are added, most frequent in the batch first, while the version
    has fewer than VIGIL_MAX_SEGMENTS. Adding takes a per-model lock, so concurrent batches
    never exceed the cap; it happens at most that many times per version, so the lock is
    almost never taken.
    """
    if segments is None:
        return None
    values, counts = np.unique(np.array([s or "" for s in segments], dtype=object), return_counts=True)
    present = {str(v): int(c) for v, c in zip(values, counts, strict=True) if v}
    if not present:
        return None
    tracked = _tracked_of(version.pk)
    cap = settings.VIGIL_MAX_SEGMENTS
    if len(tracked) < cap and not present.keys() <= tracked:
        advisory_lock(LockSpace.TRACKED_SEGMENTS, version.model_id)
        tracked = _tracked_of(version.pk)  # as of now that the lock is held
        new = sorted((s for s in present if s not in tracked), key=lambda s: (-present[s], s))[: max(0, cap - len(tracked))]
        TrackedSegment.objects.bulk_create([TrackedSegment(version=version, segment=s) for s in new],
                                           ignore_conflicts=True)
        tracked |= set(new)
    if present.keys() <= tracked:
        return segments
    return np.array([s if s in tracked else None for s in segments], dtype=object)


def _tracked_of(version_id: int) -> set[str]:
    return set(TrackedSegment.objects.filter(version_id=version_id).values_list("segment", flat=True))


def _groups(hours: np.ndarray, segments: np.ndarray | None):
    """(hour index, segment, row indices): every hour for all rows ("") and per segment."""
    seg = np.array(["" if s is None else str(s) for s in segments], dtype=object) if segments is not None else None
    for h in np.unique(hours):
        idx = np.flatnonzero(hours == h)
        yield int(h), "", idx
        if seg is None:
            continue
        sub = seg[idx]
        for value in np.unique(sub):
            if value:
                yield int(h), value, idx[sub == value]


def _generation(profile: Profile | None) -> int | None:
    return profile.generation if profile is not None else None


def _partial(
    version_id: int, hour: int, segment: str, sketch: Sketch, binned: bool, binned_with: int | None
) -> SketchPartial:
    return SketchPartial(
        version_id=version_id,
        hour=hour_start(hour),
        segment=segment,
        binned=binned,
        binned_with=binned_with,
        data=sketch.to_bytes(),
        sample=sketch.sample_bytes(),
    )


def sketch_fold_predictions(*, version: ModelVersion, batch: PredictionBatch) -> None:
    """Fold newly stored predictions of ``version`` (and their pending labels) into partials."""
    n = len(batch)
    if n == 0:
        return
    profile = profile_load(version=version)
    if profile is None and ReferenceRow.objects.filter(version=version).exists():
        # Folded unbinned now; the build re-folds these rows from raw once bins exist.
        profile_request_build(version_id=version.pk, missing_only=True)
    layout = layout_for_version(version=version, profile=profile)
    hours = np.asarray(batch.timestamps, dtype=np.int64) // HOUR_NS
    late = np.zeros(n, dtype=bool)
    if batch.received_at_ns:
        late = (batch.received_at_ns - np.asarray(batch.timestamps, dtype=np.int64)) > _late_ns()
    rng = np.random.default_rng()
    scores = np.asarray(batch.scores, dtype=np.float64)
    groups = list(_groups(hours, _tracked_segments(version, batch.segments)))
    sketches = {}
    for h, seg, idx in groups:
        cols = {k: v[idx] for k, v in batch.features.items()}
        sketches[(h, seg)] = rows_sketch(layout, cols, scores[idx], late=int(late[idx].sum()), rng=rng)
        if layout.task == "ranking" and batch.item_ids is not None and not seg:
            counts = item_counts(batch.item_ids[idx])
            if counts is not None:
                sketches[(h, seg)].arrays["rk:items"] = counts
    _lock_labels(version.model_id, exclusive=False)
    _fold_pending_labels(version, layout, batch, groups, sketches)
    SketchPartial.objects.bulk_create(
        [_partial(version.pk, h, seg, s, layout.binned, _generation(profile)) for (h, seg), s in sketches.items()]
    )


def _fold_pending_labels(version, layout: Layout, batch: PredictionBatch, groups, sketches) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT request_id, value FROM monitoring_label WHERE model_id = %s AND request_id = ANY(%s)",
            [version.model_id, list(map(str, batch.request_ids))],
        )
        found = dict(cur.fetchall())
    if not found:
        return
    rid = np.asarray(batch.request_ids, dtype=object)
    has = np.fromiter((r in found for r in rid), dtype=bool, count=len(rid))
    preds = list(batch.predictions) if len(batch.predictions) == len(rid) else [None] * len(rid)
    for h, seg, idx in groups:
        idx = idx[has[idx]]
        if idx.size:
            lab = labels_sketch(layout, batch.scores[idx], [preds[i] for i in idx], [found[rid[i]] for i in idx])
            sketches[(h, seg)].merge(lab)


def sketch_count_duplicates(*, version: ModelVersion, hour_counts: dict[int, int]) -> None:
    """Record duplicates received per hour (hour index = epoch seconds // 3600) for data quality."""
    SketchPartial.objects.bulk_create(
        [
            _partial(version.pk, h, "", Sketch(arrays={"dup": np.array([c], dtype=np.int64)}), True, None)
            for h, c in hour_counts.items()
            if c
        ]
    )


def sketch_fold_labels(*, model, changes: list[LabelChange]) -> None:
    """Fold stored (new or replacing) labels of ``model``; a replacement removes the old value.

    A label folds into every version that predicted its request (production and shadow
    alike). Labels whose prediction is not stored yet are left pending (each version's
    prediction fold takes them). Every label has been folded exactly once per stored
    prediction, so the old value of a replaced label is the one to subtract from each.
    """
    if not changes:
        return
    _lock_labels(model.pk, exclusive=True)
    by_id = {c.request_id: c for c in changes}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT request_id, version_id, EXTRACT(EPOCH FROM timestamp)::bigint / 3600, score, prediction, segment "
            "FROM monitoring_prediction WHERE model_id = %s AND version_id = ANY(%s) AND request_id = ANY(%s)",
            [model.pk, list(ModelVersion.objects.filter(model_id=model.pk).values_list("pk", flat=True)), list(by_id)],
        )
        rows = cur.fetchall()
    if not rows:
        return
    tracked = set(
        TrackedSegment.objects.filter(version_id__in={r[1] for r in rows}).values_list("version_id", "segment")
    )
    grouped: dict[tuple, list] = defaultdict(list)
    for request_id, version_id, hour, score, prediction, segment in rows:
        grouped[(version_id, int(hour), "")].append((by_id[request_id], score, prediction))
        if segment and (version_id, segment) in tracked:
            grouped[(version_id, int(hour), segment)].append((by_id[request_id], score, prediction))
    layouts: dict[int, tuple[Layout, Profile | None]] = {}
    partials = []
    for (version_id, hour, seg), items in grouped.items():
        if version_id not in layouts:
            version = ModelVersion.objects.select_related("model").get(pk=version_id)
            profile = profile_load(version=version)
            layouts[version_id] = (layout_for_version(version=version, profile=profile), profile)
        layout, profile = layouts[version_id]
        sketch = labels_sketch(layout, [s for _, s, _ in items], [p for _, _, p in items], [c.new_value for c, _, _ in items])
        old = [(c, s, p) for c, s, p in items if c.old_value is not None]
        if old:
            removed = labels_sketch(layout, [s for _, s, _ in old], [p for _, _, p in old], [c.old_value for c, _, _ in old])
            sketch.merge(removed.negate())
        partials.append(_partial(version_id, hour, seg, sketch, True, _generation(profile)))
    SketchPartial.objects.bulk_create(partials)
