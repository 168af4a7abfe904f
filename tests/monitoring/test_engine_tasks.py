"""The engine's scheduled work on a real Celery worker and broker, and its beat entry."""

import time
from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings

from monitoring.models import AnalysisResult, ReferenceProfile, SketchPartial, WindowSketch
from monitoring.services.ingest import predictions_ingest
from monitoring.services.reference import reference_store

from .engine_factories import T0, api_rows, draw, make_version


def test_compaction_is_on_the_beat_schedule():
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["monitoring-compact-analyse"]
    assert entry["schedule"] <= 60
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    for name in ("analyse_version_task", "build_reference_profile_task"):
        task = app.tasks[f"monitoring.tasks.{name}"]
        assert task.acks_late and task.autoretry_for


def _wait(check, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def _reference_rows(n=1500):
    d = draw(n, np.random.default_rng(31))
    return [
        {
            "features": {
                "income": float(d["income"][i]),
                "age": float(d["age"][i]),
                "region": str(d["region"][i]),
                "has_car": bool(d["has_car"][i]),
            },
            "score": float(d["score"][i]),
            "label": int(d["label"][i]),
        }
        for i in range(n)
    ]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_predictions_before_reference_then_scheduled_analysis_on_a_real_worker():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from monitoring.tasks import compact_sketches_task

    version = make_version()
    rows = api_rows(draw(240, np.random.default_rng(32), shift=1.0), hours=2)
    assert predictions_ingest(model=version.model, rows=rows)["accepted"] == 240
    assert not SketchPartial.objects.filter(binned=True).exists()  # no reference yet: counts only, no bins
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        # Storing the reference enqueues the profile build, which re-folds the early rows.
        reference_store(version=version, rows=_reference_rows())
        assert _wait(lambda: ReferenceProfile.objects.filter(version=version).exists()
                     and WindowSketch.objects.filter(version=version).exists()
                     and not WindowSketch.objects.filter(version=version, binned=False).exists())
        more = api_rows(draw(60, np.random.default_rng(33), shift=1.0), start=T0 + timedelta(hours=2), prefix="b")
        predictions_ingest(model=version.model, rows=more)
        compact_sketches_task.delay()  # what beat runs every minute
        assert _wait(lambda: AnalysisResult.objects.filter(version=version, granularity="hour").count() == 3)
    assert not SketchPartial.objects.exists()
    day = AnalysisResult.objects.get(version=version, granularity="day")
    assert day.payload["rows"] == 300
    assert day.payload["drift"]["drifted_features"] == ["income"]
    assert day.payload["skew"] == {"drifted_features": ["income"]}  # first production window
