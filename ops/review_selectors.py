"""Reads of the review queue: a range's decisions in strata, a batch's progress, estimates and agreement."""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Q

from monitoring.models import Label, MLModel, Prediction

from .models import Correction, Override, ReviewBatch, ReviewItem
from .review_stats import assign_strata, cohen_kappa, error_patterns, hajek_ratio

# An explanation is unusual when its leading feature leads in fewer than this share of the range's
# stored explanations (and there are enough of them to say so).
UNUSUAL_TOP_SHARE = 0.05
UNUSUAL_MIN_EXPLAINED = 20


def near_threshold_band() -> float:
    return settings.VIGIL_REVIEW_NEAR_THRESHOLD


@dataclass(frozen=True)
class Population:
    ids: np.ndarray
    request_ids: list[str]
    strata: np.ndarray


def population_strata(*, model: MLModel, start: datetime, end: datetime) -> Population:
    """Every decision of ``model`` in [start, end) with its stratum (see review_stats.STRATA)."""
    rows = list(
        # Served decisions only: a shadow version's prediction of the same request is not a decision.
        model.prediction_set.filter(timestamp__gte=start, timestamp__lt=end, served=True)
        .order_by("id")
        .values_list("id", "request_id", "score", "version__threshold", "item_id")
    )
    if not rows:
        return Population(np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=object))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    in_range = {
        "prediction__model": model,
        "prediction__timestamp__gte": start,
        "prediction__timestamp__lt": end,
    }
    corrected = set(Correction.objects.filter(**in_range).values_list("prediction_id", flat=True))
    items = {r[4] for r in rows if r[4]}
    overridden_items = set(
        Override.objects.filter(Q(model=model) | Q(model__isnull=True), item_id__in=items).values_list("item_id", flat=True)
    ) if items else set()  # fmt: skip
    flags = {
        "overridden": np.array([r[0] in corrected or (r[4] in overridden_items) for r in rows]),
        "near_threshold": np.zeros(len(rows), dtype=bool),
        "unusual_explanation": np.isin(ids, list(_unusual_explanations(model=model, start=start, end=end))),
    }
    if model.task == "binary_classification":
        band = near_threshold_band()
        flags["near_threshold"] = np.array([t is not None and abs(s - t) <= band for _, _, s, t, _ in rows])
    return Population(ids, [r[1] for r in rows], assign_strata(flags, len(rows)))


UNUSUAL_SQL = """
SELECT e.prediction_id, e.contributions -> 0 ->> 'feature'
FROM explain_explanation e JOIN monitoring_prediction p ON p.id = e.prediction_id
WHERE p.model_id = %s AND p.served AND p."timestamp" >= %s AND p."timestamp" < %s
"""


def _unusual_explanations(*, model: MLModel, start: datetime, end: datetime) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(UNUSUAL_SQL, [model.pk, start, end])
        tops = cursor.fetchall()
    if len(tops) < UNUSUAL_MIN_EXPLAINED:
        return set()
    counts = Counter(feature for _, feature in tops)
    rare = {feature for feature, n in counts.items() if n / len(tops) < UNUSUAL_TOP_SHARE}
    return {pid for pid, feature in tops if feature in rare}


def model_decision(prediction, task: str, threshold: float | None):
    """The decision the model made, in the label's form (binary 0/1, a class), or None."""
    value = prediction.prediction
    if task == "binary_classification":
        if isinstance(value, bool) or value in (0, 1):
            return int(value)
        return None if threshold is None else int(prediction.score >= threshold)
    if task == "multiclass_classification":
        return value
    return None


def item_decision(*, item: ReviewItem, task: str):
    """The model's decision on a review item, from what the item kept (None if it kept nothing)."""
    if item.version is None:
        return None
    return model_decision(SimpleNamespace(prediction=item.decision, score=item.score), task, item.version.threshold)


def item_prediction(*, item: ReviewItem, model: MLModel):
    """The item's prediction row, or when retention dropped it what the item kept, shaped like one
    for the review page; and whether the raw row is gone."""
    row = Prediction.objects.filter(pk=item.prediction_id, model=model).select_related("version").first()
    if row is not None:
        row.model = model
        return row, False
    return SimpleNamespace(
        pk=item.prediction_id, model=model, request_id=item.request_id, version=item.version, served=True,
        timestamp=item.predicted_at, score=item.score, prediction=item.decision, features=item.features or {},
    ), True


@dataclass
class ReviewedItem:
    item: ReviewItem
    outcomes: list  # reviews in order: (reviewer_name, outcome)
    observed: object  # observed (not human) label, None if none
    truth: object
    decision: object

    @property
    def correct(self) -> bool | None:
        if self.decision is None or self.truth is None:
            return None
        return self.decision == self.truth


def reviewed_items(*, batch: ReviewBatch) -> list[ReviewedItem]:
    """The batch's reviewed items. An item's true outcome is its observed label when there is one
    (ground truth wins), else its first review."""
    items = list(
        # The items' own copy of their prediction: a raw row dropped by retention must not drop its item.
        batch.items.select_related("version").prefetch_related("reviews").order_by("position")
    )
    observed = dict(
        Label.objects.filter(
            model_id=batch.model_id, request_id__in=[i.request_id for i in items], human_corrected=False
        ).values_list("request_id", "value")
    )
    out = []
    for item in items:
        reviews = list(item.reviews.all())
        if not reviews:
            continue
        seen = observed.get(item.request_id)
        out.append(
            ReviewedItem(
                item=item,
                outcomes=[(r.reviewer_name, r.outcome) for r in reviews],
                observed=seen,
                truth=seen if seen is not None else reviews[0].outcome,
                decision=item_decision(item=item, task=batch.model.task),
            )
        )
    return out


