"""Ranking metrics per slate, folded into window sketches as labels and rows arrive.

A slate's metrics depend on all its rows and labels, so a change re-counts the slate: its
contribution before the change is subtracted and its contribution after added, in the hour
of its first row (all rows, no segment). Only the touched slates are read (index on
(model, slate_id)), never a window's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from django.db import connection

from monitoring.engine.sketch_codec import Sketch
from monitoring.engine.stats.ranking import slate_arrays, slate_metrics
from monitoring.models import SketchPartial

from .sketching import hour_start

SLATE_ROWS = """
SELECT p.version_id, p.slate_id, p.request_id, p.score, EXTRACT(EPOCH FROM p."timestamp")::bigint / 3600, l.value
  FROM monitoring_prediction p
  LEFT JOIN monitoring_label l ON l.model_id = p.model_id AND l.request_id = p.request_id
 WHERE p.model_id = %s AND p.slate_id = ANY(%s)
"""
MISSING = object()


def relevance(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _contribution(rows: list[tuple]) -> tuple[int | None, dict]:
    """(hour of the slate's first row, its sketch arrays) from (request_id, score, hour, label) rows."""
    if not rows:
        return None, {}
    arrays = slate_arrays(slate_metrics([r[1] for r in rows], [relevance(r[3]) for r in rows]))
    return min(r[2] for r in rows), arrays


def slates_fold(*, model_id: int, slate_ids: Iterable[str], new_rows: frozenset = frozenset(),
                old_labels: dict | None = None) -> None:
    """Re-count the slates ``slate_ids`` of the model after a change: ``new_rows`` (request_ids
    just stored: absent before) or ``old_labels`` (request_id -> the label value before this
    change, None for none). Call inside the transaction that made the change."""
    slate_ids = sorted({s for s in slate_ids if s})
    if not slate_ids:
        return
    old_labels = old_labels or {}
    with connection.cursor() as cur:
        cur.execute(SLATE_ROWS, [model_id, slate_ids])
        found = cur.fetchall()
    slates: dict[tuple, list] = defaultdict(list)
    for version_id, slate_id, request_id, score, hour, value in found:
        slates[(version_id, slate_id)].append((request_id, score, int(hour), value))
    partials: dict[tuple, Sketch] = {}
    for (version_id, _), rows in slates.items():
        before = [(r, s, h, old_labels.get(r, v)) for r, s, h, v in rows if r not in new_rows]
        for sign, state in ((-1, before), (1, rows)):
            hour, arrays = _contribution(state)
            if not arrays:
                continue
            sketch = partials.setdefault((version_id, hour), Sketch())
            sketch.merge(Sketch(arrays={k: sign * v for k, v in arrays.items()}))
    SketchPartial.objects.bulk_create([
        SketchPartial(version_id=version_id, hour=hour_start(hour), segment="", binned=True,
                      binned_with=None, data=sketch.to_bytes(), sample=sketch.sample_bytes())
        for (version_id, hour), sketch in partials.items()
        if any(np.any(v != 0) for v in sketch.arrays.values())
    ])


def slates_fold_labels(*, model_id: int, old_labels: dict) -> None:
    """Re-count the slates of the predictions whose labels just changed (``old_labels``:
    request_id -> value before, None for none)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT slate_id FROM monitoring_prediction"
            " WHERE model_id = %s AND request_id = ANY(%s) AND slate_id IS NOT NULL",
            [model_id, list(old_labels)],
        )
        slate_ids = [row[0] for row in cur.fetchall()]
    slates_fold(model_id=model_id, slate_ids=slate_ids, old_labels=old_labels)


# Every slate of a version whose first row lies in [start, end), with its rows and labels,
# ordered by slate: what a rebuild of that range must count again (its sketches were dropped;
# a slate is counted in the hour of its first row, so slates starting earlier kept theirs).
REFOLD_ROWS = """
SELECT p.slate_id, p.request_id, p.score, EXTRACT(EPOCH FROM p."timestamp")::bigint / 3600, l.value
  FROM monitoring_prediction p
  LEFT JOIN monitoring_label l ON l.model_id = p.model_id AND l.request_id = p.request_id
 WHERE p.version_id = %s AND p.slate_id IN (
       SELECT slate_id FROM monitoring_prediction WHERE version_id = %s AND slate_id IS NOT NULL
        GROUP BY slate_id HAVING min("timestamp") >= %s AND min("timestamp") < %s)
 ORDER BY p.slate_id
"""


def slates_refold(*, version_id: int, start, end) -> None:
    """After a rebuild dropped the version's sketches over [start, end): count its slates
    again. Streamed slate by slate (a server-side cursor)."""
    partials: dict[int, Sketch] = {}

    def add(rows: list[tuple]) -> None:
        hour, arrays = _contribution(rows)
        if arrays:
            partials.setdefault(hour, Sketch()).merge(Sketch(arrays=arrays))

    current, rows = None, []
    with connection.connection.cursor(name=f"vigil_slates_{version_id}") as cur:
        cur.itersize = 10_000
        cur.execute(REFOLD_ROWS, [version_id, version_id, start, end])
        for slate_id, request_id, score, hour, value in cur:
            if slate_id != current and rows:
                add(rows)
                rows = []
            current = slate_id
            rows.append((request_id, score, int(hour), value))
    if rows:
        add(rows)
    SketchPartial.objects.bulk_create([
        SketchPartial(version_id=version_id, hour=hour_start(hour), segment="", binned=True, binned_with=None,
                      data=sketch.to_bytes(), sample=sketch.sample_bytes())
        for hour, sketch in partials.items()
    ])
