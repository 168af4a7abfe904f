"""Celery tasks of the alerts app: thin, by id. ``evaluate_alerts_task`` is sent by name by the
monitoring pipeline with the versions an analysis task analysed, so monitoring never imports alerts."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from .selectors import versions_live
from .services.digest import digests_send
from .services.evaluate import alerts_evaluate_many
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
def evaluate_alerts_task(version_ids: int | list[int]) -> int:
    """After an analysis task: evaluate the versions it analysed (one id, or its chunk's), together."""
    ids = [version_ids] if isinstance(version_ids, int) else list(version_ids)
    moved = sum(len(t) for t in alerts_evaluate_many(version_ids=ids, after_analysis=True).values())
    if moved:
        transaction.on_commit(send_notifications_task.delay)
    return moved


# Versions per transaction in the beat's sweep: their locks are held together.
SWEEP_CHUNK = 50


@shared_task(**RETRY)
def evaluate_live_versions_task() -> int:
    """On beat: evaluate every live version, so a model that stopped receiving data entirely (no
    analysis, hence no evaluation after one) still sees its no-data rule fire. Versions with
    nothing new and no window closed since their last evaluation cost one query for the chunk."""
    moved = 0
    live = versions_live()
    for lo in range(0, len(live), SWEEP_CHUNK):
        moved += sum(len(t) for t in alerts_evaluate_many(version_ids=live[lo : lo + SWEEP_CHUNK]).values())
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
