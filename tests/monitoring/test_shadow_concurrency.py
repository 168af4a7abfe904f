"""Per-version idempotency under concurrency: production and shadow batches racing, retried."""

import pytest

from monitoring.models import Prediction
from monitoring.selectors.metrics import sketch_range_get
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.registry import version_create

from ..threads import run_threads
from .ingest_factories import SCHEMA, binary_model, row
from .test_shadow_ingest import DAY


def versioned(version: str, ids) -> list[dict]:
    return [row(i, version=version, score=((i * 13 + len(version)) % 100) / 100) for i in ids]


@pytest.mark.django_db(transaction=True)
def test_two_versions_overlapping_retried_batches_from_threads_store_each_pair_once():
    model, production = binary_model()
    shadow = version_create(model=model, version="shadow-1", features=SCHEMA, stage="shadow", threshold=0.5)
    prod, shad = "2024-06-01", "shadow-1"
    # Four clients at once: production and shadow loggers each send a batch and a retry that
    # overlaps it (reversed, so unordered inserts would deadlock), and one client mixes both
    # versions of the same requests in one batch.
    jobs = [
        versioned(prod, range(0, 1200)),
        versioned(prod, reversed(range(600, 1800))),
        versioned(shad, range(300, 1500)),
        versioned(shad, reversed(range(0, 900))) + versioned(prod, range(1500, 2000)),
    ]
    results = run_threads(*[lambda batch=batch: predictions_ingest(model=model, rows=batch) for batch in jobs])
    stored_prod, stored_shadow = set(range(0, 2000)), set(range(0, 1500))
    assert sum(r["accepted"] for r in results) == len(stored_prod) + len(stored_shadow)
    assert sum(r["duplicates"] for r in results) == sum(map(len, jobs)) - len(stored_prod) - len(stored_shadow)
    assert all(r["rejected"] == [] for r in results)
    for version, expected in ((production, stored_prod), (shadow, stored_shadow)):
        ids = list(Prediction.objects.filter(version=version).values_list("request_id", flat=True))
        assert len(ids) == len(set(ids)) == len(expected)
        assert set(ids) == {f"r-{i}" for i in expected}
        assert set(Prediction.objects.filter(version=version).values_list("served", flat=True)) == {
            version.serves_traffic}
    # Sketches agree with the rows: nothing folded twice, every duplicate counted once.
    sketches_compact_all(version_id=production.pk)
    sketches_compact_all(version_id=shadow.pk)
    dup = 0
    for version, expected in ((production, stored_prod), (shadow, stored_shadow)):
        sketch = sketch_range_get(version=version, start=DAY[0], end=DAY[1]).sketch
        assert int(sketch.count("rows")) == len(expected)
        dup += int(sketch.count("dup"))
    assert dup == sum(r["duplicates"] for r in results)


@pytest.mark.django_db(transaction=True)
def test_labels_racing_both_versions_predictions_fold_once_per_version():
    model, production = binary_model()
    shadow = version_create(model=model, version="shadow-1", features=SCHEMA, stage="shadow", threshold=0.5)
    labels = [{"request_id": f"r-{i}", "label": i % 2} for i in range(0, 1000, 2)]
    run_threads(
        lambda: predictions_ingest(model=model, rows=versioned("2024-06-01", range(1000))),
        lambda: predictions_ingest(model=model, rows=versioned("shadow-1", reversed(range(1000)))),
        lambda: labels_ingest(model=model, rows=labels),
    )
    for version in (production, shadow):
        sketch = sketch_range_get(version=version, start=DAY[0], end=DAY[1]).sketch
        assert int(sketch.count("lab:n")) == len(labels), version.version
