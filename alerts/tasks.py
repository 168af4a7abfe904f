"""Celery tasks of the alerts app: thin, by id. ``evaluate_alerts_task`` is sent by name by the
monitoring pipeline after a version's analysis, so monitoring never imports alerts."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from .selectors import versions_live
from .services.digest import digests_send
from .services.evaluate import alerts_evaluate
from .services.reminders import reminders_send
from .services.send import outbox_send_due
from .services.silences import silences_end_announce

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(**RETRY)
def evaluate_alerts_task(version_id: int) -> int:
    transitions = alerts_evaluate(version_id=version_id, after_analysis=True)
    if transitions:
        transaction.on_commit(send_notifications_task.delay)
    return len(transitions)


@shared_task(**RETRY)
def evaluate_live_versions_task() -> int:
    """On beat: evaluate every live version, so a model that stopped receiving data entirely (no
    analysis, hence no evaluation after one) still sees its no-data rule fire. A version with
    nothing new and no window closed since its last evaluation costs one query."""
    moved = 0
    for version_id in versions_live():
        moved += len(alerts_evaluate(version_id=version_id))
    if moved:
        transaction.on_commit(send_notifications_task.delay)
    return moved


@shared_task(**RETRY)
def send_notifications_task() -> int:
    return outbox_send_due()


@shared_task(**RETRY)
def silences_ended_task() -> int:
    return silences_end_announce()


@shared_task(**RETRY)
def daily_digest_task() -> int:
    return digests_send()


@shared_task(**RETRY)
def reminders_task() -> int:
    return reminders_send()
