"""The importance task on a real Celery worker and broker, and its place on the beat schedule."""

import datetime as dt
import time

import pytest
from django.conf import settings

from . import factories as f


def test_trend_task_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["explain-importance-trends"]
    assert entry["task"] == "explain.tasks.importance_trends_task"
    assert entry["schedule"] <= 3600
    from config.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_importance_task_runs_on_a_real_worker(settings):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from explain.models import ImportanceWindow
    from explain.services import artifact_upload
    from explain.tasks import importance_trends_task

    settings.VIGIL_IMPORTANCE_SAMPLE_PER_DAY = 20
    version = f.make_version()
    text, booster = f.lightgbm_text(f.rows(200))
    artifact_upload(version=version, data=text.encode())
    data = f.rows(40, seed=3)
    f.add_predictions(version, data, booster.predict(f.frame(data)), dt.datetime(2026, 11, 1, 20, tzinfo=dt.UTC),
                      spacing=dt.timedelta(minutes=10))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        importance_trends_task.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ImportanceWindow.objects.filter(day__isnull=False).count() < 2:
            time.sleep(0.5)
    days = sorted(ImportanceWindow.objects.filter(version=version, day__isnull=False).values_list("day", flat=True))
    assert [d.isoformat() for d in days] == ["2026-11-01", "2026-11-02"]
    assert ImportanceWindow.objects.filter(version=version, day__isnull=True).exists()
