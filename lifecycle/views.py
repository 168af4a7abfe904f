"""Lifecycle pages: the comparison, both explanations side by side, settings, and the admin actions."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import numpy as np
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from core.roles import ADMINS, user_in
from monitoring.models import MLModel, ModelVersion, Prediction
from monitoring.selectors.registry import version_production
from monitoring.views.access import scientist_required
from monitoring.views.render import chart
from monitoring.views.sections import WATERFALL, section

from .charts import metrics_figure, score_pairs_figure
from .forms import ActionForm, PolicyForm
from .sections import model_card, version_card
from .selectors.comparison import comparison_get
from .selectors.policy import policy_get
from .services.gate import gate_evaluate
from .services.policy import EDITABLE, policy_update
from .services.stage import GateRefused, NothingToRollBack, version_promote, version_rollback
from .services.threshold import threshold_change

PAGE_SIZE = 50


def _admin(request) -> None:
    if not user_in(request.user, ADMINS):
        raise PermissionDenied("Only admins may change a model's lifecycle.")


def _version(model: MLModel, name: str | None) -> ModelVersion | None:
    return ModelVersion.objects.filter(model=model, version=name).first() if name else None


def _when(raw: str | None):
    value = parse_datetime(raw) if raw else None
    return value


def _label(value: float, classes: list | None):
    if np.isnan(value):
        return None
    if classes:
        return classes[int(value)]
    return int(value) if float(value).is_integer() else float(value)


@scientist_required
def model_card_view(request, slug: str):
    """The model page's lifecycle card, loaded by the page (HTML fragment)."""
    return HttpResponse(model_card(request=request, model=get_object_or_404(MLModel, slug=slug)))


@scientist_required
def version_card_view(request, slug: str, version: str):
    """The version page's promotion card, loaded by the page (HTML fragment)."""
    found = get_object_or_404(ModelVersion.objects.select_related("model"), model__slug=slug, version=version)
    return HttpResponse(version_card(request=request, version=found))


