"""Action pages of the ops console: each a normal form that posts back and calls ops.services."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from monitoring.models import MLModel

from . import clock, selectors, services
from .access import actor_required
from .forms import BlacklistForm, BoostForm, CorrectForm, RevokeForm
from .models import Override


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _attach_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


def _warn(request, override) -> None:
    for warning in getattr(override, "warnings", []):
        messages.warning(request, warning)


def _render(request, form, *, title: str, intro: str, submit: str, danger: bool = False, extra=None):
    context = {
        "nav": "ops",
        "tab": "overrides",
        "form": form,
        "title": title,
        "intro": intro,
        "submit": submit,
        "danger": danger,
        "next": _next_url(request, ""),
        **(extra or {}),
    }
    return render(request, "ops/action_form.html", context, status=400 if form.errors else 200)


def _initial_from_query(request) -> dict:
    initial = {}
    if request.GET.get("model"):
        initial["model"] = MLModel.objects.filter(slug=request.GET["model"]).first()
    if request.GET.get("item_id"):
        initial["item_id"] = request.GET["item_id"]
    return initial


@actor_required
def blacklist(request):
    form = BlacklistForm(request.POST or None, initial=_initial_from_query(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            override = services.override_blacklist(
                actor=request.user,
                model=data["model"],
                item_id=data["item_id"],
                reason=data["reason"],
                expires_at=data["expires_at"],
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, f"Item {override.item_id} is blacklisted for {override.scope_label}.")
            _warn(request, override)
            return redirect(_next_url(request, reverse("ops:overrides")))
    return _render(
        request,
        form,
        title="Blacklist an item",
        intro="A blacklisted item is never served by the chosen model (or by any model).",
        submit="Blacklist item",
        danger=True,
    )


@actor_required
def boost(request):
    now = clock.now().replace(second=0, microsecond=0)
    initial = {
        "starts_at": now,
        "ends_at": now + timedelta(days=services.boost_default_days()),
        "mode": Override.BoostMode.MULTIPLIER,
        **_initial_from_query(request),
    }
    form = BoostForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            override = services.override_boost(
                actor=request.user,
                model=data["model"],
                item_id=data["item_id"],
                mode=data["mode"],
                value=data["value"],
                reason=data["reason"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(
                request, f"Item {override.item_id} gets a {override.describe()} on {override.scope_label}."
            )
            _warn(request, override)
            return redirect(_next_url(request, reverse("ops:overrides")))
    return _render(
        request,
        form,
        title="Boost an item",
        intro=f"A temporary boost for new products or account managers' requests; at most "
        f"{services.boost_max_days()} days.",
        submit="Boost item",
    )


@actor_required
def correct(request, model_slug: str, request_id: str):
    prediction = selectors.prediction_get(model_slug=model_slug, request_id=request_id)
    form = CorrectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            correction = services.decision_correct(
                actor=request.user,
                prediction=prediction,
                corrected_outcome=services.parse_outcome(data["corrected_outcome"]),
                reason=data["reason"],
                record_as_label=data["record_as_label"],
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, f"Decision {prediction.request_id} corrected.")
            if correction.label_kept is not None:
                messages.warning(
                    request,
                    f"Not recorded as label: the observed label {correction.label_kept!r} stays. Your "
                    "correction is kept and counted as a disagreement with it.",
                )
            return redirect("ops:decision", model_slug=model_slug, request_id=request_id)
    return _render(
        request,
        form,
        title=f"Correct decision {prediction.request_id}",
        intro=f"{prediction.model.name}, version {prediction.version.version}: served "
        f"{prediction.prediction!r} with score {prediction.score:.4g}.",
        submit="Record correction",
        extra={"tab": "lookup", "next": reverse("ops:decision", args=[model_slug, request_id])},
    )


@actor_required
def revoke(request, pk: int):
    override = get_object_or_404(Override.objects.select_related("model"), pk=pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.override_revoke(
                actor=request.user, override_id=override.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(
                request, f"Override #{override.pk} ({override.describe()} {override.item_id}) revoked."
            )
            return redirect(_next_url(request, reverse("ops:overrides")))
    return _render(
        request,
        form,
        title=f"Revoke override #{override.pk}",
        intro=f"{override.describe().capitalize()} of item {override.item_id} for {override.scope_label}, "
        f"state {override.state_at(clock.now())}: {override.reason}",
        submit="Revoke",
        danger=True,
    )
