"""Read-only pages of the ops console: lookup, decision, overrides (with CSV), audit log."""

import csv
import json
import re
from datetime import UTC, datetime, time, timedelta

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from monitoring.models import MLModel
from monitoring.selectors.retention import retention_note

from . import clock, selectors
from .access import user_can_act, viewer_required
from .explanations import explanation_context
from .forms import AuditFilterForm, LookupForm, OverrideFilterForm

PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _retention_notes(form: LookupForm) -> list[str]:
    """What retention removed for the models searched: older decisions cannot be found."""
    chosen = form.cleaned_data["model"]
    models = [chosen] if chosen is not None else MLModel.objects.filter(raw_purged_before__isnull=False)
    return [note for model in models if (note := retention_note(model=model))]


@viewer_required
def lookup(request):
    form = LookupForm(request.GET or None)
    page = None
    if form.is_valid():
        page = _page(
            request,
            selectors.prediction_lookup(query=form.cleaned_data["q"], model=form.cleaned_data["model"]),
        )
    return render(
        request,
        "ops/lookup.html",
        {"nav": "ops", "tab": "lookup", "form": form, "page": page, "query": _query_without_page(request),
         "retention_notes": _retention_notes(form) if page is not None else []},
    )


def decision_summary(prediction) -> dict:
    """Score against threshold in words, e.g. {"positive": True, "text": "0.83 ≥ threshold 0.50"}."""
    threshold = prediction.version.threshold
    if threshold is None:
        return {"positive": None, "text": f"score {prediction.score:.4g} (no threshold set)"}
    positive = prediction.score >= threshold
    sign = "≥" if positive else "<"
    return {"positive": positive, "text": f"score {prediction.score:.4g} {sign} threshold {threshold:.4g}"}


def display_value(value):
    """Feature values as an agent reads them: yes/no, at most 6 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def feature_rows(prediction) -> list[dict]:
    """Features in the version's order with their display names; unknown extra keys at the end."""
    declared = {f["name"]: f for f in prediction.version.features}
    rows = []
    values = prediction.features or {}
    for name in [*declared, *[key for key in values if key not in declared]]:
        spec = declared.get(name, {})
        rows.append(
            {
                "name": name,
                "display_name": spec.get("display_name") or name.replace("_", " ").capitalize(),
                "value": display_value(values.get(name)),
                "unit": spec.get("unit") or "",
            }
        )
    return rows


@viewer_required
def decision(request, model_slug: str, request_id: str):
    prediction = selectors.prediction_get(model_slug=model_slug, request_id=request_id)
    now = clock.now()
    if prediction.item_id:
        found = selectors.overrides_for_item(model=prediction.model, item_id=prediction.item_id)
    else:
        found = selectors.overrides_naming_decision(prediction=prediction)
    overrides = [(override, override.state_at(now)) for override in found]
    context = {
        "nav": "ops",
        "tab": "lookup",
        "prediction": prediction,
        "decision": decision_summary(prediction),
        "features": feature_rows(prediction),
        "overrides": overrides,
        "corrections": selectors.correction_list(prediction=prediction),
        "label": selectors.prediction_label(prediction=prediction),
        "others": [(other, decision_summary(other)) for other in selectors.prediction_others(prediction=prediction)],
        "can_act": user_can_act(request.user),
        **explanation_context(prediction=prediction),
    }
    return render(request, "ops/decision.html", context)


def _filtered_overrides(form: OverrideFilterForm):
    data = form.cleaned_data if form.is_valid() else {}
    return selectors.override_list(
        at=clock.now(),
        model_slug=data.get("model", ""),
        item_id=data.get("item", ""),
        creator=data.get("creator", ""),
        state=data.get("state", ""),
        kind=data.get("kind", ""),
    )


@viewer_required
def overrides(request):
    form = OverrideFilterForm(request.GET or None)
    page = _page(request, _filtered_overrides(form))
    now = clock.now()
    rows = [(override, override.state_at(now)) for override in page]
    return render(
        request,
        "ops/overrides.html",
        {
            "nav": "ops",
            "tab": "overrides",
            "form": form,
            "page": page,
            "rows": rows,
            "query": _query_without_page(request),
            "can_act": user_can_act(request.user),
        },
    )


CSV_COLUMNS = [
    "id", "kind", "model", "item_id", "state", "mode", "value", "starts_at", "ends_at",
    "reason", "created_by", "created", "revoked_at", "revoked_by", "revoke_reason",
]  # fmt: skip


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _csv_safe(text: str) -> str:
    # Spreadsheets run cells starting with = + - @ as formulas; reasons are free text typed by people.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@viewer_required
def overrides_csv(request):
    form = OverrideFilterForm(request.GET or None)
    now = clock.now()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="overrides-{now:%Y%m%d-%H%M}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for o in _filtered_overrides(form):
        writer.writerow(
            [
                o.pk, o.kind, o.model.slug if o.model_id else "*", _csv_safe(o.item_id), o.state_at(now),
                o.boost_mode or "", "" if o.boost_value is None else o.boost_value,
                _iso(o.starts_at), _iso(o.ends_at), _csv_safe(o.reason),
                o.created_by.get_username() if o.created_by else "", _iso(o.created_at), _iso(o.revoked_at),
                o.revoked_by.get_username() if o.revoked_by else "", _csv_safe(o.revoke_reason),
            ]
        )  # fmt: skip
    return response


# Audit JSON comes back from jsonb with its keys reordered; show them in the order people read them.
AUDIT_KEY_ORDER = [
    "id", "kind", "model", "item_id", "boost_mode", "boost_value", "starts_at", "ends_at", "reason",
    "revoked_at", "revoke_reason", "prediction", "score", "label", "corrected_outcome", "recorded_as_label",
]  # fmt: skip
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _readable(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        if _ISO_MOMENT.match(value):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            if moment.utcoffset() is not None:
                moment = moment.astimezone(UTC)
            return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
        return value
    return json.dumps(value, ensure_ascii=False)


def audit_changes(before: dict | None, after: dict | None) -> list[dict]:
    """An audit record's before/after as rows of {"key", "before", "after", "changed"}: known keys in
    reading order, then the rest alphabetically; fields empty on both sides are left out; values as an
    agent reads them (text, numbers, yes/no, UTC times, "—" for none)."""
    before, after = before or {}, after or {}
    present = set(before) | set(after)
    keys = [key for key in AUDIT_KEY_ORDER if key in present] + sorted(present - set(AUDIT_KEY_ORDER))
    return [
        {
            "key": key.replace("_", " "),
            "before": _readable(before.get(key)),
            "after": _readable(after.get(key)),
            "changed": before.get(key) != after.get(key),
        }
        for key in keys
        if before.get(key) is not None or after.get(key) is not None
    ]


def _day_start(day) -> datetime | None:
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


@viewer_required
def audit(request):
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    until = data.get("until")
    records = selectors.audit_list(
        action=data.get("action", ""),
        actor=data.get("actor", ""),
        model_slug=data.get("model", ""),
        item_id=data.get("item", ""),
        request_id=data.get("request_id", ""),
        since=_day_start(data.get("since")),
        until=_day_start(until + timedelta(days=1)) if until else None,
    )
    page = _page(request, records)
    for record in page:
        record.changes = audit_changes(record.before, record.after)
    return render(
        request,
        "ops/audit.html",
        {"nav": "ops", "tab": "audit", "form": form, "page": page, "query": _query_without_page(request)},
    )
