from celery import shared_task

from monitoring.models import ModelVersion

from .importance import importance_refresh_version, versions_with_artifacts


@shared_task
def importance_trends_task() -> int:
    """On beat: fan out one task per version that has an artifact."""
    ids = versions_with_artifacts()
    for version_id in ids:
        importance_version_task.delay(version_id)
    return len(ids)


@shared_task
def importance_version_task(version_id: int) -> int:
    version = ModelVersion.objects.filter(pk=version_id).first()
    return importance_refresh_version(version=version) if version else 0
