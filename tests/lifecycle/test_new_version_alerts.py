"""A version whose traffic starts mid-day (a new shadow or candidate) is not "without data" for
the hours of its first day before its first prediction: the gate's no-critical-alert check
must not fail on hours that never could have held rows."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import Alert
from alerts.services.evaluate import alerts_evaluate
from lifecycle.services.gate import health_checks
from monitoring.models import AnalysisResult

from .factories import binary_model, version

pytestmark = pytest.mark.django_db

FIRST = datetime(2026, 11, 24, 19, tzinfo=UTC)  # the shadow's first prediction: 19:00-20:00
NOW = datetime(2026, 11, 29, 19, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_hours_before_a_versions_first_prediction_raise_no_no_data_alert():
    model = binary_model()
    shadow = version(model, "2026.2", stage="shadow")
    t = FIRST
    while t + HOUR <= NOW:
        AnalysisResult.objects.create(version=shadow, granularity="hour", window_start=t, sketch_changed_at=t,
                                      payload={"rows": 80})
        t += HOUR
    day = FIRST.replace(hour=0)
    while day < NOW:
        rows = 80 * sum(1 for h in range(24) if FIRST <= day + h * HOUR < NOW)
        AnalysisResult.objects.create(version=shadow, granularity="day", window_start=day, sketch_changed_at=day,
                                      payload={"rows": rows})
        day += timedelta(days=1)

    alerts_evaluate(version_id=shadow.pk, now=NOW)
    assert not Alert.objects.filter(version=shadow, kind="no_data").exists()
    check = next(c for c in health_checks(candidate=shadow) if c["name"] == "no_critical_alert")
    assert check["outcome"] == "pass" and check["evidence"]["alerts"] == []

    # A real gap after the first prediction is still one: hours pass and none brings rows.
    alerts_evaluate(version_id=shadow.pk, now=NOW + 3 * HOUR)
    assert Alert.objects.filter(version=shadow, kind="no_data", state="firing").exists()
