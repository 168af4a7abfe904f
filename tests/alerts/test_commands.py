"""``manage.py evaluate_alerts``: ``--now`` evaluates as of a past time (the demo seed's replay);
a future or unreadable time is refused."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.models import Alert, AlertEvent, EvaluationCursor
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from tests.monitoring.engine_factories import api_rows, draw, make_version, store_reference

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.mark.parametrize("when", ["yesterday", "2026-13-01T00:00", "future"])
def test_a_future_or_unreadable_now_is_refused(when):
    make_version(slug="loan-default")
    if when == "future":
        when = (datetime.now(UTC) + HOUR).isoformat()
    with pytest.raises(CommandError, match="--now"):
        call_command("evaluate_alerts", model="loan-default", now=when)
    assert not EvaluationCursor.objects.exists()


def test_now_moves_the_alerts_as_of_then():
    version = make_version(slug="loan-default")
    store_reference(version)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # Three hours of drifted income, then three calm ones, all analysed before either evaluation.
    rows = (api_rows(draw(900, np.random.default_rng(6), shift=2.0), start=hour - 6 * HOUR, hours=3, prefix="d")
            + api_rows(draw(900, np.random.default_rng(7)), start=hour - 3 * HOUR, hours=3, prefix="c"))
    assert predictions_ingest(model=version.model, rows=rows)["accepted"] == 1800
    sketches_compact_all()
    version_analyse(version_id=version.id)

    # As of just after the drifted hours (naive: UTC), the calm ones have not happened: firing.
    then = hour - 3 * HOUR + timedelta(minutes=5)
    call_command("evaluate_alerts", model="loan-default", now=then.replace(tzinfo=None).isoformat(), no_send=True)
    drift = Alert.objects.get(version=version, kind="drift", features=["income"])
    assert drift.state == "firing" and drift.last_window_end <= then
    assert drift.started_at == hour - 4 * HOUR  # the second drifted hour closed (two windows to fire)

    # At the real now the first calm hour resolves it.
    call_command("evaluate_alerts", model="loan-default", no_send=True)
    drift.refresh_from_db()
    assert drift.state == "resolved" and drift.resolved_at == hour - 2 * HOUR
    assert list(AlertEvent.objects.filter(alert=drift).order_by("id").values_list("state", flat=True)) == [
        "pending", "firing", "resolved"]
