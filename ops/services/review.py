"""The review queue: drawing batches, handing items to reviewers, recording reviews as human labels."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from monitoring.models import MLModel
from monitoring.selectors.retention import raw_range_gone

from .. import clock
from ..models import ReviewAssignment, ReviewBatch, ReviewItem, ReviewSchedule
from ..review_selectors import population_strata
from ..review_stats import stratified_sample
from .common import user_can_review
from .labels import fold_human_label, normalise_label

NOTE_MAX_LENGTH = 2000
REVIEWER_MAX_LENGTH = 150
# A claim not finished within this time is released to other reviewers (a closed tab, a lunch break).
CLAIM_TTL = timedelta(minutes=30)


def max_batch_size() -> int:
    return settings.VIGIL_REVIEW_MAX_SIZE


def require_reviewer(user) -> None:
    if not user_can_review(user):
        raise PermissionDenied("You are not allowed to review decisions: ask an admin for the permission.")


def batch_create(
    *,
    model: MLModel,
    start: datetime,
    end: datetime,
    size: int,
    double_share: float = 0.1,
    actor=None,
    source: str = ReviewBatch.Source.ON_DEMAND,
    seed: int | None = None,
) -> ReviewBatch:
    """Draw a stratified random sample of ``size`` of ``model``'s decisions in [start, end); each
    item keeps its inclusion probability, and a ``double_share`` of them needs two reviewers."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= max_batch_size():
        raise ValidationError({"size": f"A whole number between 1 and {max_batch_size():,} is required."})
    if not isinstance(double_share, int | float) or not 0 <= double_share <= 0.5 or math.isnan(double_share):
        raise ValidationError({"double_share": "A share between 0 and 0.5 is required."})
    if end <= start:
        raise ValidationError({"end": "The end must be after the start."})
    if (purged := raw_range_gone(model_id=model.pk, start=start)) is not None:
        # A sample of a range partly removed would weigh the rest as if it were the whole.
        raise ValidationError({"start": f"Decisions of {model.slug} before {purged:%Y-%m-%d %H:%M} UTC were removed "
                                        f"by retention (raw rows kept {model.raw_retention_days} days): start "
                                        f"at {purged:%Y-%m-%d %H:%M} or later."})
    population = population_strata(model=model, start=start, end=end)
    if not len(population.ids):
        raise ValidationError(
            {
                "start": f"No decisions of {model.slug} between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC."
            }
        )
    rng = np.random.default_rng(seed)
    sample = stratified_sample(population.strata, size, rng)
    doubles = set(
        rng.choice(len(sample.index), size=round(double_share * len(sample.index)), replace=False).tolist()
    )
    with transaction.atomic():
        batch = ReviewBatch.objects.create(
            model=model,
            start=start,
            end=end,
            population=len(population.ids),
            size=len(sample.index),
            double_share=double_share,
            allocation={name: list(pair) for name, pair in sample.allocation.items()},
            source=source,
            created_by=actor if isinstance(actor, get_user_model()) else None,
            created_at=clock.now(),
        )
        drawn = [int(population.ids[k]) for k in sample.index.tolist()]
        kept = {row["id"]: row for row in model.prediction_set.filter(
            pk__in=drawn, timestamp__gte=start, timestamp__lt=end).values(
            "id", "version_id", "timestamp", "score", "prediction", "features")}
        ReviewItem.objects.bulk_create(
            ReviewItem(
                batch=batch,
                prediction_id=int(population.ids[k]),
                request_id=population.request_ids[k],
                **_kept(kept.get(int(population.ids[k]), {})),
                position=position,
                stratum=sample.stratum[position],
                inclusion_probability=float(sample.probability[position]),
                reviews_needed=2 if position in doubles else 1,
            )
            for position, k in enumerate(sample.index.tolist())
        )
    return batch


def _kept(row: dict) -> dict:
    # Empty for a row retention dropped between the population's read and this one: the item
    # then keeps nulls, like the items ops/0007 could not fill in.
    return {"version_id": row.get("version_id"), "predicted_at": row.get("timestamp"), "score": row.get("score"),
            "decision": row.get("prediction"), "features": row.get("features")}


def scheduled_batches_create(*, now: datetime | None = None) -> list[ReviewBatch]:
    """For every enabled weekly schedule due (never run, or last run a week ago or more), a batch of
    its share of the past week's decisions."""
    now = now or clock.now()
    made = []
    for schedule in ReviewSchedule.objects.filter(enabled=True).select_related("model"):
        if schedule.last_run_at is not None and now - schedule.last_run_at < timedelta(days=7):
            continue
        start = now - timedelta(days=7)
        count = population_strata(model=schedule.model, start=start, end=now).ids.size
        with transaction.atomic():
            claimed = ReviewSchedule.objects.filter(pk=schedule.pk, last_run_at=schedule.last_run_at).update(
                last_run_at=now
            )
            # Another beat run took it first.
            if not claimed or not count:
                continue
            size = min(schedule.max_size, max_batch_size(), max(1, math.ceil(schedule.weekly_share * count)))
            made.append(
                batch_create(
                    model=schedule.model, start=start, end=now, size=size, double_share=schedule.double_share,
                    source=ReviewBatch.Source.SCHEDULED,
                )
            )  # fmt: skip
    return made


