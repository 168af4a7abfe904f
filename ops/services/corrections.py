"""Corrections of single decisions by agents, optionally recorded as the decision's label."""

import math

from django.core.exceptions import ValidationError
from django.db import transaction

from monitoring.models import Label, Prediction

from .. import clock
from ..models import AuditRecord, Correction
from .common import audit, clean_text, require_actor
from .labels import fold_human_label, normalise_label


def parse_outcome(text: str):
    """An outcome typed in a form: numbers and true/false become JSON values, the rest stays text."""
    value = (text or "").strip()
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            number = cast(value)
        except ValueError:
            continue
        if math.isfinite(number):
            return number
    return value


def decision_correct(
    *, actor, prediction: Prediction, corrected_outcome, reason: str, record_as_label: bool = False
) -> Correction:
    """Record that ``prediction`` should have been ``corrected_outcome``. With ``record_as_label`` the
    outcome also becomes the prediction's human label, unless an observed label is there: that one
    stays, and a disagreement is kept on the correction (``label_kept``) for the agent to see."""
    require_actor(actor)
    if corrected_outcome is None or corrected_outcome == "":
        raise ValidationError({"corrected_outcome": "The corrected outcome is required."})
    reason = clean_text(reason, "reason", "A reason")
    now = clock.now()
    label = None
    if record_as_label:
        label = normalise_label(model=prediction.model, value=corrected_outcome, field="corrected_outcome")
    with transaction.atomic():
        previous = Label.objects.filter(
            model_id=prediction.model_id, request_id=prediction.request_id
        ).first()
        folded = None
        if record_as_label:
            folded = fold_human_label(prediction=prediction, outcome=label, at=now, field="corrected_outcome")
        correction = Correction.objects.create(
            prediction=prediction,
            corrected_outcome=corrected_outcome,
            reason=reason,
            recorded_as_label=bool(folded and folded.written),
            label_kept=folded.kept if folded else None,
            created_by=actor,
            created_at=now,
        )
        after = {"corrected_outcome": corrected_outcome, "recorded_as_label": correction.recorded_as_label}
        if folded is not None and not folded.written:
            after["observed_label_kept"] = folded.previous
        audit(
            actor=actor,
            action=AuditRecord.Action.CORRECT,
            obj=correction,
            reason=reason,
            before={
                "prediction": prediction.prediction,
                "score": prediction.score,
                "label": previous.value if previous else None,
            },
            after=after,
            model_slug=prediction.model.slug,
            item_id=prediction.item_id or "",
            request_id=prediction.request_id,
        )
    return correction
