"""Human labels (reviews, corrections, bulk relabels) written as the prediction's label without ever
replacing an observed ground-truth label: a disagreement with one is returned, shown and counted."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError

from core.locks import LockSpace, advisory_lock
from monitoring.engine.validation import RowErrors, check_labels
from monitoring.models import Label, MLModel, Prediction
from monitoring.selectors.registry import model_classes


@dataclass(frozen=True)
class HumanLabelResult:
    written: bool
    previous: object  # the label before (None: there was none)
    kept: object  # the observed label left in place because it disagrees (None: no disagreement)


def normalise_label(*, model: MLModel, value, field: str):
    """A label as monitoring stores it (binary 0/1, a declared class, a finite number), or a
    ValidationError naming ``field``."""
    errors = RowErrors(1)
    out = check_labels([value], errors, task=model.task, classes=model_classes(model=model), name=field)
    if errors.by_row:
        problems = "; ".join(message.removeprefix(f"{field}: ") for message in errors.by_row[0])
        raise ValidationError({field: f"The label could not be recorded: {problems}"})
    return out[0]


def fold_human_label(*, prediction: Prediction, outcome, at: datetime, field: str) -> HumanLabelResult:
    """Store ``outcome`` (already normalised) as ``prediction``'s human label, folded into the sketches
    by label ingestion. An observed label stays: nothing is written, and when it differs it is returned
    in ``kept``. A human label (an earlier correction or review) is replaced. Call inside a transaction."""
    from monitoring.services.labels import labels_ingest

    model = prediction.model
    # Same lock as label ingestion: an observed label cannot land between this read and the write.
    advisory_lock(LockSpace.LABEL_WRITE, model.pk)
    existing = Label.objects.filter(model_id=model.pk, request_id=prediction.request_id).first()
    if existing is not None and not existing.human_corrected:
        kept = None if existing.value == outcome else existing.value
        return HumanLabelResult(written=False, previous=existing.value, kept=kept)
    result = labels_ingest(
        model=model,
        rows=[{"request_id": prediction.request_id, "label": outcome, "timestamp": at.isoformat()}],
        human_corrected=True,
    )
    if result.get("rejected"):
        problems = "; ".join("; ".join(r.get("errors", [])) for r in result["rejected"])
        raise ValidationError({field: f"The label could not be recorded: {problems}"})
    return HumanLabelResult(written=True, previous=existing.value if existing else None, kept=None)