def schedule_set(
    *, model: MLModel, weekly_share: float, double_share: float, max_size: int, enabled: bool
) -> ReviewSchedule:
    if not 0 < weekly_share <= 1:
        raise ValidationError(
            {"weekly_share": "A share above 0 and at most 1 is required (e.g. 0.02 for 2%)."}
        )
    if not 0 <= double_share <= 0.5:
        raise ValidationError({"double_share": "A share between 0 and 0.5 is required."})
    if not 1 <= max_size <= max_batch_size():
        raise ValidationError({"max_size": f"Between 1 and {max_batch_size():,}."})
    schedule, _ = ReviewSchedule.objects.update_or_create(
        model=model,
        defaults={
            "weekly_share": weekly_share,
            "double_share": double_share,
            "max_size": max_size,
            "enabled": enabled,
        },
    )
    return schedule


@dataclass(frozen=True)
class Recorded:
    created: bool  # False: this reviewer had already reviewed the item (counted once)
    label_written: bool
    observed_label: object  # the observed label the review disagrees with (None: no disagreement)


def review_record(
    *, item: ReviewItem, reviewer_name: str, outcome, note: str = "", reviewer=None
) -> Recorded:
    """Store one review. The first review of an item becomes the decision's human label (never over
    an observed label); later ones (the double reviews) only measure agreement."""
    reviewer_name = (reviewer_name or "").strip() if isinstance(reviewer_name, str) else ""
    if not reviewer_name or len(reviewer_name) > REVIEWER_MAX_LENGTH:
        raise ValidationError(
            {"reviewer": f"A reviewer name of 1 to {REVIEWER_MAX_LENGTH} characters is required."}
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": f"A note must be at most {NOTE_MAX_LENGTH:,} characters."})
    item = ReviewItem.objects.select_related("batch__model").get(pk=item.pk)
    outcome = normalise_label(model=item.batch.model, value=outcome, field="label")
    now = clock.now()
    with transaction.atomic():
        # The item's row lock orders concurrent reviews of one item: exactly one of them is first.
        ReviewItem.objects.select_for_update().filter(pk=item.pk).first()
        if item.reviews.filter(reviewer_name=reviewer_name).exists():
            return Recorded(created=False, label_written=False, observed_label=None)
        first = not item.reviews.exists()
        item.reviews.create(
            reviewer=reviewer, reviewer_name=reviewer_name, outcome=outcome, note=note, created_at=now
        )
        if reviewer is not None:
            ReviewAssignment.objects.update_or_create(
                item=item,
                reviewer=reviewer,
                defaults={"status": ReviewAssignment.Status.REVIEWED, "claimed_at": now},
            )
        folded = None
        if first:
            # The label goes by (model, request_id): the raw row may be gone by retention.
            decided = SimpleNamespace(model=item.batch.model, request_id=item.request_id)
            folded = fold_human_label(prediction=decided, outcome=outcome, at=now, field="label")
        elif (observed := _observed_label(item)) is not None and observed != outcome:
            return Recorded(created=True, label_written=False, observed_label=observed)
    return Recorded(
        created=True,
        label_written=bool(folded and folded.written),
        observed_label=folded.kept if folded else None,
    )


def _observed_label(item: ReviewItem):
    from monitoring.models import Label

    label = Label.objects.filter(
        model_id=item.batch.model_id, request_id=item.request_id, human_corrected=False
    ).first()
    return label.value if label else None


def results_record(*, batch: ReviewBatch, rows) -> dict:
    """The API's reviews ``[{"request_id", "label", "reviewer", "note"?}]``: all rows are checked first
    and nothing is stored if one is bad (errors keyed "index.field")."""
    if not isinstance(rows, list) or not rows:
        raise ValidationError({"rows": "Send a non-empty JSON array of {request_id, label, reviewer}."})
    items = {item.request_id: item for item in batch.items.all()}  # no join: a raw row retention dropped keeps its item
    errors: dict[str, str] = {}
    checked = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[f"{index}"] = "Each row must be an object with request_id, label and reviewer."
            continue
        request_id, reviewer = row.get("request_id"), row.get("reviewer")
        if not isinstance(request_id, str) or request_id not in items:
            errors[f"{index}.request_id"] = f"{request_id!r} is not a decision of review batch {batch.pk}."
        if (
            not isinstance(reviewer, str)
            or not reviewer.strip()
            or len(reviewer.strip()) > REVIEWER_MAX_LENGTH
        ):
            errors[f"{index}.reviewer"] = (
                f"A reviewer name of 1 to {REVIEWER_MAX_LENGTH} characters is required."
            )
        note = row.get("note", "")
        if not isinstance(note, str) or len(note) > NOTE_MAX_LENGTH:
            errors[f"{index}.note"] = f"A note must be text of at most {NOTE_MAX_LENGTH:,} characters."
        try:
            label = normalise_label(model=batch.model, value=row.get("label"), field="label")
        except ValidationError as error:
            errors[f"{index}.label"] = "; ".join(error.message_dict["label"])
            continue
        if f"{index}.request_id" not in errors and f"{index}.reviewer" not in errors:
            checked.append((items[request_id], reviewer.strip(), label, note))
    if errors:
        raise ValidationError(errors)
    recorded = duplicates = written = disagreements = 0
    with transaction.atomic():
        for item, reviewer, label, note in checked:
            result = review_record(item=item, reviewer_name=reviewer, outcome=label, note=note)
            recorded += result.created
            duplicates += not result.created
            written += result.label_written
            disagreements += result.observed_label is not None
    return {"recorded": recorded, "duplicates": duplicates, "labels_written": written,
            "observed_label_disagreements": disagreements}  # fmt: skip


CLAIM_SQL = """
SELECT i.id FROM ops_review_item i
WHERE i.batch_id = %(batch)s AND i.id <> ALL(%(passed)s::bigint[])
  AND NOT EXISTS (SELECT 1 FROM ops_review_assignment a WHERE a.item_id = i.id AND a.reviewer_id = %(user)s)
  AND NOT EXISTS (SELECT 1 FROM ops_review r WHERE r.item_id = i.id AND r.reviewer_name = %(name)s)
  AND (SELECT count(*) FROM ops_review r WHERE r.item_id = i.id)
    + (SELECT count(*) FROM ops_review_assignment a WHERE a.item_id = i.id AND a.status = 'claimed'
       AND a.claimed_at > %(fresh)s) < i.reviews_needed
ORDER BY i.position
LIMIT 1
FOR UPDATE OF i SKIP LOCKED
"""
# Run again once the item's row lock is ours: a fresh statement sees claims committed by a reviewer
# who held the lock while CLAIM_SQL's snapshot was taken (FOR UPDATE re-checks only the item row).
TAKEN_SQL = """
SELECT (SELECT count(*) FROM ops_review r WHERE r.item_id = %(item)s)
     + (SELECT count(*) FROM ops_review_assignment a WHERE a.item_id = %(item)s AND a.status = 'claimed'
        AND a.claimed_at > %(fresh)s)
     >= (SELECT reviews_needed FROM ops_review_item WHERE id = %(item)s)
"""


def item_claim(*, batch: ReviewBatch, reviewer) -> ReviewItem | None:
    """The reviewer's current item, or the next one nobody holds. Rows being claimed by another
    reviewer at this instant are skipped (SKIP LOCKED), so two reviewers never get the same item
    beyond the number of reviews it needs."""
    require_reviewer(reviewer)
    now = clock.now()
    with transaction.atomic():
        held = (
            ReviewAssignment.objects.filter(
                item__batch=batch,
                reviewer=reviewer,
                status=ReviewAssignment.Status.CLAIMED,
                claimed_at__gt=now - CLAIM_TTL,
            )
            .order_by("item__position")
            .first()
        )
        if held is not None:
            return held.item
        passed: list[int] = []
        with connection.cursor() as cursor:
            while True:
                cursor.execute(
                    CLAIM_SQL,
                    {
                        "batch": batch.pk,
                        "user": reviewer.pk,
                        "name": reviewer.get_username(),
                        "fresh": now - CLAIM_TTL,
                        "passed": passed,
                    },
                )
                row = cursor.fetchone()
                if row is None:
                    return None
                cursor.execute(TAKEN_SQL, {"item": row[0], "fresh": now - CLAIM_TTL})
                if not cursor.fetchone()[0]:
                    break
                passed.append(row[0])
        ReviewAssignment.objects.update_or_create(
            item_id=row[0],
            reviewer=reviewer,
            defaults={"status": ReviewAssignment.Status.CLAIMED, "claimed_at": now},
        )
    return ReviewItem.objects.get(pk=row[0])


def item_skip(*, item: ReviewItem, reviewer) -> None:
    """The reviewer passes on the item; it goes back to the others."""
    require_reviewer(reviewer)
    ReviewAssignment.objects.update_or_create(
        item=item,
        reviewer=reviewer,
        defaults={"status": ReviewAssignment.Status.SKIPPED, "claimed_at": clock.now()},
    )