def batch_summary(*, batch: ReviewBatch) -> dict:
    """Progress, Hajek estimates (accuracy; precision and recall for binary models) with 95%
    intervals, agreement (Cohen's kappa over double-reviewed items, overall and per reviewer) and
    disagreements with observed labels."""
    done = reviewed_items(batch=batch)
    population = {name: pair[0] for name, pair in batch.allocation.items()}
    judged = [r for r in done if r.correct is not None]
    estimate: dict = {"accuracy": None, "ci": None, "n": len(judged)}
    if judged:
        strata = np.array([r.item.stratum for r in judged], dtype=object)
        probs = reviewed_probabilities(judged, strata, population)
        correct = np.array([r.correct for r in judged], dtype=float)
        accuracy = hajek_ratio(correct, np.ones(len(judged)), probs, strata, population)
        estimate.update(accuracy=accuracy.value, ci=[accuracy.low, accuracy.high])
        if batch.model.task == "binary_classification":
            decided = np.array([r.decision == 1 for r in judged], dtype=float)
            actual = np.array([r.truth == 1 for r in judged], dtype=float)
            estimate["precision"] = hajek_ratio(
                decided * actual, decided, probs, strata, population
            ).to_dict()
            estimate["recall"] = hajek_ratio(decided * actual, actual, probs, strata, population).to_dict()
    elif batch.model.task not in ("binary_classification", "multiclass_classification"):
        estimate["reason"] = "Accuracy needs a decision per prediction: only classification models have one."
    disagreeing = [r for r in done if r.observed is not None and r.outcomes[0][1] != r.observed]
    items_by_stratum = Counter(batch.items.values_list("stratum", flat=True))
    reviewed_by_stratum = Counter(r.item.stratum for r in done)
    return {
        "id": batch.pk,
        "model": batch.model.slug,
        "start": batch.start,
        "end": batch.end,
        "population": batch.population,
        "size": batch.size,
        "reviewed": len(done),
        "strata": [
            {
                "stratum": name,
                "population": pair[0],
                "sampled": pair[1],
                "reviewed": reviewed_by_stratum[name],
                "inclusion_probability": pair[1] / pair[0] if pair[0] else None,
            }
            for name, pair in batch.allocation.items()
            if items_by_stratum[name] or pair[0]
        ],  # fmt: skip
        "estimate": estimate,
        "agreement": agreement(done),
        "observed_label_disagreements": len(disagreeing),
    }


def reviewed_probabilities(judged: list[ReviewedItem], strata: np.ndarray, population: dict[str, int]) -> np.ndarray:
    """Inclusion probabilities of the reviewed items. Once a stratum is fully reviewed these are the
    drawn ones (n_h / N_h); while it is partly reviewed, its reviewed items stand for the whole stratum
    (r_h / N_h), as if the unreviewed ones were missing at random within it, so a stratum reviewed
    faster than another does not tilt the estimate."""
    reviewed = Counter(strata.tolist())
    return np.array(
        [reviewed[r.item.stratum] / population[r.item.stratum] if population.get(r.item.stratum)
         else r.item.inclusion_probability for r in judged]
    )  # fmt: skip


def agreement(done: list[ReviewedItem]) -> dict:
    pairs = [(r.outcomes[0], r.outcomes[1]) for r in done if len(r.outcomes) >= 2]
    by_reviewer: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for (name_a, a), (name_b, b) in pairs:
        by_reviewer[name_a][0].append(a)
        by_reviewer[name_a][1].append(b)
        by_reviewer[name_b][0].append(b)
        by_reviewer[name_b][1].append(a)
    return {
        "kappa": cohen_kappa([a for (_, a), _ in pairs], [b for _, (_, b) in pairs]),
        "pairs": len(pairs),
        "agreed": sum(a == b for (_, a), (_, b) in pairs),
        "reviewers": [
            {"reviewer": name, "kappa": cohen_kappa(mine, theirs), "pairs": len(mine)}
            for name, (mine, theirs) in sorted(by_reviewer.items())
        ],
    }


def batch_patterns(*, batch: ReviewBatch, top: int = 5) -> list:
    """Feature conditions over-represented among the batch's reviewed errors."""
    judged = [r for r in reviewed_items(batch=batch) if r.correct is not None]
    rows = [r.item.features or {} for r in judged]
    return error_patterns(rows, np.array([not r.correct for r in judged], dtype=bool), top=top)


def _condition_sql(condition: dict) -> tuple[str, list]:
    feature, kind, value = condition.get("feature"), condition.get("condition"), condition.get("value")
    if not isinstance(feature, str) or not feature:
        raise ValueError("feature")
    if kind == "eq":
        return "p.features @> %s::jsonb", [json.dumps({feature: value})]
    if kind in ("le", "gt") and isinstance(value, int | float) and not isinstance(value, bool):
        op = "<=" if kind == "le" else ">"
        return (f"jsonb_typeof(p.features -> %s) = 'number' AND (p.features ->> %s)::float8 {op} %s",
                [feature, feature, float(value)])  # fmt: skip
    raise ValueError("condition")


def matching_request_ids(*, model: MLModel, start: datetime, end: datetime, condition: dict) -> list[str]:
    """Request ids of the model's decisions in [start, end) meeting ``condition``
    ({"feature", "condition": "eq" | "le" | "gt", "value"}), oldest first."""
    where, params = _condition_sql(condition)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT p.request_id FROM monitoring_prediction p WHERE p.model_id = %s AND p.served AND p."timestamp" >= %s '
            f'AND p."timestamp" < %s AND {where} ORDER BY p."timestamp", p.id',
            [model.pk, start, end, *params],
        )
        return [row[0] for row in cursor.fetchall()]

