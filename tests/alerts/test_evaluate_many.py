"""The versions an analysis task analysed are evaluated together: the same alerts, transitions and
cursors as one at a time, in the same fixed number of queries whatever their number. The windows
come from the real pipeline (ingestion, compaction, analysis)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, AlertWindow, EvaluationCursor
from alerts.services.evaluate import alerts_evaluate, alerts_evaluate_many
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from tests.monitoring.engine_factories import api_rows, draw, make_version, store_reference

from .test_evaluate_queries import EVALUATION_QUERIES

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
SHIFTS = (0.0, 3.0, 0.0)  # the second version's inputs drift from its third hour


def _versions(prefix: str) -> list:
    out = []
    for k in range(len(SHIFTS)):
        version = make_version(slug=f"{prefix}-{k}")
        store_reference(version)
        out.append(version)
    return out


def _hour(versions, start, h):
    for k, version in enumerate(versions):
        shift = SHIFTS[k] if h >= 2 else 0.0
        d = draw(300, np.random.default_rng(100 * k + h), shift=shift)
        rows = api_rows(d, start=start, hours=1, prefix=f"{version.model.slug}-{h}")
        assert predictions_ingest(model=version.model, rows=rows)["accepted"] == 300
    sketches_compact_all()
    for version in versions:
        version_analyse(version_id=version.id)


def _state(version) -> dict:
    alerts = {(a.rule.name, tuple(a.features)): (a.state, a.breach_streak, a.clear_streak, a.value, a.last_window_end)
              for a in Alert.objects.filter(version=version).select_related("rule")}
    windows = sorted((w.alert.rule.name, tuple(w.alert.features), w.window_start, w.breached, w.value)
                     for w in AlertWindow.objects.filter(alert__version=version).select_related("alert__rule"))
    cursors = sorted((c.rule.name, c.window_end) for c in EvaluationCursor.objects.filter(version=version)
                     .select_related("rule"))
    return {"alerts": alerts, "windows": windows, "cursors": cursors}


def test_evaluated_together_or_one_by_one_the_same():
    alone, together = _versions("alone"), _versions("together")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    moved_alone, moved_together = [], []
    for h in range(5):
        start = hour - (5 - h) * HOUR
        _hour(alone, start, h)
        _hour(together, start, h)
        now = start + HOUR + timedelta(minutes=5)
        moved_alone.append([sorted((t.alert.rule.name, t.state) for t in alerts_evaluate(version_id=v.id, now=now,
                                                                                           after_analysis=True))
                            for v in alone])
        batch = alerts_evaluate_many(version_ids=[v.id for v in together], now=now, after_analysis=True)
        moved_together.append([sorted((t.alert.rule.name, t.state) for t in batch.get(v.id, [])) for v in together])
    assert moved_alone == moved_together
    for a, b in zip(alone, together, strict=True):
        assert _state(a) == _state(b)
    # The drifted version's inputs fired; the others' did not.
    assert Alert.objects.filter(version=together[1], kind="drift", state="firing").exists()
    assert not Alert.objects.filter(version__in=[together[0], together[2]], kind="drift", state="firing").exists()


def test_a_batch_runs_as_many_queries_as_one_version():
    versions = _versions("many")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for h in range(4):
        _hour(versions, hour - (6 - h) * HOUR, h)
    alerts_evaluate_many(version_ids=[v.id for v in versions], now=hour - 2 * HOUR + timedelta(minutes=5))
    _hour(versions, hour - 2 * HOUR, 4)
    with CaptureQueriesContext(connection) as queries:
        moved = alerts_evaluate_many(version_ids=[v.id for v in versions], now=hour - HOUR + timedelta(minutes=5),
                                     after_analysis=True)
    sql = [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] not in ("SAVEPOINT", "RELEASE")]
    # The locks with the versions, the rules with their cursors, the analysis marks, the stored
    # windows, the alerts, and one write: for three versions as for one.
    assert len(sql) == EVALUATION_QUERIES, sql
    assert sum("UPDATE alerts_alert " in q for q in sql) == 1
    assert set(moved) == {v.id for v in versions} and not any(moved.values())  # the drift fired before
    assert Alert.objects.filter(version=versions[1], kind="drift", state="firing").exists()


def test_missing_versions_are_skipped_in_a_batch_and_refused_alone():
    version = _versions("gone")[0]
    assert alerts_evaluate_many(version_ids=[version.id, 987654321]).keys() <= {version.id}
    with pytest.raises(type(version).DoesNotExist):
        alerts_evaluate(version_id=987654321, after_analysis=True)


def test_the_compaction_deals_chunks_and_each_chunk_asks_for_one_evaluation(monkeypatch):
    from alerts import tasks as alert_tasks
    from monitoring import tasks

    versions = _versions("chunk")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for k, version in enumerate(versions):
        rows = api_rows(draw(200, np.random.default_rng(k)), start=hour - 2 * HOUR, hours=1, prefix=f"c{k}")
        predictions_ingest(model=version.model, rows=rows)
    dealt, asked = [], []
    monkeypatch.setattr(tasks, "ANALYSIS_CHUNK", 2)
    monkeypatch.setattr(tasks.analyse_version_task, "delay", lambda ids: dealt.append(ids))
    tasks.compact_sketches_task()
    assert sorted(map(len, dealt)) == [1, 2] and sorted(v for chunk in dealt for v in chunk) == [v.id for v in versions]

    monkeypatch.setattr(alert_tasks.evaluate_alerts_task, "delay", lambda ids: asked.append(ids))
    for chunk in dealt:
        assert tasks.analyse_version_task(chunk) > 0
    assert sorted(asked, key=len) == sorted(dealt, key=len)  # one evaluation per chunk, of the chunk
    assert tasks.analyse_version_task(dealt[0]) == 0 and len(asked) == 2  # nothing new: nothing asked
    assert alert_tasks.evaluate_alerts_task([v.id for v in versions]) >= 0
    assert EvaluationCursor.objects.filter(version__in=versions).exists()
