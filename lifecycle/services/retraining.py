"""The retraining trigger: performance below its band for N windows and enough new labels ->
call the model's retraining webhook with the data period to train on, at most once per cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction

from lifecycle.models import Event, EventKind
from lifecycle.selectors.policy import policy_get
from lifecycle.staleness import training_period
from monitoring.health import LOWER_IS_BETTER, PRIMARY_METRIC
from monitoring.models import Label, MLModel
from monitoring.selectors.dashboard import window_rows
from monitoring.selectors.registry import version_production

from .webhooks import delivery_create

ACTOR = "vigil (retraining trigger)"


def band_floor(*, model: MLModel, metric: str) -> float | None:
    policy = policy_get(model=model)
    if policy.retrain_below is not None:
        return policy.retrain_below
    health = (model.settings or {}).get("health") or {}
    return health.get(f"max_{metric}" if metric in LOWER_IS_BETTER else f"min_{metric}")


def retraining_evidence(*, model: MLModel, now: datetime | None = None) -> dict:
    """Whether the trigger's conditions hold now, and the numbers behind them (read only)."""
    now = now or datetime.now(UTC)
    policy = policy_get(model=model)
    version = version_production(model=model)
    metric = PRIMARY_METRIC.get(model.task, "accuracy")
    out: dict = {"metric": metric, "windows_needed": policy.retrain_windows, "labels_needed": policy.retrain_min_labels,
                 "cooldown_hours": policy.retrain_cooldown_hours, "due": False}
    floor = band_floor(model=model, metric=metric)
    out["band"] = floor
    if version is None or floor is None:
        out["why_not"] = "no production version" if version is None else "no performance band set"
        return out
    period = training_period(version.metadata)
    since = period[1] if period else version.created_at
    out["version"], out["since"] = version.version, since
    rows = window_rows(version=version, granularity="day", start=now - timedelta(days=60), end=now)
    values = [(r.start, r.metrics.get(metric), r.estimated.get(metric)) for r in rows]
    known = [(t, real if real is not None else est) for t, real, est in values if (real if real is not None else est) is not None]
    recent = known[-policy.retrain_windows:]
    below = [v > floor if metric in LOWER_IS_BETTER else v < floor for _, v in recent]
    out["recent"] = [{"start": t, "value": v} for t, v in recent]
    out["labels_since"] = Label.objects.filter(model=model, timestamp__gte=since).count()
    last = Event.objects.filter(model=model, kind=EventKind.RETRAINING).first()
    out["last_request"] = last.created_at if last else None
    cooling = last is not None and now - last.created_at < timedelta(hours=policy.retrain_cooldown_hours)
    if len(recent) < policy.retrain_windows or not all(below):
        out["why_not"] = f"{metric} not below {floor:g} in the last {policy.retrain_windows} windows"
    elif out["labels_since"] < policy.retrain_min_labels:
        out["why_not"] = f"only {out['labels_since']} labels since {since.date()}"
    elif cooling:
        out["why_not"] = f"already requested {last.created_at:%Y-%m-%d %H:%M} (cooldown {policy.retrain_cooldown_hours} h)"
    else:
        out["due"] = True
    out["data_period"] = {"start": since, "end": now}
    return out


def retraining_check(*, model_id: int, now: datetime | None = None) -> Event | None:
    """Request a retraining when due; None when not (or no webhook is set, which is recorded too)."""
    now = now or datetime.now(UTC)
    model = MLModel.objects.get(pk=model_id)
    evidence = retraining_evidence(model=model, now=now)
    if not evidence["due"]:
        return None
    policy = policy_get(model=model)
    with transaction.atomic():
        MLModel.objects.select_for_update().get(pk=model.pk)
        # Re-read under the lock: two workers finding it due at once must request it once.
        last = Event.objects.filter(model=model, kind=EventKind.RETRAINING).first()
        if last is not None and now - last.created_at < timedelta(hours=policy.retrain_cooldown_hours):
            return None
        period = evidence["data_period"]
        event = Event.objects.create(
            model=model, kind=EventKind.RETRAINING, version=version_production(model=model), actor=ACTOR, created_at=now,
            reason=f"{evidence['metric']} below {evidence['band']:g} for {policy.retrain_windows} windows "
                   f"with {evidence['labels_since']} labels since {period['start'].date()}",
            evidence=_jsonable(evidence),
        )
        if policy.retraining_webhook:
            delivery_create(event=event, url=policy.retraining_webhook, payload={
                "event": "retraining", "event_id": event.pk, "model": model.slug, "version": evidence["version"],
                "data_period": {"start": period["start"].isoformat(), "end": period["end"].isoformat()},
                "reason": event.reason,
            })
    return event


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
