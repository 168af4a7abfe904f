"""Reads of the ops console: decision lookup, overrides by state, audit log, serving snapshot."""

import hashlib
import threading
from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from monitoring.models import Label, MLModel, Prediction
from monitoring.selectors.predictions import prediction_for_request, request_predictions, version_ids

from . import clock
from .models import AuditRecord, Correction, Override, OverrideState
from .rerank import ActiveOverrides, blacklist_reason, boost_reason


def prediction_lookup(*, query: str, model: MLModel | None = None) -> QuerySet[Prediction]:
    """Served decisions whose request_id, entity_id (customer) or item_id equals ``query``,
    newest first (a shadow version's predictions are not decisions).

    The model id is always constrained so each branch uses its (model_id, ...) index, and the
    request_id branch names the versions for the (model, version, request_id) key.
    """
    query = query.strip()
    model_ids = [model.pk] if model else list(MLModel.objects.values_list("pk", flat=True))
    by_request = Q(version_id__in=version_ids(model_ids=model_ids), request_id=query)  # the key's prefix
    return (
        Prediction.objects.filter(model_id__in=model_ids, served=True)
        .filter(by_request | Q(entity_id=query) | Q(item_id=query))
        .select_related("model", "version")
        .order_by("-timestamp", "-id")
    )


def prediction_get(*, model_slug: str, request_id: str) -> Prediction:
    """The decision served for ``request_id`` (not a shadow version's prediction)."""
    model = get_object_or_404(MLModel, slug=model_slug)
    return prediction_for_request(model=model, request_id=request_id)


def prediction_others(*, prediction: Prediction) -> list[Prediction]:
    """Other versions' predictions of the same request (e.g. a shadow's), for comparison."""
    rows = request_predictions(model=prediction.model, request_id=prediction.request_id)
    return [row for row in rows if row.pk != prediction.pk]


def prediction_label(*, prediction: Prediction) -> Label | None:
    return Label.objects.filter(model_id=prediction.model_id, request_id=prediction.request_id).first()


def correction_list(*, prediction: Prediction) -> QuerySet[Correction]:
    return Correction.objects.filter(prediction=prediction).select_related("created_by")


def state_q(state: str, at: datetime) -> Q:
    live = Q(revoked_at__isnull=True)
    if state == OverrideState.ACTIVE:
        return live & Q(starts_at__lte=at) & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    if state == OverrideState.SCHEDULED:
        return live & Q(starts_at__gt=at)
    if state == OverrideState.EXPIRED:
        return live & Q(ends_at__lte=at)
    if state == OverrideState.REVOKED:
        return Q(revoked_at__isnull=False)
    raise ValueError(f"Unknown state {state!r}")


def override_list(
    *,
    at: datetime,
    model_slug: str = "",
    item_id: str = "",
    creator: str = "",
    state: str = "",
    kind: str = "",
) -> QuerySet[Override]:
    """Overrides, newest first, filtered; ``model_slug="*"`` means entries for all models only."""
    overrides = Override.objects.select_related("model", "created_by", "revoked_by")
    if model_slug == "*":
        overrides = overrides.filter(model__isnull=True)
    elif model_slug:
        overrides = overrides.filter(Q(model__slug=model_slug) | Q(model__isnull=True))
    if item_id:
        overrides = overrides.filter(item_id=item_id.strip())
    if creator:
        overrides = overrides.filter(created_by__username=creator.strip())
    if state:
        overrides = overrides.filter(state_q(state, at))
    if kind:
        overrides = overrides.filter(kind=kind)
    return overrides


def overrides_for_item(*, model: MLModel, item_id: str) -> QuerySet[Override]:
    return override_list(at=clock.now(), model_slug=model.slug, item_id=item_id)


