"""Overrides serving applies on top of a model: blacklist, boost, revoke (each audited)."""

import math
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from monitoring.models import MLModel

from .. import clock, targets
from ..models import AuditRecord, Override, OverrideState, next_change_seq
from .common import (
    ADDITIVE_MAX,
    ITEM_MAX_LENGTH,
    MULTIPLIER_RANGE,
    audit,
    boost_default_days,
    boost_max_days,
    clean_text,
    lock_item,
    require_actor,
)


def override_snapshot(override: Override) -> dict:
    """JSON-able state of an override, as audit records keep it."""
    return {
        "id": override.pk,
        "kind": override.kind,
        "model": override.model.slug if override.model_id else None,
        "item_id": override.item_id,
        "boost_mode": override.boost_mode,
        "boost_value": override.boost_value,
        "starts_at": override.starts_at.isoformat() if override.starts_at else None,
        "ends_at": override.ends_at.isoformat() if override.ends_at else None,
        "reason": override.reason,
        "revoked_at": override.revoked_at.isoformat() if override.revoked_at else None,
        "revoke_reason": override.revoke_reason or None,
    }


def _live(queryset, at: datetime):
    """Overrides that apply at ``at`` or will later: not revoked, not ended."""
    return queryset.filter(revoked_at__isnull=True).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))


def _create_override(
    *, actor, action: str, model: MLModel | None, item_id: str, reason: str, now: datetime, **fields
) -> Override:
    """Insert an override and its audit record (the caller holds the transaction and the item lock)."""
    override = Override.objects.create(
        model=model, item_id=item_id, reason=reason, created_by=actor, created_at=now, **fields
    )
    audit(
        actor=actor,
        action=action,
        obj=override,
        reason=reason,
        before=None,
        after=override_snapshot(override),
        model_slug=model.slug if model else "",
        item_id=item_id,
    )
    return override


def override_blacklist(
    *, actor, model: MLModel | None, item_id: str, reason: str, expires_at: datetime | None = None
) -> Override:
    """Blacklist ``item_id`` for ``model`` (None: every model) from now until ``expires_at`` (None: until
    revoked). Refuses a second entry while one already covers the item for that model, a model whose
    decisions are not about items, and an id that names a customer or a request rather than an item.

    The returned override carries ``warnings``: a never-served item (cold start), and boosts of the
    item that stop mattering because a blacklisted item is removed whatever its boost."""
    require_actor(actor)
    item_id = clean_text(item_id, "item_id", "Item", ITEM_MAX_LENGTH)
    reason = clean_text(reason, "reason", "A reason")
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    warnings = targets.override_target_check(model=model, item_id=item_id, kind=Override.Kind.BLACKLIST)
    with transaction.atomic():
        lock_item(item_id)
        existing = _live(Override.objects.filter(kind=Override.Kind.BLACKLIST, item_id=item_id), now)
        scope = Q(model__isnull=True) | Q(model=model) if model else Q(model__isnull=True)
        duplicate = existing.filter(scope).select_related("model").first()
        if duplicate is not None:
            raise ValidationError(
                {
                    "item_id": f"Item '{item_id}' is already blacklisted for {duplicate.scope_label} "
                    f"(entry #{duplicate.pk}); revoke that entry first or leave it as it is."
                }
            )
        boosts = _live(Override.objects.filter(kind=Override.Kind.BOOST, item_id=item_id), now)
        if model is not None:
            boosts = boosts.filter(model=model)
        warnings += [
            f"Boost #{boost.pk} ({boost.describe()} on {boost.scope_label}) no longer applies while this "
            "blacklist stands: a blacklisted item is removed from the ranking whatever its boost."
            for boost in boosts.select_related("model")
        ]
        override = _create_override(
            actor=actor, action=AuditRecord.Action.BLACKLIST, model=model, item_id=item_id, reason=reason,
            now=now, kind=Override.Kind.BLACKLIST, starts_at=now, ends_at=expires_at,
        )  # fmt: skip
    override.warnings = warnings
    return override


