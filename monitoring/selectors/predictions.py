"""Reads of stored predictions by request_id: the served one first, other versions' alongside.

A request may be logged by several versions (production and a shadow). The unique key is
(model, version, request_id), so every lookup goes through the model's versions: a join on
the version (one model) or a list of version ids (several models) lets PostgreSQL probe the
index once per version instead of scanning the model's rows.
"""

from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import Http404

from monitoring.models import MLModel, ModelVersion, Prediction
from monitoring.models.registry import SERVING_STAGES
from monitoring.selectors.retention import retention_note


def version_ids(*, model_ids: list[int]) -> list[int]:
    return list(ModelVersion.objects.filter(model_id__in=model_ids).values_list("pk", flat=True))


def request_rows(*, request_id: str, model: MLModel | None = None, model_slug: str = "",
                 version: str | None = None) -> QuerySet[Prediction]:
    """Every version's row of ``request_id`` in the model (given or by slug), the served one
    first; only version label ``version``'s when given. One query, through the versions."""
    by_model = {"version__model_id": model.pk} if model is not None else {"version__model__slug": model_slug}
    rows = Prediction.objects.filter(model_id=F("version__model_id"), request_id=request_id, **by_model)
    if version is not None:
        rows = rows.filter(version__version=version)
    return served_first(rows)


def served_first(queryset: QuerySet[Prediction]) -> QuerySet[Prediction]:
    """Order one request's rows: the served row first (a shadow's last); between served rows
    (e.g. logged before a version was marked shadow), a version now production or canary,
    then the earliest stored."""
    serving = Case(When(version__stage__in=list(SERVING_STAGES), then=Value(0)), default=Value(1),
                   output_field=IntegerField())
    return queryset.order_by("-served", serving, "received_at", "id")


def request_predictions(*, model: MLModel, request_id: str) -> list[Prediction]:
    """Every version's prediction of ``request_id``, the served one first."""
    return list(request_rows(model=model, request_id=request_id).select_related("version", "model"))


def prediction_for_request(*, model: MLModel, request_id: str, version: str | None = None) -> Prediction:
    """The prediction served for ``request_id`` (production's or canary's rather than a
    shadow's), or the one of version label ``version`` when given. Http404 when none."""
    rows = request_rows(model=model, request_id=request_id, version=version)
    found = rows.select_related("version", "model").first()
    if found is None:
        which = f" by version '{version}'" if version is not None else ""
        raise Http404(f"Model '{model.slug}' has no prediction '{request_id}'{which}. {retention_note(model=model)}"
                      .rstrip())
    return found
