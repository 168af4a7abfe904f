"""Reads of the model registry: models and their versions."""

from django.db.models import QuerySet
from django.http import Http404

from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Stage, Task


def model_list() -> QuerySet[MLModel]:
    return MLModel.objects.order_by("slug")


def model_get(*, slug: str) -> MLModel:
    """The model with ``slug``; Http404 (a JSON 404 in the API) when there is none."""
    model = MLModel.objects.filter(slug=slug).first()
    if model is None:
        raise Http404(f"No model with slug '{slug}'.")
    return model


def version_list(*, model: MLModel) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(model=model).order_by("-created_at", "-id")


def version_get(*, model: MLModel, version: str) -> ModelVersion:
    found = ModelVersion.objects.filter(model=model, version=version).first()
    if found is None:
        raise Http404(f"Model '{model.slug}' has no version '{version}'.")
    return found


def version_production(*, model: MLModel) -> ModelVersion | None:
    """The current production version: the most recently promoted one in stage production."""
    return (
        ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION)
        .order_by("-promoted_at", "-created_at", "-id")
        .first()
    )


def model_classes(*, model: MLModel) -> list | None:
    """All classes declared by the model's versions (multiclass), first declaration order."""
    if model.task != Task.MULTICLASS:
        return None
    out: dict[str, object] = {}
    for classes in ModelVersion.objects.filter(model=model).order_by("created_at").values_list("classes", flat=True):
        for c in classes or []:
            out.setdefault(str(c), c)
    return list(out.values())


def versions_by_label(*, model: MLModel) -> dict[str, ModelVersion]:
    return {v.version: v for v in ModelVersion.objects.filter(model=model)}
