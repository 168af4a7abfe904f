"""Prediction search (request_id, entity_id, item_id) and one prediction with its waterfall."""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from monitoring.models import MLModel, Prediction
from monitoring.selectors.predictions import prediction_for_request, request_predictions, version_ids
from monitoring.selectors.retention import retention_note

from .access import scientist_required
from .sections import KEPT_EXPLANATION, WATERFALL, section

LIMIT = 50


def predictions_matching(*, text: str, model_ids: list[int]) -> list[Prediction]:
    """Predictions (every version's, a shadow's included) whose request_id, entity_id or item_id
    equals ``text``, newest first, the served one before a shadow's of the same request.

    One condition per model so each lookup uses the (model, ...) indexes instead of a scan.
    """
    condition = Q()
    if model_ids:
        condition |= Q(model_id__in=model_ids, version_id__in=version_ids(model_ids=model_ids), request_id=text)
    for model_id in model_ids:
        condition |= Q(model_id=model_id, entity_id=text)
        condition |= Q(model_id=model_id, item_id=text)
    if not model_ids:
        return []
    return list(
        Prediction.objects.filter(condition)
        .select_related("model", "version")
        .defer("features")
        .order_by("-timestamp", "-served", "request_id")[:LIMIT]
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
               "error": error, "limit": LIMIT,
               "retention_notes": [note for m in chosen if (note := retention_note(model=m))] if text else []}
    return render(request, "monitoring/search.html", context)


@scientist_required
def prediction_page(request, slug: str, request_id: str):
    model = get_object_or_404(MLModel, slug=slug)
    version = request.GET.get("version")
    raw_removed = ""
    try:
        # The served prediction, or another version's (a shadow's) with ?version=.
        prediction = prediction_for_request(model=model, request_id=request_id, version=version)
    except Http404:
        # Retention dropped the raw row: an explanation stored before still shows what it kept.
        explained = section(KEPT_EXPLANATION, model=model, request_id=request_id, version=version)
        if explained is None:
            raise
        prediction = explained["prediction"]
        raw_removed = retention_note(model=model) or "The raw prediction row is no longer stored."
    else:
        explained = section(WATERFALL, prediction=prediction) or {}
    others = [row for row in request_predictions(model=model, request_id=request_id) if row.pk != prediction.pk]
    schema = {f["name"]: f for f in prediction.version.features}
    features = [
        {"name": name, "label": schema.get(name, {}).get("display_name") or name,
         "value": f"{value:.6g}" if isinstance(value, float) else value, "unit": schema.get(name, {}).get("unit") or ""}
        for name, value in prediction.features.items()
    ]
    context = {"nav": "dashboards", "model": model, "prediction": prediction, "waterfall": explained.get("chart"),
               "explanation": explained.get("explanation"), "features": features, "others": others,
               "raw_removed": raw_removed}
    return render(request, "monitoring/prediction.html", context)
