"""Several processes on one database and broker (issue 15): an engine worker (queue ``engine``), a
notify worker (queue ``notify``) and beat. The engine worker is killed with SIGKILL twice, in the
middle of a compaction and then of an analysis of a version with data, and started again each
time. Afterwards its sketches, analysis results, alerts and emails are exactly those of the same
data processed undisturbed: nothing lost, nothing doubled.

The test stops the worker mid-task without hooks in the code: it holds a SHARE lock on the table
the task writes next, waits until the worker's statement waits on it, then kills the worker.
"""

import math
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from alerts.models import Alert, AlertEvent, Notification
from config.celery import app
from core.roles import DATA_SCIENTISTS
from monitoring.engine.sketch_codec import Sketch
from monitoring.models import AnalysisResult, SketchPartial, WindowSketch
from monitoring.services.ingest import predictions_ingest

from .alerts.smtp import start_sink
from .monitoring.engine_factories import api_rows, draw, make_version, store_reference
from .processes import Broker, beat, process_env, wait_for, worker

CALM, KILLED = "calm-path", "killed-path"


def _sketches(version) -> dict:
    out = {}
    for g, ws, seg, data, sample in WindowSketch.objects.filter(version=version).values_list(
        "granularity", "window_start", "segment", "data", "sample"
    ):
        out[(g, ws, seg)] = Sketch.from_bytes(bytes(data), bytes(sample) if sample is not None else None)
    return out


def _same_sketch(a: Sketch, b: Sketch) -> None:
    assert set(a.arrays) == set(b.arrays)
    for key in a.arrays:
        if key == "sample":  # a bounded random sample: same size, drawn from the same population
            assert a.arrays[key].shape == b.arrays[key].shape
        elif np.issubdtype(a.arrays[key].dtype, np.integer):
            np.testing.assert_array_equal(a.arrays[key], b.arrays[key], err_msg=key)
        else:
            np.testing.assert_allclose(a.arrays[key], b.arrays[key], rtol=1e-12, atol=0, err_msg=key)
    assert a.unseen == b.unseen and a.sample_population == b.sample_population


