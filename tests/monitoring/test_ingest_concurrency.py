"""Two clients with their own connections send overlapping batches at the same moment."""

import pytest

from monitoring.models import Label, Prediction
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest

from ..threads import run_threads
from .ingest_factories import binary_model, rows


@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_store_each_row_exactly_once():
    model, _ = binary_model()
    # Reversed order in the second batch makes lock-order deadlocks likely if inserts were unordered.
    first = rows(0, 1500)
    second = list(reversed(rows(750, 2250)))
    a, b = run_threads(lambda: predictions_ingest(model=model, rows=first),
                        lambda: predictions_ingest(model=model, rows=second))
    assert Prediction.objects.filter(model=model).count() == 2250
    assert a["accepted"] + b["accepted"] == 2250
    assert a["duplicates"] + b["duplicates"] == 750
    assert a["rejected"] == b["rejected"] == []


@pytest.mark.django_db(transaction=True)
def test_retry_racing_the_original_is_all_duplicates_for_one_of_them():
    model, _ = binary_model()
    batch = rows(0, 800)
    a, b = run_threads(lambda: predictions_ingest(model=model, rows=batch),
                        lambda: predictions_ingest(model=model, rows=batch))
    assert a["accepted"] + b["accepted"] == 800
    assert a["duplicates"] + b["duplicates"] == 800
    assert Prediction.objects.count() == 800


@pytest.mark.django_db(transaction=True)
def test_concurrent_labels_for_the_same_requests_keep_one_row_each():
    model, _ = binary_model()
    ones = [{"request_id": f"r-{i}", "label": 1} for i in range(300)]
    zeros = [{"request_id": f"r-{i}", "label": 0} for i in reversed(range(150, 450))]
    a, b = run_threads(lambda: labels_ingest(model=model, rows=ones),
                        lambda: labels_ingest(model=model, rows=zeros))
    assert a["pending"] == 300 and b["pending"] == 300
    assert Label.objects.count() == 450


@pytest.mark.django_db(transaction=True)
def test_a_batch_waiting_on_an_uncommitted_overlap_does_not_freeze_the_process():
    # The second batch's COPY waits on rows the first thread has not committed; that thread
    # must still run (its Python work, then its commit) while the COPY waits.
    import threading
    import time

    from django.db import transaction

    model, _ = binary_model()
    inserted = threading.Event()

    def holder():
        with transaction.atomic():
            predictions_ingest(model=model, rows=rows(0, 10))
            inserted.set()
            time.sleep(1.0)  # Python work while the rows are uncommitted
        return "committed"

    def overlapping():
        inserted.wait(10)
        return predictions_ingest(model=model, rows=rows(5, 15))

    started = time.monotonic()
    held, result = run_threads(holder, overlapping)
    assert held == "committed"
    assert (result["accepted"], result["duplicates"]) == (5, 5)
    assert time.monotonic() - started < 10
    assert Prediction.objects.count() == 15

