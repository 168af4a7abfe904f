"""A model's staleness: age of the production version's training data, and its label debt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifecycle.staleness import age_days, training_period
from monitoring.models import MLModel
from monitoring.selectors.metrics import sketch_range_get
from monitoring.selectors.registry import version_production

from .policy import policy_get

DEBT_DAYS = 30


def staleness_get(*, model: MLModel, now: datetime | None = None) -> dict:
    """``{"version", "training_period", "age_days", "max_age_days", "stale", "finding",
    "label_debt": {"rows", "labelled", "unlabelled", "days"}}`` of the production version."""
    now = now or datetime.now(UTC)
    version = version_production(model=model)
    policy = policy_get(model=model)
    if version is None:
        return {"version": None, "age_days": None, "stale": False, "finding": None, "label_debt": None,
                "max_age_days": policy.max_age_days, "training_period": None}
    period = training_period(version.metadata)
    age = age_days(version.metadata, now)
    span = sketch_range_get(version=version, start=now - timedelta(days=DEBT_DAYS), end=now)
    rows, labelled = int(span.sketch.count("rows")), int(span.sketch.count("lab:n"))
    stale = age is not None and age > policy.max_age_days
    finding = None
    if stale:
        finding = {
            "kind": "staleness", "severity": "warning", "metric": "age_days", "value": round(age, 1),
            "expected": [0, policy.max_age_days], "since": period[1] + timedelta(days=policy.max_age_days),
            "features": [],
            "summary": f"{version.version} was trained on data up to {period[1].date()}, {age:.0f} days ago "
                       f"(maximum {policy.max_age_days}).",
        }
    return {
        "version": version.version,
        "training_period": [period[0], period[1]] if period else None,
        "age_days": age, "max_age_days": policy.max_age_days, "stale": stale, "finding": finding,
        "label_debt": {"rows": rows, "labelled": labelled, "unlabelled": max(rows - labelled, 0), "days": DEBT_DAYS},
    }
