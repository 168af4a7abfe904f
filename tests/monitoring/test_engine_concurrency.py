"""Concurrent ingests into one hour, label/prediction races, retried batches, through real transactions."""

import threading
from datetime import timedelta

import numpy as np
import pytest
from django.db import transaction

from monitoring.engine.sketch_codec import Sketch
from monitoring.models import SketchPartial, WindowSketch
from monitoring.selectors.metrics import sketch_range_get
from monitoring.services.compaction import sketches_compact, sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.sketching import sketch_fold_labels, sketch_fold_predictions

from ..threads import run_threads
from .engine_factories import T0, api_rows, batch, draw, make_version, store_predictions, store_reference

pytestmark = pytest.mark.django_db(transaction=True)


def _threads(targets):
    run_threads(*targets)


def test_concurrent_ingests_into_one_hour_count_every_row_once():
    version = make_version()
    store_reference(version)
    rng = np.random.default_rng(10)
    draws = [draw(200, rng) for _ in range(4)]
    barrier = threading.Barrier(4, timeout=30)

    def ingest(d):
        def run():
            with transaction.atomic():
                store_predictions(version, batch(d, hours=1))
                barrier.wait()  # all four transactions are open at once, all in the same hour

        return run

    _threads([ingest(d) for d in draws])
    assert SketchPartial.objects.count() == 4
    _threads([lambda: sketches_compact(limit=1) for _ in range(4)])  # four workers, one partial each
    sketches_compact_all()
    hour = Sketch.from_bytes(WindowSketch.objects.get(granularity="hour", segment="").data)
    assert hour.count("rows") == 800
    expected = sum(np.bincount(np.searchsorted([0.5], d["has_car"], side="right"), minlength=2) for d in draws)
    np.testing.assert_array_equal(hour.arrays["b:has_car"], expected)


def test_label_and_prediction_committing_together_fold_exactly_once():
    version = make_version()
    store_reference(version)
    d = draw(50, np.random.default_rng(11))
    b = batch(d, hours=1)
    barrier = threading.Barrier(2, timeout=30)

    def predictions():
        with transaction.atomic():
            store_predictions(version, b, fold=False)
            barrier.wait()  # the label's row is written but not committed: neither sees the other yet
            sketch_fold_predictions(version=version, batch=b)

    def labels():
        from django.utils import timezone

        from monitoring.engine.batch import LabelChange
        from monitoring.models import Label

        with transaction.atomic():
            now = timezone.now()
            Label.objects.bulk_create(
                Label(model=version.model, request_id=r, value=int(v), timestamp=now, received_at=now)
                for r, v in zip(b.request_ids, d["label"], strict=True)
            )
            barrier.wait()
            sketch_fold_labels(model=version.model, changes=[LabelChange(r, int(v), None) for r, v in zip(b.request_ids, d["label"], strict=True)])

    _threads([predictions, labels])
    s = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=1)).sketch
    assert s.count("lab:n") == 50
    assert s.arrays["lab:dist"].tolist() == [int((d["label"] == 0).sum()), int(d["label"].sum())]


def test_retried_batch_and_parallel_duplicates_add_nothing():
    version = make_version()
    store_reference(version)
    rows = api_rows(draw(300, np.random.default_rng(12)), hours=2)
    first = predictions_ingest(model=version.model, rows=rows)
    assert first["accepted"] == 300
    again = predictions_ingest(model=version.model, rows=rows)
    assert again["accepted"] == 0 and again["duplicates"] == 300
    _threads([lambda: predictions_ingest(model=version.model, rows=rows[:150] + rows[:150]) for _ in range(2)])
    s = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=2)).sketch
    assert s.count("rows") == 300


def test_concurrent_batches_with_new_segments_never_track_more_than_the_cap(settings):
    from monitoring.models import TrackedSegment

    settings.VIGIL_MAX_SEGMENTS = 3
    version = make_version()
    store_reference(version)
    rng = np.random.default_rng(13)

    def ingest(prefix, segments):
        rows = api_rows(draw(120, rng), prefix=prefix)
        for k, row in enumerate(rows):
            row["segment"] = segments[k % len(segments)]
        return lambda: predictions_ingest(model=version.model, rows=rows)

    _threads([ingest("a", ["s1", "s2", "s3"]), ingest("b", ["s4", "s5"]), ingest("c", ["s6", "s1"])])
    assert TrackedSegment.objects.filter(version=version).count() == 3
    sketches_compact_all(version_id=version.pk)
    assert WindowSketch.objects.filter(version=version).exclude(segment="").values("segment").distinct().count() == 3
    total = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=1)).sketch
    assert total.count("rows") == 360


def test_late_pending_and_replaced_labels_through_ingestion():
    version = make_version()
    store_reference(version)
    d = draw(200, np.random.default_rng(13))
    rows = api_rows(d, hours=2)
    labels = [{"request_id": r["request_id"], "label": int(v), "timestamp": r["timestamp"]} for r, v in zip(rows, d["label"], strict=True)]
    # Half the labels arrive before their predictions (pending), half after.
    assert labels_ingest(model=version.model, rows=labels[:100])["pending"] == 100
    predictions_ingest(model=version.model, rows=rows)
    assert labels_ingest(model=version.model, rows=labels[100:])["matched"] == 100
    # Ten labels are corrected: the old value's contribution must go away.
    flipped = [{**lab, "label": 1 - lab["label"]} for lab in labels[:10]]
    labels_ingest(model=version.model, rows=flipped)
    sketches_compact_all()
    s = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=2)).sketch
    y = d["label"].copy()
    y[:10] = 1 - y[:10]
    pred = d["score"] >= 0.5
    assert s.count("lab:n") == 200
    assert s.arrays["lab:conf"].tolist() == [
        int((pred & (y == 1)).sum()),
        int((pred & (y == 0)).sum()),
        int((~pred & (y == 0)).sum()),
        int((~pred & (y == 1)).sum()),
    ]
    assert s.arrays["lab:pos"].sum() == y.sum()
