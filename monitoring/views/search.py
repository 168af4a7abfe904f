"""Prediction search (request_id, entity_id, item_id) and one prediction with its waterfall."""

from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from monitoring.models import MLModel, Prediction

from .access import scientist_required
from .sections import WATERFALL, section

LIMIT = 50


def predictions_matching(*, text: str, model_ids: list[int]) -> list[Prediction]:
    """Predictions whose request_id, entity_id or item_id equals ``text``, newest first.

    One condition per model so each lookup uses the (model, ...) indexes instead of a scan.
    """
    condition = Q()
    for model_id in model_ids:
        condition |= Q(model_id=model_id, request_id=text)
        condition |= Q(model_id=model_id, entity_id=text)
        condition |= Q(model_id=model_id, item_id=text)
    if not model_ids:
        return []
    return list(
        Prediction.objects.filter(condition)
        .select_related("model", "version")
        .defer("features")
        .order_by("-timestamp")[:LIMIT]
    )


@scientist_required
def search(request):
    text = request.GET.get("q", "").strip()[:200]
    models = list(MLModel.objects.order_by("slug"))
    slug = request.GET.get("model", "")
    chosen = [m for m in models if m.slug == slug] if slug else models
    error = ""
    if slug and not chosen:
        error = f"Unknown model {slug!r}."
    results = predictions_matching(text=text, model_ids=[m.pk for m in chosen]) if text and not error else []
    context = {"nav": "dashboards", "q": text, "models": models, "model_slug": slug, "results": results,
               "error": error, "limit": LIMIT}
    return render(request, "monitoring/search.html", context)


@scientist_required
def prediction_page(request, slug: str, request_id: str):
    model = get_object_or_404(MLModel, slug=slug)
    prediction = get_object_or_404(Prediction.objects.select_related("version", "model"), model=model, request_id=request_id)
    explained = section(WATERFALL, prediction=prediction) or {}
    schema = {f["name"]: f for f in prediction.version.features}
    features = [
        {"name": name, "label": schema.get(name, {}).get("display_name") or name,
         "value": f"{value:.6g}" if isinstance(value, float) else value, "unit": schema.get(name, {}).get("unit") or ""}
        for name, value in prediction.features.items()
    ]
    context = {"nav": "dashboards", "model": model, "prediction": prediction, "waterfall": explained.get("chart"),
               "explanation": explained.get("explanation"), "features": features}
    return render(request, "monitoring/prediction.html", context)
