"""Bulk relabel of the decisions matching an error pattern: previewed, audited, undoable. Like every
human label it never replaces an observed label."""

from django.core.exceptions import ValidationError
from django.db import transaction

from core.locks import LockSpace, advisory_lock
from monitoring.engine.batch import LabelChange
from monitoring.models import Label, MLModel
from monitoring.services.labels import labels_ingest
from monitoring.services.sketching import sketch_fold_labels

from .. import clock
from ..models import AuditRecord, Relabel
from ..review_selectors import matching_request_ids
from .common import audit, clean_text, require_actor
from .labels import normalise_label  # noqa: F401 - the pattern page checks a label before previewing


def relabel_preview(*, model: MLModel, start, end, condition: dict) -> dict:
    """How many decisions match, how many would get the label, how many keep an observed label."""
    request_ids = matching_request_ids(model=model, start=start, end=end, condition=condition)
    observed = Label.objects.filter(model=model, request_id__in=request_ids, human_corrected=False).count()
    return {
        "matching": len(request_ids),
        "to_relabel": len(request_ids) - observed,
        "observed_kept": observed,
    }


def relabel_apply(
    *, actor, model: MLModel, start, end, condition: dict, label, reason: str, description: str, expected: int
) -> Relabel:
    """Give every matching decision without an observed label the human label ``label``. ``expected``
    is the count the person confirmed in the preview: if the set changed since, nothing is done."""
    require_actor(actor)
    reason = clean_text(reason, "reason", "A reason")
    label = normalise_label(model=model, value=label, field="label")
    now = clock.now()
    with transaction.atomic():
        advisory_lock(LockSpace.LABEL_WRITE, model.pk)
        request_ids = matching_request_ids(model=model, start=start, end=end, condition=condition)
        stored = dict(
            Label.objects.filter(model=model, request_id__in=request_ids).values_list(
                "request_id", "human_corrected"
            )
        )
        targets = [r for r in request_ids if stored.get(r, True)]
        if len(targets) != expected:
            raise ValidationError(
                {
                    "expected": f"{len(targets)} decisions would now be relabelled, not the {expected} previewed: preview again."
                }
            )
        if not targets:
            raise ValidationError({"expected": "No decision to relabel: every match has an observed label."})
        previous = dict(
            Label.objects.filter(model=model, request_id__in=targets).values_list("request_id", "value")
        )
        relabel = Relabel.objects.create(
            model=model, description=description, conditions={**condition, "start": start.isoformat(), "end": end.isoformat()},
            label=label, reason=reason, created_by=actor, created_at=now,
        )  # fmt: skip
        relabel.entries.bulk_create(
            [relabel.entries.model(relabel=relabel, request_id=r, previous=previous.get(r)) for r in targets]
        )
        labels_ingest(
            model=model, rows=[{"request_id": r, "label": label} for r in targets], human_corrected=True
        )
        audit(
            actor=actor, action=AuditRecord.Action.RELABEL, obj=relabel, reason=reason, before=None,
            after={"pattern": description, "label": label, "relabelled": len(targets)}, model_slug=model.slug,
        )  # fmt: skip
    return relabel


def relabel_undo(*, actor, relabel_id: int, reason: str) -> Relabel:
    """Put back the labels a bulk relabel replaced (removing those it added). A label changed since
    (an observed label arrived, or another person relabelled) is left as it is."""
    require_actor(actor)
    reason = clean_text(reason, "reason", "A reason")
    now = clock.now()
    with transaction.atomic():
        relabel = Relabel.objects.select_for_update().select_related("model").get(pk=relabel_id)
        if relabel.undone_at is not None:
            raise ValidationError({"reason": f"Relabel #{relabel.pk} was already undone."})
        model = relabel.model
        advisory_lock(LockSpace.LABEL_WRITE, model.pk)
        entries = {e.request_id: e.previous for e in relabel.entries.all()}
        current = {
            label.request_id: label
            for label in Label.objects.filter(model=model, request_id__in=list(entries), human_corrected=True)
        }
        ours = [r for r, label in current.items() if label.value == relabel.label]
        restore = [{"request_id": r, "label": entries[r]} for r in ours if entries[r] is not None]
        remove = [r for r in ours if entries[r] is None]
        if restore:
            labels_ingest(model=model, rows=restore, human_corrected=True)
        if remove:
            Label.objects.filter(model=model, request_id__in=remove).delete()
            # A removal folds as a change to "no label": the old value is subtracted, nothing added.
            sketch_fold_labels(
                model=model, changes=[LabelChange(r, None, relabel.label, True) for r in remove]
            )
        Relabel.objects.filter(pk=relabel.pk).update(undone_at=now)
        relabel.undone_at = now
        audit(
            actor=actor, action=AuditRecord.Action.UNDO_RELABEL, obj=relabel, reason=reason,
            before={"pattern": relabel.description, "label": relabel.label},
            after={"restored": len(restore), "removed": len(remove), "left_changed": len(entries) - len(ours)},
            model_slug=model.slug,
        )  # fmt: skip
    return relabel
