"""Celery queues per workload (issue 15): every task of ours has a route, and an alert is sent by a
worker consuming ``notify`` while the ``explain`` queue holds a backlog."""

import fnmatch
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from alerts.models import Notification, Status
from config import run
from config.celery import app

from .alerts.factories import make_model
from .alerts.smtp import start_sink

WORKLOADS = {
    "monitoring.tasks.compact_sketches_task": "engine",
    "monitoring.tasks.analyse_version_task": "engine",
    "monitoring.tasks.build_reference_profile_task": "engine",
    "explain.tasks.importance_trends_task": "explain",
    "explain.tasks.importance_version_task": "explain",
    "alerts.tasks.evaluate_alerts_task": "notify",
    "alerts.tasks.send_notifications_task": "notify",
    "alerts.tasks.silences_ended_task": "notify",
    "alerts.tasks.daily_digest_task": "notify",
    "alerts.tasks.evaluate_live_versions_task": "notify",
    "alerts.tasks.reminders_task": "notify",
    "lifecycle.tasks.deliver_webhook_task": "notify",
    "lifecycle.tasks.lifecycle_watch_task": "maintenance",
    "ops.tasks.review_schedules_task": "maintenance",
    "monitoring.tasks.partitions_ahead_task": "maintenance",
    "monitoring.tasks.retention_task": "maintenance",
}


def our_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def explicit_route(name: str) -> str | None:
    """The queue CELERY_TASK_ROUTES names for ``name`` (exact key first, then patterns), or None."""
    routes = settings.CELERY_TASK_ROUTES
    if name in routes:
        return routes[name]["queue"]
    for pattern, route in routes.items():
        if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
            return route["queue"]
    return None


def test_every_task_of_ours_has_an_explicit_route_to_a_declared_queue():
    tasks = our_tasks()
    assert "alerts.tasks.send_notifications_task" in tasks and "monitoring.tasks.compact_sketches_task" in tasks
    missing = [name for name in tasks if explicit_route(name) is None]
    assert missing == [], f"add these tasks to CELERY_TASK_ROUTES: {missing}"
    declared = {q.name for q in settings.CELERY_TASK_QUEUES}
    assert declared == set(settings.VIGIL_QUEUES) == {"engine", "explain", "notify", "maintenance"}
    for name in tasks:
        # What Celery itself decides, not only what the table says.
        assert app.amqp.router.route({}, name)["queue"].name == explicit_route(name), name


def test_each_task_goes_to_its_workload():
    assert {name: app.amqp.router.route({}, name)["queue"].name for name in WORKLOADS} == WORKLOADS
    assert set(WORKLOADS) == set(our_tasks()), "a task was added or removed: place it in WORKLOADS"
    # Housekeeping added later (partitions ahead, retention) lands on maintenance by its name.
    for name in ("monitoring.tasks.partitions_ahead_task", "monitoring.tasks.retention_task"):
        assert app.amqp.router.route({}, name)["queue"].name == "maintenance"
    # A task sent by name (monitoring -> alerts) is routed the same way.
    assert app.amqp.router.route({}, "alerts.tasks.evaluate_alerts_task")["queue"].name == "notify"


def test_every_place_that_starts_a_worker_consumes_every_queue():
    assert run.QUEUES == settings.VIGIL_QUEUES
    command = run.service_commands("python", "127.0.0.1", 8000, 1)["worker"]
    assert command[command.index("-Q") + 1].split(",") == list(settings.VIGIL_QUEUES)
    # Workers started without -Q (the in-process test workers) consume every declared queue.
    assert sorted(app.amqp.queues) == sorted(settings.VIGIL_QUEUES)
    assert sorted(app.amqp.queues.consume_from) == sorted(settings.VIGIL_QUEUES)


def _waiting(queue: str) -> int:
    with app.connection_for_read() as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True).message_count


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_shap_backlog_does_not_delay_an_alert(settings):
    from celery.contrib.testing.worker import start_worker

    from alerts.tasks import send_notifications_task
    from explain.tasks import importance_version_task

    sink, controller = start_sink(settings)
    try:
        version = make_model()
        app.control.purge()
        backlog = 300
        for _ in range(backlog):
            importance_version_task.delay(version.pk)
        assert _waiting("explain") == backlog
        Notification.objects.create(model=version.model, kind="firing", channel="email", recipient="ds@example.com",
                                    subject="[Vigil] FIRING behind a SHAP backlog", body_text="t", body_html="<p>t</p>",
                                    send_after=timezone.now() - timedelta(minutes=1))
        started = time.monotonic()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=["notify"]):
            send_notifications_task.delay()
            deadline = time.monotonic() + 60
            while not sink.messages and time.monotonic() < deadline:
                time.sleep(0.2)
        assert sink.subjects() == ["[Vigil] FIRING behind a SHAP backlog"], "the alert waited behind the backlog"
        assert time.monotonic() - started < 60
        assert Notification.objects.get().status == Status.SENT
        assert _waiting("explain") == backlog  # nothing of the backlog was taken by the notify worker
    finally:
        # A worker started with queues= narrows the app's own selection: give later in-process
        # workers (other tests) every queue back.
        app.amqp.queues.select(list(settings.VIGIL_QUEUES))
        app.control.purge()
        controller.stop()
