"""Lifecycle cards on monitoring's model and version pages (registered in LifecycleConfig.ready).

The pages embed a stub that loads the card from its own URL (static/js/lifecycle.js): the card
reads the audit, staleness, label debt and the threshold curve, and monitoring's pages keep
their own small, fixed number of queries.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from core.roles import ADMINS, user_in
from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Stage
from monitoring.selectors.registry import version_production
from monitoring.views.render import chart

from .charts import threshold_figure
from .models import GateEvaluation
from .selectors.events import event_timeline, open_rollback_proposal, promotion_to_undo
from .selectors.labelled import labelled_rows
from .selectors.policy import policy_get
from .selectors.staleness import staleness_get
from .services.retraining import retraining_evidence
from .stats.thresholds import best_threshold, pr_curve, thin_curve


def _stub(request, url: str, title: str) -> SafeString:
    query = urlencode({**request.GET.dict(), "next": request.get_full_path()})
    return SafeString(render_to_string("lifecycle/stub.html", {"url": f"{url}?{query}", "title": title}, request=request))


def model_section(*, request, model: MLModel) -> SafeString:
    return _stub(request, reverse("lifecycle:model-card", args=[model.slug]), "Lifecycle")


def version_section(*, request, version: ModelVersion) -> SafeString:
    return _stub(request, reverse("lifecycle:version-card", args=[version.model.slug, version.version]), "Promotion")


def _next(request) -> str:
    target = request.GET.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else request.get_full_path()


def model_card(*, request, model: MLModel) -> SafeString:
    production = version_production(model=model)
    undo = promotion_to_undo(model=model)
    context = {
        "model": model,
        "production": production,
        "rollback_to": undo.previous if undo else None,
        "proposal": open_rollback_proposal(model=model),
        "events": list(event_timeline(model=model, limit=20)),
        "staleness": staleness_get(model=model),
        "retraining": retraining_evidence(model=model),
        "policy": policy_get(model=model),
        "challengers": [v for v in model.versions.all() if production is None or v.pk != production.pk],
        "is_admin": user_in(request.user, ADMINS),
        "next": _next(request),
    }
    return SafeString(render_to_string("lifecycle/model_section.html", context, request=request))


def _target(request) -> dict:
    for name in ("min_recall", "min_precision"):
        raw = request.GET.get(name)
        if raw:
            try:
                value = float(raw)
            except ValueError:
                continue
            if 0 < value <= 1:
                return {name: value}
    return {"min_recall": 0.9}


def version_card(*, request, version: ModelVersion) -> SafeString:
    model = version.model
    context = {
        "model": model,
        "version": version,
        "production": version_production(model=model),
        "events": list(event_timeline(model=model, version=version, limit=20)),
        "gate": GateEvaluation.objects.filter(candidate=version, threshold__isnull=True).select_related("baseline").first(),
        "is_admin": user_in(request.user, ADMINS),
        "can_promote": version.stage != Stage.PRODUCTION,
        "next": _next(request),
    }
    if model.task == "binary_classification":
        score, _, label = labelled_rows(version=version)
        curve = pr_curve(label >= 0.5, score) if label.size else None
        target = _target(request)
        best = best_threshold(label >= 0.5, score, **target) if curve is not None else None
        context.update({
            "target_name": next(iter(target)), "target_value": next(iter(target.values())),
            "recommended": best, "labelled": int(label.size),
            "threshold_chart": chart("threshold-curve", threshold_figure(
                curve=thin_curve(curve) if curve is not None else None, current=version.threshold,
                recommended=best["threshold"] if best else None),
                description="A request is predicted positive when its score is at least the threshold."),
        })
    return SafeString(render_to_string("lifecycle/version_section.html", context, request=request))
