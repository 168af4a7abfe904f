"""The watch period after a promotion: a critical verdict on the new production version proposes
a rollback (and performs it when the model's policy says so)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction

from lifecycle.models import Event, EventKind
from lifecycle.selectors.health import version_health
from lifecycle.selectors.policy import policy_get
from monitoring.models import MLModel
from monitoring.selectors.registry import version_production

from .stage import NothingToRollBack, version_rollback

ACTOR = "vigil (watch period)"


def watch_check(*, model_id: int, now: datetime | None = None) -> Event | None:
    """The proposal (or the rollback) made now, else None."""
    now = now or datetime.now(UTC)
    model = MLModel.objects.get(pk=model_id)
    policy = policy_get(model=model)
    current = version_production(model=model)
    if current is None:
        return None
    promotion = Event.objects.filter(model=model, kind=EventKind.PROMOTION, version=current,
                                     undone_by__isnull=True).first()
    if promotion is None or now - promotion.created_at > timedelta(hours=policy.watch_hours):
        return None
    if Event.objects.filter(model=model, kind=EventKind.ROLLBACK_PROPOSED, evidence__promotion=promotion.pk).exists():
        return None
    health = version_health(version=current, now=now).health
    if health.status != "critical":
        return None
    with transaction.atomic():
        MLModel.objects.select_for_update().get(pk=model.pk)
        if Event.objects.filter(model=model, kind=EventKind.ROLLBACK_PROPOSED, evidence__promotion=promotion.pk).exists():
            return None
        proposal = Event.objects.create(
            model=model, kind=EventKind.ROLLBACK_PROPOSED, version=promotion.previous, previous=current, actor=ACTOR,
            created_at=now,
            reason=f"Critical within {policy.watch_hours} h of the promotion: {health.reason_text}",
            evidence={"promotion": promotion.pk, "health": health.status, "reasons": health.reasons},
        )
    if policy.auto_rollback:
        try:
            return version_rollback(model=model, actor=ACTOR, reason=proposal.reason, proposal=proposal)
        except NothingToRollBack:
            return proposal
    return proposal
