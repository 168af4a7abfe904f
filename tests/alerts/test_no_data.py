"""No data, end to end on a real worker, broker and SMTP server: two empty hours fire the default
no-data rule once; rows arriving again resolve it once. The alerts' clock is moved (the windows are
real, stored by the analysis of ingested rows)."""

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Group, User

from alerts.models import Alert, Notification
from core.roles import DATA_SCIENTISTS
from monitoring.services.ingest import predictions_ingest
from tests.monitoring.engine_factories import api_rows, draw, make_version, store_reference

from .smtp import start_sink
from .test_pipeline import _state, _wait

HOUR = timedelta(hours=1)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_gap_fires_no_data_once_and_returning_rows_resolve_it_once(settings, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from alerts import clock
    from config.celery import app
    from monitoring.tasks import compact_sketches_task

    sink, controller = start_sink(settings)
    try:
        user = User.objects.create_user("ds", "ds@example.com", "pw")
        user.groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
        version = make_version(slug="loan-default")
        store_reference(version)
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        first, gap = hour - 20 * HOUR, hour - 8 * HOUR  # 12 hours of 60 rows, then 2 empty hours
        history = api_rows(draw(720, np.random.default_rng(3)), start=first, hours=12, prefix="h")
        assert predictions_ingest(model=version.model, rows=history)["accepted"] == 720
        monkeypatch.setattr(clock, "now", lambda: gap + 2 * HOUR + timedelta(minutes=5))
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            compact_sketches_task.delay()
            assert _wait(lambda: len(sink.messages) >= 1), ("no FIRING email", _state())
            time.sleep(3)
            assert sink.subjects() == [sink.subjects()[0]]
            assert "CRITICAL FIRING loan-default: rows 0 <" in sink.subjects()[0]
            assert Alert.objects.get(kind="no_data").state == "firing"

            back = api_rows(draw(60, np.random.default_rng(4)), start=gap + 2 * HOUR, hours=1, prefix="b")
            assert predictions_ingest(model=version.model, rows=back)["accepted"] == 60
            monkeypatch.setattr(clock, "now", lambda: gap + 3 * HOUR + timedelta(minutes=5))
            compact_sketches_task.delay()
            assert _wait(lambda: len(sink.messages) >= 2), ("no RESOLVED email", _state())
            time.sleep(3)
        assert len(sink.messages) == 2, sink.subjects()
        assert "RESOLVED loan-default" in sink.subjects()[1] and "rows" in sink.subjects()[1]
        assert Alert.objects.get(kind="no_data").state == "resolved"
        assert Notification.objects.filter(status="sent").count() == 2
    finally:
        controller.stop()


@pytest.mark.django_db
def test_a_model_that_stops_sending_is_evaluated_on_beat_and_its_no_data_fires(monkeypatch):
    """No rows, so no analysis and no evaluation after one: the beat's sweep of live versions
    still judges the empty hours."""
    from alerts import clock
    from alerts.tasks import evaluate_live_versions_task
    from monitoring.services.analysis import version_analyse
    from monitoring.services.compaction import sketches_compact_all

    User.objects.create_user("ds", "ds@example.com", "pw").groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
    version = make_version(slug="loan-default")
    store_reference(version)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = api_rows(draw(720, np.random.default_rng(5)), start=hour - 20 * HOUR, hours=12, prefix="s")
    assert predictions_ingest(model=version.model, rows=rows)["accepted"] == 720
    sketches_compact_all()
    version_analyse(version_id=version.id)
    monkeypatch.setattr(clock, "now", lambda: hour - 8 * HOUR + timedelta(minutes=5))
    evaluate_live_versions_task()
    assert not Alert.objects.filter(kind="no_data").exists()
    monkeypatch.setattr(clock, "now", lambda: hour - 6 * HOUR + timedelta(minutes=5))
    assert evaluate_live_versions_task() >= 1
    assert Alert.objects.get(kind="no_data").state == "firing"
    assert Notification.objects.get(kind="firing").subject.startswith("[Vigil] CRITICAL FIRING loan-default: rows 0 <")
