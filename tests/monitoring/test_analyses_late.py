"""The model page says when analyses fall behind the data (issue 10 item 3)."""

from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from core.roles import DATA_SCIENTISTS
from monitoring.models import SketchPartial, WindowSketch
from monitoring.services import compaction
from monitoring.services.analysis import version_analyse

from .engine_factories import T0, batch, draw, make_version, store_predictions, store_reference

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client):
    user = User.objects.create_user("sci")
    user.groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
    client.force_login(user)
    return lambda: client.get("/models/loan/?range=custom&start=2026-01-01&end=2030-01-01").content.decode()


def test_waiting_partials_older_than_a_few_minutes_are_reported(page, settings):
    version = make_version()
    store_reference(version)
    store_predictions(version, batch(draw(200, np.random.default_rng(1)), start=T0, hours=2))
    assert "Analyses are late" not in page()  # just received: compaction has a minute to run

    SketchPartial.objects.update(created_at=timezone.now() - timedelta(seconds=settings.VIGIL_ANALYSIS_LATE_SECONDS + 60))
    assert "Analyses are late" in page()

    compaction.sketches_compact_all()
    version_analyse(version_id=version.pk)
    assert "Analyses are late" not in page()


def test_windows_compacted_but_not_analysed_are_reported(page, settings):
    version = make_version()
    store_reference(version)
    store_predictions(version, batch(draw(200, np.random.default_rng(2)), start=T0, hours=2))
    compaction.sketches_compact_all()
    WindowSketch.objects.update(changed_at=timezone.now() - timedelta(seconds=settings.VIGIL_ANALYSIS_LATE_SECONDS + 60))
    assert "Analyses are late" in page()
    version_analyse(version_id=version.pk)
    assert "Analyses are late" not in page()
