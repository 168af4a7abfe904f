"""The only writes of a version's stage: promotion and rollback, each audited in its transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lifecycle.models import Event, EventKind, GateEvaluation, GateOutcome
from lifecycle.selectors.events import promotion_to_undo
from lifecycle.selectors.policy import policy_get
from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Stage
from monitoring.selectors.registry import version_production

from .gate import gate_evaluate
from .webhooks import delivery_create


class GateRefused(Exception):
    """The gate did not pass and the promotion was not forced."""

    def __init__(self, gate: GateEvaluation):
        super().__init__(f"promotion gate {gate.outcome}: {', '.join(gate.failed_checks())}")
        self.gate = gate


class NothingToRollBack(Exception):
    pass


def _lock(model: MLModel) -> MLModel:
    # One stage change of a model at a time: two admins promoting at once must not both win.
    return MLModel.objects.select_for_update().get(pk=model.pk)


def _deploy(event: Event, *, production: ModelVersion, previous: ModelVersion | None) -> None:
    policy = policy_get(model=event.model)
    if policy.deployment_webhook:
        delivery_create(event=event, url=policy.deployment_webhook, payload={
            "event": event.kind, "event_id": event.pk, "model": event.model.slug,
            "production": production.version, "previous": previous.version if previous else None,
            "threshold": production.threshold, "reason": event.reason, "actor": event.actor,
            "at": event.created_at.isoformat(),
        })


def _reason(reason: str | None, *, required: bool) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise ValidationError({"reason": "A reason is required to force a promotion."})
    return text


def version_promote(*, version: ModelVersion, actor: str, reason: str = "", force: bool = False) -> Event:
    """Make ``version`` production after the gate passes (or, with ``force`` and a reason, anyway).

    The previous production version is archived and kept as the rollback target. Raises
    GateRefused when the gate does not pass and ``force`` is false.
    """
    reason = _reason(reason, required=force)
    model = version.model
    gate = gate_evaluate(model=model, candidate=version)
    if gate.outcome != GateOutcome.PASS and not force:
        raise GateRefused(gate)
    with transaction.atomic():
        _lock(model)
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        previous = version_production(model=model)
        if previous is not None and previous.pk == version.pk:
            raise ValidationError({"version": f"{version.version} is already in production."})
        if (previous.pk if previous else None) != gate.baseline_id and not force:
            raise ValidationError({"version": "Production changed while the gate ran: ask again."})
        now = timezone.now()
        ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).exclude(pk=version.pk).update(stage=Stage.ARCHIVED)
        ModelVersion.objects.filter(pk=version.pk).update(stage=Stage.PRODUCTION, promoted_at=now)
        event = Event.objects.create(
            model=model, kind=EventKind.PROMOTION, version=version, previous=previous, actor=actor, reason=reason,
            forced=force and gate.outcome != GateOutcome.PASS, gate=gate,
            evidence={"gate": gate.outcome, "checks": gate.checks},
        )
        version.refresh_from_db()
        _deploy(event, production=version, previous=previous)
    return event


def version_rollback(*, model: MLModel, actor: str, reason: str = "", proposal: Event | None = None) -> Event:
    """Return production to the version the last (not yet undone) promotion replaced."""
    with transaction.atomic():
        _lock(model)
        promotion = promotion_to_undo(model=model)
        if promotion is None or promotion.previous is None:
            raise NothingToRollBack(f"Model '{model.slug}' has no earlier production version to return to.")
        current, target = promotion.version, promotion.previous
        now = timezone.now()
        ModelVersion.objects.filter(pk=current.pk).update(stage=Stage.ARCHIVED)
        ModelVersion.objects.filter(pk=target.pk).update(stage=Stage.PRODUCTION, promoted_at=now)
        event = Event.objects.create(
            model=model, kind=EventKind.ROLLBACK, version=target, previous=current, actor=actor,
            reason=reason.strip(), undoes=promotion,
            evidence={"undoes_promotion": promotion.pk, "proposal": proposal.pk if proposal else None,
                      **(proposal.evidence if proposal else {})},
        )
        target.refresh_from_db()
        _deploy(event, production=target, previous=current)
    return event


def registry_production_record(*, version: ModelVersion, actor: str, previous: ModelVersion | None = None) -> Event:
    """Audit a production version set through the registry (monitoring's ``production_set``
    signal, inside the registry's transaction): a model's first, or a new version registered
    straight into production in place of ``previous``. Neither ran the gate: there is nothing to
    compare against yet, and the timeline says so."""
    if previous is None:
        reason = "First production version of the model, set through the registry: no production version to gate against."
    else:
        reason = (f"Registered straight into production through the registry, replacing {previous.version} (kept as the "
                  "rollback target). No gate ran: a new version has no traffic shared with production to compare; "
                  "POST .../versions/{version}/promote/ is the gated route.")
    return Event.objects.create(
        model=version.model, kind=EventKind.REGISTERED, version=version, previous=previous,
        actor=actor or "registry", reason=reason, evidence={"source": "registry", "gate": None},
    )
