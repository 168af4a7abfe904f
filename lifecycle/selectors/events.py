"""Reads of the lifecycle audit: timelines, the rollback target, open rollback proposals."""

from django.db.models import Q, QuerySet

from lifecycle.models import Event, EventKind
from monitoring.models import MLModel, ModelVersion
from monitoring.selectors.registry import version_production


def event_timeline(*, model: MLModel, version: ModelVersion | None = None, limit: int = 50) -> QuerySet[Event]:
    """The model's lifecycle events, newest first (those naming ``version`` when given)."""
    qs = Event.objects.filter(model=model).select_related("version", "previous", "gate").prefetch_related("deliveries")
    if version is not None:
        qs = qs.filter(Q(version=version) | Q(previous=version))
    return qs[:limit]


def promotion_to_undo(*, model: MLModel) -> Event | None:
    """The promotion (or registration straight into production in place of another version) that
    made the current production version production and is not undone yet."""
    current = version_production(model=model)
    if current is None:
        return None
    return (
        Event.objects.filter(model=model, kind__in=[EventKind.PROMOTION, EventKind.REGISTERED], version=current,
                             previous__isnull=False, undone_by__isnull=True)
        .select_related("previous")
        .first()
    )


def open_rollback_proposal(*, model: MLModel) -> Event | None:
    """A rollback proposed by the watch period and neither performed nor overtaken by a later change."""
    latest = Event.objects.filter(model=model, kind__in=[EventKind.PROMOTION, EventKind.ROLLBACK,
                                                         EventKind.ROLLBACK_PROPOSED]).first()
    return latest if latest is not None and latest.kind == EventKind.ROLLBACK_PROPOSED else None
