"""What a blacklist or a boost may target: models whose decisions are about items, and items they served.

Serving applies overrides to ranked items only (``POST /rerank/``), so an entry on a model that scores
customers or deliveries, or on an id that names a customer, would be stored and never apply.
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from monitoring.models import MLModel, Prediction
from monitoring.models.registry import Task


def item_models() -> QuerySet[MLModel]:
    """Models whose decisions are about items: ranking models, and any model whose logged
    predictions carry an item_id (e.g. a click model scoring items)."""
    has_items = Prediction.objects.filter(model_id=OuterRef("pk"), item_id__isnull=False)
    return MLModel.objects.filter(Q(task=Task.RANKING) | Exists(has_items)).order_by("slug")


def model_ranks_items(model: MLModel) -> bool:
    return (
        model.task == Task.RANKING
        or Prediction.objects.filter(model_id=model.pk, item_id__isnull=False).exists()
    )


def _model_ids(models) -> list[int]:
    # Always constrain by model ids so each lookup uses a (model_id, ...) index of the prediction table.
    return [m.pk for m in models]


def override_target_check(*, model: MLModel | None, item_id: str, kind: str) -> list[str]:
    """Raise ValidationError when ``item_id`` on ``model`` (None: every model) cannot be a target;
    return warnings when it can but looks unusual (an item never served yet: cold start)."""
    what = "blacklist" if kind == "blacklist" else "boost"
    if model is not None and not model_ranks_items(model):
        raise ValidationError(
            {
                "model": f"{model.name} ({model.slug}) is a {model.get_task_display().lower()} model: its "
                f"decisions are not about items, so a {what} would never apply. Choose a model that ranks items."
            }
        )
    scope = [model] if model is not None else list(item_models())
    if Prediction.objects.filter(model_id__in=_model_ids(scope), item_id=item_id).exists():
        return []
    other = (
        Prediction.objects.filter(model_id__in=_model_ids(MLModel.objects.all()))
        .filter(Q(entity_id=item_id) | Q(request_id=item_id))
        .select_related("model")
        .only("entity_id", "request_id", "model__slug")
        .first()
    )
    if other is not None:
        named = "a customer id" if other.entity_id == item_id else "a request id"
        raise ValidationError(
            {
                "item_id": f"'{item_id}' is {named} of {other.model.slug}, not an item: a {what} applies to "
                "items that a ranking model serves. Enter the item's id."
            }
        )
    where = model.slug if model is not None else "any model"
    return [
        f"Item '{item_id}' has never been served by {where}. The {what} is stored and applies as soon as the "
        "item is ranked (cold start); check the id if you expected it to be known."
    ]
