"""An evaluation re-reads exactly the windows analysed since its last read: not the window of the
previous analysis (no slack around the last read's computed_at), and a re-analysed old window even
when the results before it carry a computed_at ahead of the clock (a worker's clock ahead)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from alerts.services import evaluate
from alerts.services.evaluate import alerts_evaluate
from monitoring.models import AnalysisResult
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from tests.monitoring.engine_factories import api_rows, draw, make_version, store_reference

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def _hour(version, start, seed, n=300):
    rows = api_rows(draw(n, np.random.default_rng(seed)), start=start, hours=1, prefix=f"r{seed}")
    assert predictions_ingest(model=version.model, rows=rows)["accepted"] == n
    sketches_compact_all()
    version_analyse(version_id=version.id)


@pytest.fixture
def hours_read(monkeypatch):
    """The starts of the closed hourly windows each evaluation read (the real read, observed)."""
    read: list[set[datetime]] = []
    real = evaluate.conditions_read_many

    def observed(**kwargs):
        found = real(**kwargs)
        for (_, granularity, *_), conditions in zip(kwargs["requests"], found, strict=True):
            if granularity == "hour":
                read[-1].update(c.window_start for c in conditions if c.window_end <= kwargs["now"])
        return found

    monkeypatch.setattr(evaluate, "conditions_read_many", observed)

    def run(version, now):
        read.append(set())
        alerts_evaluate(version_id=version.id, now=now, after_analysis=True)
        return read[-1]

    return run


def test_back_to_back_cycles_read_only_the_new_window(hours_read):
    version = make_version(slug="loan-default")
    store_reference(version)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for k in range(4):
        _hour(version, hour - (6 - k) * HOUR, seed=k)
    first = hours_read(version, hour - 2 * HOUR + timedelta(minutes=5))
    assert hour - 6 * HOUR in first and hour - 3 * HOUR in first
    for k in range(2):
        _hour(version, hour - (2 - k) * HOUR, seed=10 + k)
        # Right after the previous cycle: the previous window is not judged again.
        assert hours_read(version, hour - (1 - k) * HOUR + timedelta(minutes=5)) == {hour - (2 - k) * HOUR}


def test_an_old_window_re_analysed_is_read_again_whatever_the_clock_that_wrote_the_results(hours_read):
    version = make_version(slug="loan-default")
    store_reference(version)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for k in range(4):
        _hour(version, hour - (6 - k) * HOUR, seed=k)
    # The stored results were written by a worker whose clock ran an hour ahead.
    ahead = datetime.now(UTC) + HOUR
    AnalysisResult.objects.filter(version=version).update(computed_at=ahead)
    hours_read(version, hour - 2 * HOUR + timedelta(minutes=5))
    assert hours_read(version, hour - 2 * HOUR + timedelta(minutes=6)) == set()  # nothing new
    # Late rows for an old hour: re-analysed now, by a clock an hour behind the stored results.
    _hour(version, hour - 5 * HOUR, seed=20, n=50)
    redone = AnalysisResult.objects.get(version=version, granularity="hour", segment="", window_start=hour - 5 * HOUR)
    assert redone.computed_at > ahead
    read = hours_read(version, hour - 2 * HOUR + timedelta(minutes=7))
    assert min(read) == hour - 5 * HOUR
    assert hour - 6 * HOUR not in read


def test_the_alerts_an_evaluation_moves_are_written_in_one_update():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.models import Alert, State

    from .factories import NOW, hours, make_model

    version = make_model()
    features = ["income", "age", "debt"]
    first = [c for f in features for c in hours("drift", ".x", end=NOW - HOUR, feature=f, metric="js")]
    alerts_evaluate(version_id=version.id, now=NOW - HOUR, conditions=first)
    before = {a.features[0]: a.updated_at for a in Alert.objects.filter(version=version, kind="drift")}
    assert set(before) == set(features)
    # The next hour: income and age breach again (firing), debt recovers.
    second = [c for f in features for c in hours("drift", "x" if f != "debt" else ".", feature=f, metric="js")]
    with CaptureQueriesContext(connection) as queries:
        alerts_evaluate(version_id=version.id, now=NOW, conditions=second)
    # One statement writes them all (with the judged windows and cursors, as CTEs of one statement).
    updates = [q["sql"] for q in queries.captured_queries if "UPDATE alerts_alert " in q["sql"]]
    assert len(updates) == 1 and updates[0].count("UPDATE alerts_alert ") == 1, updates
    after = {a.features[0]: a for a in Alert.objects.filter(version=version, kind="drift")}
    assert after["income"].state == after["age"].state == State.FIRING
    assert after["debt"].state != State.FIRING and after["debt"].value == pytest.approx(0.1)
    assert after["income"].value == pytest.approx(0.4) and after["income"].last_window_end == NOW
    assert all(after[f].updated_at > before[f] for f in features)
