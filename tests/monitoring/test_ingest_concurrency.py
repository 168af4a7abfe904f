"""Two clients with their own connections send overlapping batches at the same moment."""

import time

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
def test_a_batch_overlapping_uncommitted_rows_waits_outside_the_copy():
    # psycopg2 holds the GIL at the end of a COPY; a COPY waiting on another thread's
    # uncommitted rows can freeze that thread for good (see ingest.COPY_LOCK_TIMEOUT). The
    # direct COPY must give up within its lock timeout and wait in the staging INSERT.
    import threading

    from django.db import connection, transaction

    model, _ = binary_model()
    inserted, release = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            predictions_ingest(model=model, rows=rows(0, 10))
            inserted.set()
            release.wait(30)
        return "committed"

    def overlapping():
        inserted.wait(10)
        return predictions_ingest(model=model, rows=rows(5, 15))

    def observer():
        inserted.wait(10)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND wait_event_type = 'Lock'")
                    waiting = [q.strip() for (q,) in cursor.fetchall()]
                if waiting:
                    time.sleep(0.3)  # longer than the COPY's lock timeout: look again
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND wait_event_type = 'Lock'")
                        return [q.strip() for (q,) in cursor.fetchall()]
                time.sleep(0.02)
            return []
        finally:
            release.set()

    held, result, waiting = run_threads(holder, overlapping, observer)
    assert held == "committed"
    assert len(waiting) == 1 and waiting[0].startswith("INSERT INTO monitoring_prediction"), waiting
    assert (result["accepted"], result["duplicates"]) == (5, 5)
    assert Prediction.objects.count() == 15
