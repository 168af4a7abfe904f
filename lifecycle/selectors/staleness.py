"""A model's staleness: age of the production version's training data, and its label debt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from lifecycle.models import Policy
from lifecycle.staleness import training_period
from monitoring.health import Finding
from monitoring.models import MLModel, ModelVersion
from monitoring.selectors.metrics import sketch_range_get
from monitoring.selectors.registry import version_production

from .policy import policy_get

DEBT_DAYS = 30


def _finding(version: ModelVersion, *, end: datetime, limit: int, now: datetime) -> Finding | None:
    """The ``staleness`` finding of a version whose training data ended at ``end``, past ``limit`` days."""
    age = (now - end).total_seconds() / 86400
    if age <= limit:
        return None
    return Finding(
        kind="staleness", severity="warning", metric="age_days", value=round(age, 1),
        expected=(0, limit), since=end + timedelta(days=limit), basis="training data period in the metadata",
        summary=f"{version.version} was trained on data up to {end.date()}, {age:.0f} days ago (maximum {limit}).",
    )


def staleness_findings(*, versions: Sequence[ModelVersion], now: datetime) -> dict[int, list[Finding]]:
    """A ``staleness`` finding for each version whose training data ended more than its model's
    maximum age before ``now`` (monitoring's health verdict calls this through its provider hook;
    ``staleness_get`` too, so the API, the model page and the verdict say the same).
    No query unless a version's metadata names its training period; then one."""
    periods = {v.pk: training_period(v.metadata) for v in versions}
    dated = [v for v in versions if periods[v.pk] is not None]
    out: dict[int, list[Finding]] = {v.pk: [] for v in versions}
    if not dated:
        return out
    limits = dict(Policy.objects.filter(model_id__in={v.model_id for v in dated}).values_list("model_id",
                                                                                               "max_age_days"))
    default = Policy._meta.get_field("max_age_days").default
    for version in dated:
        finding = _finding(version, end=periods[version.pk][1], limit=limits.get(version.model_id, default), now=now)
        if finding is not None:
            out[version.pk].append(finding)
    return out


def staleness_get(*, model: MLModel, now: datetime | None = None) -> dict:
    """``{"version", "training_period", "age_days", "max_age_days", "stale", "finding",
    "label_debt": {"rows", "labelled", "unlabelled", "days"}}`` of the production version;
    ``finding`` is the health finding (its contract shape) or None."""
    now = now or datetime.now(UTC)
    version = version_production(model=model)
    policy = policy_get(model=model)
    if version is None:
        return {"version": None, "age_days": None, "stale": False, "finding": None, "label_debt": None,
                "max_age_days": policy.max_age_days, "training_period": None}
    period = training_period(version.metadata)
    finding = _finding(version, end=period[1], limit=policy.max_age_days, now=now) if period else None
    span = sketch_range_get(version=version, start=now - timedelta(days=DEBT_DAYS), end=now)
    rows, labelled = int(span.sketch.count("rows")), int(span.sketch.count("lab:n"))
    return {
        "version": version.version,
        "training_period": [period[0], period[1]] if period else None,
        "age_days": (now - period[1]).total_seconds() / 86400 if period else None,
        "max_age_days": policy.max_age_days, "stale": finding is not None,
        "finding": finding.to_dict() if finding else None,
        "label_debt": {"rows": rows, "labelled": labelled, "unlabelled": max(rows - labelled, 0), "days": DEBT_DAYS},
    }