def _validate_boost(mode: str, value, starts_at: datetime, ends_at: datetime, now: datetime) -> float:
    if mode not in Override.BoostMode.values:
        raise ValidationError({"mode": "Choose a multiplier or an additive boost."})
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError({"value": "The boost value must be a finite number."})
    if mode == Override.BoostMode.MULTIPLIER and (value <= 0 or value == 1):
        raise ValidationError(
            {"value": "A multiplier must be above 0 and not 1 (e.g. 1.5 to raise by half)."}
        )
    low, high = MULTIPLIER_RANGE
    if mode == Override.BoostMode.MULTIPLIER and not low <= value <= high:
        raise ValidationError({"value": f"A multiplier must be between {low:g} and {high:g}."})
    if mode == Override.BoostMode.ADDITIVE and value == 0:
        raise ValidationError({"value": "An additive boost of 0 would change nothing."})
    if mode == Override.BoostMode.ADDITIVE and abs(value) > ADDITIVE_MAX:
        raise ValidationError(
            {"value": f"An additive boost must be between {-ADDITIVE_MAX:g} and {ADDITIVE_MAX:g}."}
        )
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The end must be after the start."})
    if ends_at <= now:
        raise ValidationError({"ends_at": "The end must be in the future."})
    max_days = boost_max_days()
    if ends_at - starts_at > timedelta(days=max_days):
        raise ValidationError(
            {"ends_at": f"A boost may last at most {max_days} days; choose an earlier end."}
        )
    return float(value)


def override_boost(
    *,
    actor,
    model: MLModel,
    item_id: str,
    mode: str,
    value: float,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Override:
    """Boost ``item_id``'s score for ``model`` between ``starts_at`` (default now) and ``ends_at``
    (default a week later, at most VIGIL_BOOST_MAX_DAYS). One boost per item and model at a time, none
    on an item blacklisted during that period, none on a model whose decisions are not about items.
    The returned override carries ``warnings`` (a never-served item: cold start)."""
    require_actor(actor)
    if model is None:
        raise ValidationError({"model": "Choose the model whose scores the boost changes."})
    item_id = clean_text(item_id, "item_id", "Item", ITEM_MAX_LENGTH)
    reason = clean_text(reason, "reason", "A reason")
    now = clock.now()
    starts_at = starts_at or now
    ends_at = ends_at or starts_at + timedelta(days=boost_default_days())
    value = _validate_boost(mode, value, starts_at, ends_at, now)
    warnings = targets.override_target_check(model=model, item_id=item_id, kind=Override.Kind.BOOST)
    with transaction.atomic():
        lock_item(item_id)
        overlapping = (
            _live(Override.objects.filter(kind=Override.Kind.BOOST, item_id=item_id, model=model), now)
            .filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
            .first()
        )
        if overlapping is not None:
            raise ValidationError(
                {
                    "item_id": f"Item '{item_id}' already has a boost for {model.slug} in that period "
                    f"(entry #{overlapping.pk}, {overlapping.describe()}); revoke it first."
                }
            )
        blacklisted = (
            _live(Override.objects.filter(kind=Override.Kind.BLACKLIST, item_id=item_id), now)
            .filter(Q(model=model) | Q(model__isnull=True), starts_at__lt=ends_at)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=starts_at))
            .select_related("model")
            .first()
        )
        if blacklisted is not None:
            raise ValidationError(
                {
                    "item_id": f"Item '{item_id}' is blacklisted for {blacklisted.scope_label} (entry "
                    f"#{blacklisted.pk}) in that period, so a boost would never apply; revoke the "
                    "blacklist first if the item should be served again."
                }
            )
        override = _create_override(
            actor=actor, action=AuditRecord.Action.BOOST, model=model, item_id=item_id, reason=reason,
            now=now, kind=Override.Kind.BOOST, boost_mode=mode, boost_value=value, starts_at=starts_at,
            ends_at=ends_at,
        )  # fmt: skip
    override.warnings = warnings
    return override


def override_revoke(*, actor, override_id: int, reason: str) -> Override:
    """End an active or scheduled override now. Expired and revoked ones are left as they are."""
    require_actor(actor)
    reason = clean_text(reason, "reason", "A reason")
    with transaction.atomic():
        override = (
            Override.objects.select_for_update(of=("self",)).select_related("model").get(pk=override_id)
        )
        now = clock.now()
        state = override.state_at(now)
        if state == OverrideState.REVOKED:
            raise ValidationError({"reason": f"Override #{override.pk} was already revoked."})
        if state == OverrideState.EXPIRED:
            raise ValidationError({"reason": f"Override #{override.pk} has already expired."})
        before = override_snapshot(override)
        Override.objects.filter(pk=override.pk).update(
            revoked_at=now, revoked_by=actor, revoke_reason=reason, change_seq=next_change_seq()
        )
        override.refresh_from_db()
        audit(
            actor=actor,
            action=AuditRecord.Action.REVOKE,
            obj=override,
            reason=reason,
            before=before,
            after=override_snapshot(override),
            model_slug=override.model.slug if override.model_id else "",
            item_id=override.item_id,
        )
    return override
