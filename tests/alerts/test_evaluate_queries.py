"""One evaluation of a version with the default rules runs a fixed number of queries, and a
version with nothing analysed since its last evaluation costs one. The windows come from the real
pipeline (ingestion, compaction, analysis), so the health conditions read is the real one."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, AlertRule, EvaluationCursor
from alerts.services.evaluate import alerts_evaluate
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from tests.monitoring.engine_factories import api_rows, draw, make_version, store_reference

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
# The pipeline's evaluation, right after an analysis (no idle check): the version, taking the lock;
# the rules with their cursors and the newest analysis; one aggregate (newest analysis, first
# windows, re-analysed windows); the hourly windows with the daily ones (the label delay and
# reference) in one read; the alerts; every cursor in one UPDATE.
EVALUATION_QUERIES = 6


def _hour(version, start, seed):
    rows = api_rows(draw(300, np.random.default_rng(seed)), start=start, hours=1, prefix=f"q{seed}")
    assert predictions_ingest(model=version.model, rows=rows)["accepted"] == 300
    sketches_compact_all()
    version_analyse(version_id=version.id)


def _counted(version, now, after_analysis=False):
    with CaptureQueriesContext(connection) as queries:
        alerts_evaluate(version_id=version.id, now=now, after_analysis=after_analysis)
    return [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] not in ("SAVEPOINT", "RELEASE")]


def test_one_evaluation_runs_a_fixed_number_of_queries_and_an_idle_one_a_single_query():
    version = make_version(slug="loan-default")
    store_reference(version)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for k in range(6):
        _hour(version, hour - (8 - k) * HOUR, seed=k)
    rules = AlertRule.objects.filter(model=version.model).count()
    first = _counted(version, hour - 2 * HOUR + timedelta(minutes=5))
    assert sum(q.lstrip().startswith("INSERT") for q in first) == 1  # every rule's cursor in one INSERT
    assert EvaluationCursor.objects.filter(version=version).count() == rules

    for k, seed in enumerate((6, 7)):
        _hour(version, hour - (2 - k) * HOUR, seed=seed)
        queries = _counted(version, hour - (1 - k) * HOUR + timedelta(minutes=5), after_analysis=True)
        assert len(queries) == EVALUATION_QUERIES, queries
        assert sum(q.lstrip().startswith("UPDATE") for q in queries) == 1  # not one per rule
    # Nothing analysed since, and no window closed since: one query, no lock, no write.
    assert len(_counted(version, hour + timedelta(minutes=6))) == 1
    # A window closed since (here an empty one): evaluated again, and the empty hour counts.
    assert len(_counted(version, hour + HOUR + timedelta(minutes=1))) > 1
    assert Alert.objects.get(version=version, kind="no_data").state == "pending"
