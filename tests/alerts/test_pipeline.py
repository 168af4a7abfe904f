"""End to end on a real Celery worker and broker and a real SMTP server: a drifted batch leads
to one FIRING email naming the features, a recovery to one RESOLVED email. (Backfills: test_evaluate.)"""

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


def _wait(check, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def _state():
    from alerts.models import AlertEvent, EvaluationCursor
    from monitoring.models import AnalysisResult

    return (AnalysisResult.objects.count(), list(Alert.objects.values_list("kind", "state")),
            list(AlertEvent.objects.values_list("alert__kind", "state", "window_end", "note")),
            list(EvaluationCursor.objects.values_list("rule__kind", "window_end")),
            list(Notification.objects.values_list("subject", "status", "last_error")))


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_drift_fires_one_email_naming_the_features_and_recovery_one_resolved(settings):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from monitoring.tasks import compact_sketches_task

    sink, controller = start_sink(settings)
    try:
        user = User.objects.create_user("ds", "ds@example.com", "pw")
        user.groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
        version = make_version(slug="loan-default")
        store_reference(version)
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = hour - timedelta(hours=6)
        drifted = api_rows(draw(900, np.random.default_rng(6), shift=2.0), start=start, hours=3, prefix="d")
        assert predictions_ingest(model=version.model, rows=drifted)["accepted"] == 900
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            compact_sketches_task.delay()
            assert _wait(lambda: len(sink.messages) >= 1), ("no FIRING email", _state())
            time.sleep(3)
            assert len(sink.messages) == 1
            subject = sink.subjects()[0]
            assert "FIRING loan-default" in subject and "income" in subject
            text = sink.text(0)
            assert "income" in text and "drift" in text
            fired = Alert.objects.get(kind="drift", state="firing")
            assert fired.features == ["income"]

            calm = api_rows(draw(900, np.random.default_rng(7)), start=start + timedelta(hours=3), hours=3, prefix="c")
            predictions_ingest(model=version.model, rows=calm)
            compact_sketches_task.delay()
            assert _wait(lambda: len(sink.messages) >= 2), ("no RESOLVED email", _state())
            time.sleep(3)
        assert len(sink.messages) == 2
        assert "RESOLVED loan-default" in sink.subjects()[1]
        assert Notification.objects.filter(status="sent").count() == 2
    finally:
        controller.stop()