def audit_list(
    *,
    action: str = "",
    actor: str = "",
    model_slug: str = "",
    item_id: str = "",
    request_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditRecord]:
    records = AuditRecord.objects.all()
    if action:
        records = records.filter(action=action)
    if actor:
        records = records.filter(actor_name=actor.strip())
    if model_slug:
        records = records.filter(model_slug=model_slug)
    if item_id:
        records = records.filter(item_id=item_id.strip())
    if request_id:
        records = records.filter(request_id=request_id.strip())
    if since:
        records = records.filter(created_at__gte=since)
    if until:
        records = records.filter(created_at__lt=until)
    return records


# The set of active overrides only changes when a row is added or revoked (both draw a new change_seq)
# or when time passes a start or an end (the next boundary moves), so these three index lookups are a
# complete fingerprint: an expiry changes the ETag without any write.
_FINGERPRINT_SQL = """
SELECT
  m.id,
  (SELECT max(change_seq) FROM ops_override WHERE model_id = m.id OR model_id IS NULL),
  (SELECT min(starts_at) FROM ops_override
    WHERE revoked_at IS NULL AND starts_at > %(now)s AND (model_id = m.id OR model_id IS NULL)),
  (SELECT min(ends_at) FROM ops_override
    WHERE revoked_at IS NULL AND ends_at > %(now)s AND (model_id = m.id OR model_id IS NULL))
FROM monitoring_model m WHERE m.slug = %(slug)s
"""


def overrides_etag(*, model_slug: str, at: datetime) -> tuple[int, str] | None:
    """(model id, strong quoted ETag of the overrides in force at ``at``), or None for an unknown
    model. One round trip, model lookup included, because the 304 path lives on it."""
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL, {"slug": model_slug, "now": at})
        row = cursor.fetchone()
    if row is None:
        return None
    model_id, change, next_start, next_end = row
    boundary = min((b for b in (next_start, next_end) if b is not None), default=None)
    raw = f"{model_id}:{change}:{boundary.isoformat() if boundary else '-'}"
    return model_id, '"' + hashlib.sha1(raw.encode()).hexdigest()[:32] + '"'


def overrides_active(*, model_id: int, at: datetime) -> ActiveOverrides:
    """Every override in force for the model at ``at``, in one query."""
    rows = (
        Override.objects.filter(Q(model_id=model_id) | Q(model__isnull=True))
        .filter(state_q(OverrideState.ACTIVE, at))
        .order_by("id")
        .values_list(
            "id", "kind", "model_id", "item_id", "boost_mode", "boost_value", "starts_at", "ends_at", "reason"
        )
    )
    blacklist: dict[str, dict] = {}
    boosts: dict[str, dict] = {}
    for pk, kind, model_id, item_id, mode, value, starts_at, ends_at, reason in rows:
        if kind == Override.Kind.BLACKLIST:
            if item_id not in blacklist:
                entry = {
                    "id": pk,
                    "scope": "model" if model_id else "all",
                    "expires_at": ends_at,
                    "reason": reason,
                }
                entry["text"] = blacklist_reason(entry)
                blacklist[item_id] = entry
        elif item_id not in boosts:
            entry = {
                "id": pk,
                "mode": mode,
                "value": value,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "reason": reason,
            }
            entry["text"] = boost_reason(entry)
            boosts[item_id] = entry
    return ActiveOverrides(blacklist=blacklist, boosts=boosts)


_snapshot_cache: dict[int, tuple[str, ActiveOverrides]] = {}
_snapshot_lock = threading.Lock()


def overrides_snapshot(*, model_slug: str, at: datetime) -> tuple[str, ActiveOverrides]:
    """(ETag, active overrides) for serving; the set is cached per process under its ETag, so a hot
    rerank path costs one query until something changes. Raises Http404 for an unknown model."""
    found = overrides_etag(model_slug=model_slug, at=at)
    if found is None:
        raise Http404(f"No model '{model_slug}'.")
    model_id, etag = found
    cached = _snapshot_cache.get(model_id)
    if cached is not None and cached[0] == etag:
        return cached
    snapshot = (etag, overrides_active(model_id=model_id, at=at))
    with _snapshot_lock:
        _snapshot_cache[model_id] = snapshot
    return snapshot
