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
    dirty = versions_dirty()
    for lo in range(0, len(dirty), ANALYSIS_CHUNK):
        analyse_version_task.delay(dirty[lo : lo + ANALYSIS_CHUNK])
    return merged


# Versions per analysis task: the chunks still spread over the engine workers, and what reacts to
# the analysis (the alerts evaluation) runs once per chunk, its fixed cost per round trip shared.
ANALYSIS_CHUNK = 10
# Sent by name: apps built on monitoring (alerts) react to new analysis without monitoring importing them.
AFTER_ANALYSIS = {"alerts": "alerts.tasks.evaluate_alerts_task"}


@shared_task(**RETRY)
def analyse_version_task(version_ids: int | list[int]) -> int:
    """Analyse the changed windows of one version or of a chunk of them, then tell the apps built
    on monitoring which versions have new results: one task for the chunk. Returns the windows
    analysed."""
    ids = [version_ids] if isinstance(version_ids, int) else list(version_ids)
    windows, analysed = 0, []
    try:
        for version_id in ids:
            if found := version_analyse(version_id=version_id):
                windows += found
                analysed.append(version_id)
    finally:
        # Even when a later version failed (the task is retried, and finds these clean): what
        # committed is announced now, not at the next sweep.
        if analysed:
            _after_analysis(analysed)
    return windows


def _after_analysis(version_ids: list[int]) -> None:
    for app_label, name in AFTER_ANALYSIS.items():
        if apps.is_installed(app_label):
            task = current_app.tasks.get(name)
            if task is not None:
                task.delay(version_ids)
            else:
                current_app.send_task(name, args=[version_ids])


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
