"""Helpers shared by the ops services: permissions, text fields, the audit record."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from core.locks import LockSpace, advisory_lock

from .. import clock
from ..apps import ACT_PERMISSION, REVIEW_PERMISSION
from ..models import AuditRecord

# Reasons are shown in every row of the console's tables and in serving's rerank answers.
REASON_MAX_LENGTH = 1000
ITEM_MAX_LENGTH = 200
# A x100 multiplier or a +-100 additive boost already puts any item first or last; beyond that a
# value is a typo, and with large scores it would overflow to infinity.
MULTIPLIER_RANGE = (0.01, 100.0)
ADDITIVE_MAX = 100.0


def user_can_act(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(ACT_PERMISSION))


def boost_max_days() -> int:
    return settings.VIGIL_BOOST_MAX_DAYS


def boost_default_days() -> int:
    return settings.VIGIL_BOOST_DEFAULT_DAYS


def user_can_review(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(REVIEW_PERMISSION))


def require_actor(actor) -> None:
    if not user_can_act(actor):
        raise PermissionDenied("You are not allowed to act on overrides or decisions.")


def lock_item(item_id: str) -> None:
    """Serialise writes about one item across all processes until the transaction ends, so two
    agents acting on the same item at once see each other's entries."""
    advisory_lock(LockSpace.OPS_ITEM, item_id)


def clean_text(value: str | None, field: str, label: str, max_length: int = REASON_MAX_LENGTH) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"{label} is required."})
    if len(text) > max_length:
        raise ValidationError(
            {field: f"{label} must be at most {max_length:,} characters (it has {len(text):,})."}
        )
    return text


def audit(*, actor, action: str, obj, reason: str, before, after, model_slug="", item_id="", request_id=""):
    return AuditRecord.objects.create(
        actor_id=actor.pk,
        actor_name=actor.get_username(),
        created_at=clock.now(),
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        model_slug=model_slug or "",
        item_id=item_id or "",
        request_id=request_id or "",
        reason=reason,
        before=before,
        after=after,
    )
