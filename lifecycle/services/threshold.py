"""Thresholds learned from labels: a recommendation (read) and its application through the gate."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from lifecycle.comparison import Side, compare_paired, decisions
from lifecycle.models import Event, EventKind, GateEvaluation, GateOutcome
from lifecycle.selectors.comparison import rules_for
from lifecycle.selectors.labelled import labelled_rows
from lifecycle.stats.thresholds import best_threshold
from monitoring.models import ModelVersion

from .gate import comparison_checks, health_checks, outcome_of
from .stage import GateRefused, _deploy, _lock


def threshold_recommend(*, version: ModelVersion, min_recall: float | None = None,
                        min_precision: float | None = None) -> dict:
    """The contract's threshold body; threshold None when no threshold meets the target."""
    score, _, label = labelled_rows(version=version)
    found = best_threshold(label >= 0.5, score, min_recall=min_recall, min_precision=min_precision) if label.size else None
    body = found or {"threshold": None, "precision": None, "recall": None, "recall_lower_bound": None,
                     "precision_lower_bound": None, "labelled": int(label.size),
                     "positives": int((label >= 0.5).sum())}
    body["current_threshold"] = version.threshold
    body["target"] = {"min_recall": min_recall} if min_recall is not None else {"min_precision": min_precision}
    return body


def threshold_gate(*, version: ModelVersion, threshold: float) -> GateEvaluation:
    """The gate for a new threshold: decisions at the new and the current threshold on the same
    labelled requests, judged like a promotion (label maturity, change above -margin, health)."""
    model = version.model
    score, _, label = labelled_rows(version=version)
    rules = rules_for(model=model)
    task = model.task
    nan = score * float("nan")
    a = Side(score, decisions(task=task, score=score, logged=nan, threshold=version.threshold))
    b = Side(score, decisions(task=task, score=score, logged=nan, threshold=threshold))
    comparison = compare_paired(task=task, a=a, b=b, label=label, rules=rules)
    checks = comparison_checks(comparison=comparison, margin=rules.margin, min_pairs=rules.min_labels,
                               min_labels=rules.min_labels, task=task, ranking_changes=False)
    checks += health_checks(candidate=version)
    return GateEvaluation.objects.create(model=model, candidate=version, baseline=version, threshold=threshold,
                                         outcome=outcome_of(checks), checks=checks)


def threshold_change(*, version: ModelVersion, threshold: float, actor: str, reason: str = "",
                     force: bool = False) -> Event:
    """Set the version's threshold after its gate passes (or forced with a reason); audited."""
    if version.model.task != "binary_classification":
        raise ValidationError({"threshold": "Only binary classification models have a decision threshold."})
    if not 0.0 <= threshold <= 1.0:
        raise ValidationError({"threshold": "Must be between 0 and 1."})
    reason = (reason or "").strip()
    if force and not reason:
        raise ValidationError({"reason": "A reason is required to force a threshold change."})
    gate = threshold_gate(version=version, threshold=threshold)
    if gate.outcome != GateOutcome.PASS and not force:
        raise GateRefused(gate)
    with transaction.atomic():
        _lock(version.model)
        previous = ModelVersion.objects.select_for_update().get(pk=version.pk).threshold
        ModelVersion.objects.filter(pk=version.pk).update(threshold=threshold)
        event = Event.objects.create(
            model=version.model, kind=EventKind.THRESHOLD, version=version, actor=actor, reason=reason,
            forced=force and gate.outcome != GateOutcome.PASS, gate=gate,
            evidence={"from": previous, "to": threshold, "gate": gate.outcome, "checks": gate.checks},
        )
        version.refresh_from_db()
        if version.stage == "production":
            _deploy(event, production=version, previous=None)
    return event