def _same_payload(a, b, where="payload") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for key in a:
            if key == "multivariate" and a[key] is not None:
                # Scored on the window's row sample, which ingestion draws at random (unseeded):
                # two ingests of the same rows keep different samples, killed or not.
                assert set(a[key]) == set(b[key]), where
                continue
            _same_payload(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_payload(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (where, a, b)
    else:
        assert a == b, (where, a, b)


def _results(version) -> dict:
    return {(r.granularity, r.window_start, r.segment): r.payload for r in AnalysisResult.objects.filter(version=version)}


def _alerts(version) -> tuple:
    alerts = sorted(Alert.objects.filter(version=version).values_list("kind", "state", "features", "segment"))
    events = sorted(AlertEvent.objects.filter(alert__version=version).values_list("alert__kind", "state", "window_end"))
    return alerts, events


def _notifications(version, slug: str) -> list:
    return sorted(
        (n.kind, n.channel, n.recipient, n.status, n.subject.replace(slug, "<model>"))
        for n in Notification.objects.filter(model=version.model)
    )


def _emails(sink, slug: str) -> list[str]:
    # Unfolded: a longer model name folds the Subject header at another place.
    subjects = [" ".join(s.split()) for s in sink.subjects()]
    return sorted(s.replace(slug, "<model>") for s in subjects if slug in s)


def _lock(table: str):
    """A second connection holding SHARE on ``table`` until released: writers wait, readers do not."""
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = False
    with raw.cursor() as cur:
        cur.execute(f"LOCK TABLE {table} IN SHARE MODE")
    return raw


def _waiting_on(table: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table])
        return cur.fetchone()[0] > 0


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_an_engine_worker_killed_mid_compaction_and_mid_analysis_loses_and_doubles_nothing(settings, tmp_path):
    sink, controller = start_sink(settings)
    broker = Broker(tmp_path / "redis")
    processes = []
    locks = []
    try:
        user = User.objects.create_user("ds", "ds@example.com", "pw")
        user.groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = hour - timedelta(hours=8)
        data = draw(900, np.random.default_rng(6), shift=2.0)  # income drifts: a FIRING alert

        # The undisturbed path: the same tasks, run eagerly in this process, one after the other.
        calm = make_version(slug=CALM)
        store_reference(calm)
        assert predictions_ingest(model=calm.model, rows=api_rows(data, start=start, hours=3, prefix="c"))["accepted"] == 900
        from monitoring.tasks import compact_sketches_task

        app.conf.task_always_eager = True
        try:
            compact_sketches_task()
        finally:
            app.conf.task_always_eager = False
        assert _emails(sink, CALM), "the undisturbed path sent no alert: nothing to compare"

        # The same rows for another model, processed by the real processes.
        killed = make_version(slug=KILLED)
        store_reference(killed)
        assert predictions_ingest(model=killed.model, rows=api_rows(data, start=start, hours=3, prefix="k"))[
            "accepted"] == 900  # fmt: skip
        partials = SketchPartial.objects.filter(version=killed).count()
        assert partials > 0
        compaction_lock = _lock("monitoring_window_sketch")
        analysis_lock = _lock("monitoring_analysis_result")
        locks += [compaction_lock, analysis_lock]

        env = process_env(broker, VIGIL_COMPACT_SECONDS="2", VIGIL_ALERT_SEND_SECONDS="2",
                          VIGIL_BROKER_VISIBILITY_SECONDS="8", VIGIL_BEAT_STANDBY_SECONDS="1",
                          EMAIL_BACKEND=settings.EMAIL_BACKEND, EMAIL_HOST="127.0.0.1",
                          EMAIL_PORT=str(settings.EMAIL_PORT))  # fmt: skip
        engine = worker("engine", "engine", env, tmp_path)
        notify = worker("notify", "notify", env, tmp_path)
        scheduler = beat("beat", env, tmp_path)
        processes += [engine, notify, scheduler]

        # 1. Killed mid-compaction: it has claimed (deleted) the partials and waits to write windows.
        wait_for(lambda: _waiting_on("monitoring_window_sketch"), 240, "a compaction writing windows", *processes)
        engine.kill()
        compaction_lock.commit()
        wait_for(lambda: not _waiting_on("monitoring_window_sketch"), 60, "the killed compaction's backend to end")
        assert SketchPartial.objects.filter(version=killed).count() == partials  # rolled back: claimed again later
        assert not WindowSketch.objects.filter(version=killed).exists()

        # 2. Started again, then killed mid-analysis: windows written, results waiting to be saved.
        engine.start()
        wait_for(lambda: _waiting_on("monitoring_analysis_result"), 240, "an analysis saving results", *processes)
        assert not SketchPartial.objects.filter(version=killed).exists()
        engine.kill()
        analysis_lock.commit()
        wait_for(lambda: not _waiting_on("monitoring_analysis_result"), 60, "the killed analysis's backend to end")
        assert not AnalysisResult.objects.filter(version=killed).exists()

        # 3. Started again: the beat's next compaction (and the redelivered messages) finish the work.
        engine.start()
        expected = _emails(sink, CALM)
        wait_for(lambda: len(_emails(sink, KILLED)) >= len(expected), 240, "the alert emails", *processes)
        # Let redeliveries (visibility 8 s) and a few more beat rounds run: nothing may be added twice.
        time.sleep(20)
        for p in processes:
            assert p.alive(), p.output()[-3000:]
    finally:
        for lock in locks:
            lock.close()
        for p in processes:
            p.stop()
        broker.stop()
        controller.stop()

    assert _emails(sink, KILLED) == expected
    assert _notifications(killed, KILLED) == _notifications(calm, CALM)
    assert _alerts(killed) == _alerts(calm)
    assert not SketchPartial.objects.filter(version__in=[calm, killed]).exists()
    want, got = _sketches(calm), _sketches(killed)
    assert sorted(got) == sorted(want) and want
    for key in want:
        _same_sketch(got[key], want[key])
    want, got = _results(calm), _results(killed)
    assert sorted(got) == sorted(want) and want
    for key in want:
        _same_payload(got[key], want[key], str(key))
