"""Celery tasks of the monitoring engine: thin, by id, late-acked, retried on database errors."""

from celery import current_app, shared_task
from django.apps import apps
from django.db import InterfaceError, OperationalError

from monitoring.models import ModelVersion
from monitoring.selectors.metrics import versions_dirty
from monitoring.selectors.profile import versions_stale
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.partitions import partitions_ensure_ahead, partitions_split_default
from monitoring.services.rebuild import profile_rebuild
from monitoring.services.retention import retention_apply

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(**RETRY)
def compact_sketches_task() -> int:
    """On beat: resume unfinished re-folds for a new reference profile, merge appended partial
    sketches, then analyse every version with changed windows."""
    for version_id in versions_stale():
        # A worker killed mid re-fold leaves sketches binned with the old profile; asking
        # again is idempotent (the re-fold holds a per-version lock; a second one skips).
        build_reference_profile_task.delay(version_id, True)
    merged = sketches_compact_all()
    for version_id in versions_dirty():
        analyse_version_task.delay(version_id)
    return merged


# Sent by name: apps built on monitoring (alerts) react to new analysis without monitoring importing them.
AFTER_ANALYSIS = {"alerts": "alerts.tasks.evaluate_alerts_task"}


@shared_task(**RETRY)
def analyse_version_task(version_id: int) -> int:
    analysed = version_analyse(version_id=version_id)
    if analysed:
        for app_label, name in AFTER_ANALYSIS.items():
            if apps.is_installed(app_label):
                task = current_app.tasks.get(name)
                if task is not None:
                    task.delay(version_id)
                else:
                    current_app.send_task(name, args=[version_id])
    return analysed


@shared_task(**RETRY)
def build_reference_profile_task(version_id: int, missing_only: bool = False) -> bool:
    """Build the version's reference profile (``missing_only``: unless one exists) and re-fold
    its sketches from raw rows so every window uses the new bins."""
    version = ModelVersion.objects.select_related("model").filter(pk=version_id).first()
    return profile_rebuild(version=version, missing_only=missing_only) if version else False


@shared_task(**RETRY)
def partitions_ahead_task() -> list[str]:
    """On beat (queue "maintenance"): create the raw table's week partitions ahead, then give
    the weeks the DEFAULT partition caught their own (a bounded share per run). Idempotent."""
    return partitions_ensure_ahead() + partitions_split_default()


@shared_task(**RETRY)
def retention_task() -> int:
    """On beat (queue "maintenance"): drop or delete raw rows past each model's retention.
    Idempotent: a second run finds nothing. Returns the raw rows removed."""
    return sum(step.rows for step in retention_apply() if step.done)