@scientist_required
def compare_page(request, slug: str):
    model = get_object_or_404(MLModel, slug=slug)
    versions = list(model.versions.all())
    a = _version(model, request.GET.get("a")) or version_production(model=model)
    b = _version(model, request.GET.get("b")) or next((v for v in versions if a is None or v.pk != a.pk), None)
    context = {"nav": "dashboards", "model": model, "versions": versions, "a": a, "b": b}
    if a is None or b is None or a.pk == b.pk:
        context["problem"] = "Choose two different versions to compare."
        return render(request, "lifecycle/compare.html", context)
    start, end = _when(request.GET.get("start")), _when(request.GET.get("end"))
    body = comparison_get(model=model, a=a, b=b, start=start, end=end, with_pairs=True)
    pairs, side_a, side_b = body.pop("_pairs")
    flips = np.flatnonzero(side_a.decision != side_b.decision)
    wanted = request.GET.get("flip", "")
    if wanted:
        flips = flips[[f"{_label(side_a.decision[i], pairs.classes)}>{_label(side_b.decision[i], pairs.classes)}" == wanted
                       for i in flips]]
    page = Paginator(range(flips.size), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for k in page.object_list:
        i = int(flips[k])
        rows.append({
            "request_id": pairs.request_ids[i], "score_a": pairs.score_a[i], "score_b": pairs.score_b[i],
            "a": _label(side_a.decision[i], pairs.classes), "b": _label(side_b.decision[i], pairs.classes),
            "label": _label(pairs.label[i], pairs.classes),
            "url": reverse("lifecycle:explanations", args=[model.slug, pairs.request_ids[i]]) + "?" +
                   urlencode({"a": a.version, "b": b.version}),
        })
    keep = {k: v for k, v in request.GET.items() if k in ("a", "b", "start", "end", "flip")}
    context.update({
        "body": body, "rows": rows, "page": page, "flip": wanted, "query": urlencode(keep),
        "base_query": urlencode({k: v for k, v in keep.items() if k != "flip"}),
        "flip_kinds": [{**f, "key": f"{_label(f['a'], pairs.classes)}>{_label(f['b'], pairs.classes)}",
                        "a_label": _label(f["a"], pairs.classes), "b_label": _label(f["b"], pairs.classes)}
                       for f in body["flipped"]],
        "charts": [
            chart("score-pairs", score_pairs_figure(score_a=pairs.score_a, score_b=pairs.score_b, label=pairs.label,
                                                    a=a.version, b=b.version)),
            chart("paired-metrics", metrics_figure(metrics=body["metrics"], a=a.version, b=b.version)),
        ],
        "is_admin": user_in(request.user, ADMINS),
    })
    return render(request, "lifecycle/compare.html", context)


@scientist_required
def explanations_page(request, slug: str, request_id: str):
    model = get_object_or_404(MLModel, slug=slug)
    sides = []
    for key in ("a", "b"):
        version = _version(model, request.GET.get(key))
        if version is None:
            raise Http404(f"Unknown version {request.GET.get(key)!r} ({key}).")
        prediction = Prediction.objects.filter(model=model, version=version, request_id=request_id).select_related(
            "version", "model").first()
        if prediction is None:
            raise Http404(f"Version {version.version} did not predict request {request_id!r}.")
        waterfall = section(WATERFALL, prediction=prediction)
        if waterfall:  # two waterfalls on one page need two element ids
            waterfall = {**waterfall, "chart": {**waterfall["chart"], "id": f"waterfall-{key}"}}
        sides.append({"version": version, "prediction": prediction, "waterfall": waterfall})
    return render(request, "lifecycle/explanations.html",
                  {"nav": "dashboards", "model": model, "request_id": request_id, "sides": sides})


@scientist_required
def settings_page(request, slug: str):
    model = get_object_or_404(MLModel, slug=slug)
    policy = policy_get(model=model)
    is_admin = user_in(request.user, ADMINS)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST":
        _admin(request)
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
            if not changes.get("webhook_secret"):
                changes.pop("webhook_secret", None)
            policy_update(model=model, **changes)
            messages.success(request, "Lifecycle settings saved.")
            return HttpResponseRedirect(reverse("monitoring:model", args=[model.slug]))
    return render(request, "lifecycle/settings.html", {"nav": "dashboards", "model": model, "form": form,
                                                       "is_admin": is_admin})


def _back(request, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    return HttpResponseRedirect(target if target.startswith("/") and not target.startswith("//") else fallback)


def _gate_message(request, exc: GateRefused) -> None:
    gate = exc.gate
    failed = "; ".join(c["summary"] for c in gate.checks if c["outcome"] != "pass")
    messages.error(request, f"The gate answered {gate.outcome}: {failed} Tick 'force' and give a reason to go ahead anyway.")


def _gated_action(request, slug: str, version: str, change: Callable[[ModelVersion, dict], str]) -> HttpResponseRedirect:
    """An admin's gated change of a version (promotion, threshold) from the page's form:
    ``change(version, form data)`` returns the success message; a refused gate or bad input
    becomes an error message. Back to the page either way."""
    _admin(request)
    found = get_object_or_404(ModelVersion.objects.select_related("model"), model__slug=slug, version=version)
    form = ActionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({name: errors for name, errors in form.errors.items()})
        messages.success(request, change(found, {**form.cleaned_data, "reason": form.cleaned_data["reason"] or ""}))
    except GateRefused as exc:
        _gate_message(request, exc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, reverse("monitoring:version", args=[slug, version]))


@scientist_required  # who may see it first, so a GET by anyone else is a login or a 403, not a 405
@require_POST
def promote_action(request, slug: str, version: str):
    def promote(found: ModelVersion, data: dict) -> str:
        version_promote(version=found, actor=str(request.user), reason=data["reason"], force=data["force"])
        return f"{found.version} is now in production."

    return _gated_action(request, slug, version, promote)


@scientist_required  # who may see it first, so a GET by anyone else is a login or a 403, not a 405
@require_POST
def rollback_action(request, slug: str):
    _admin(request)
    model = get_object_or_404(MLModel, slug=slug)
    form = ActionForm(request.POST)
    form.is_valid()
    try:
        event = version_rollback(model=model, actor=str(request.user), reason=form.cleaned_data.get("reason") or "")
        messages.success(request, f"Rolled back: {event.version.version} is in production again.")
    except NothingToRollBack as exc:
        messages.error(request, str(exc))
    return _back(request, reverse("monitoring:model", args=[slug]))


@scientist_required  # who may see it first, so a GET by anyone else is a login or a 403, not a 405
@require_POST
def gate_action(request, slug: str, version: str):
    _admin(request)
    model = get_object_or_404(MLModel, slug=slug)
    found = get_object_or_404(ModelVersion, model=model, version=version)
    gate = gate_evaluate(model=model, candidate=found)
    messages.info(request, f"Gate for {found.version}: {gate.outcome}.")
    return _back(request, reverse("monitoring:version", args=[slug, version]))


@scientist_required  # who may see it first, so a GET by anyone else is a login or a 403, not a 405
@require_POST
def threshold_action(request, slug: str, version: str):
    def set_threshold(found: ModelVersion, data: dict) -> str:
        if data["threshold"] is None:
            raise ValidationError({"threshold": "A threshold between 0 and 1 is required."})
        threshold_change(version=found, threshold=data["threshold"], actor=str(request.user), reason=data["reason"],
                         force=data["force"])
        return f"Threshold of {found.version} set to {data['threshold']:.4f}."

    return _gated_action(request, slug, version, set_threshold)
