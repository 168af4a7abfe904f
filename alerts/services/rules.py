"""Alert rules: the default set a model gets at creation, and validated create/update/delete."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction

from ..models import KINDS, AlertRule

# (name, kind, severity, for_windows): what a new model is watched for, sent to its subscribers.
DEFAULT_RULES = [
    ("Performance fell", "performance", "critical", 1),
    ("Concept drift", "concept_drift", "critical", 1),
    ("No data", "no_data", "critical", 2),
    ("Input drift", "drift", "warning", 2),
    ("Data quality", "quality", "warning", 2),
    ("Volume anomaly", "volume", "warning", 2),
    ("Estimated performance fell", "estimated_performance", "warning", 2),
    ("Prediction drift", "prediction_drift", "info", 2),
]
FIELDS = ("name", "kind", "granularity", "threshold", "for_windows", "keep_firing_for", "lookback_hours",
          "severity", "recipients", "webhook", "webhook_format", "features", "segments", "enabled")


class RuleInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def rules_create_default(*, model) -> list[AlertRule]:
    return [
        AlertRule.objects.create(model=model, name=name, kind=kind, severity=severity, for_windows=n,
                                 threshold="learned", recipients=["subscribers"])
        for name, kind, severity, n in DEFAULT_RULES
    ]


def _int(value, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def rule_clean(*, data: dict, partial: bool = False) -> dict:
    """The rule fields of ``data``, checked; raises RuleInvalid naming every bad field."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(FIELDS))
    for key in unknown:
        errors[key] = ["Unknown field."]
    if not partial:
        for key in ("name", "kind"):
            if key not in data:
                errors[key] = ["This field is required."]
    out: dict = {}
    for key, value in data.items():
        if key in unknown:
            continue
        problem = _check(key, value)
        if problem:
            errors[key] = [problem]
        else:
            out[key] = value.strip() if isinstance(value, str) and key != "threshold" else value
    if errors:
        raise RuleInvalid(errors)
    return out


def _check(key: str, value) -> str:
    if key == "name":
        return "" if isinstance(value, str) and 0 < len(value.strip()) <= 200 else "A name of 1 to 200 characters."
    if key == "kind":
        return "" if value in KINDS else f"One of: {', '.join(KINDS)}."
    if key == "granularity":
        return "" if value in ("hour", "day") else "One of: hour, day."
    if key == "severity":
        return "" if value in ("critical", "warning", "info") else "One of: critical, warning, info."
    if key == "webhook_format":
        return "" if value in ("json", "slack") else "One of: json, slack."
    if key == "threshold":
        if value == "learned":
            return ""
        if (isinstance(value, dict) and set(value) == {"op", "value"} and value["op"] in (">", "<")
                and isinstance(value["value"], int | float) and not isinstance(value["value"], bool)):
            return ""
        return 'Either "learned" or {"op": ">" or "<", "value": a number}.'
    if key in ("for_windows", "keep_firing_for"):
        return "" if _int(value, 1, 100) else "A whole number from 1 to 100."
    if key == "lookback_hours":
        return "" if _int(value, 1, 24 * 90) else "Hours, a whole number from 1 to 2160."
    if key == "enabled":
        return "" if isinstance(value, bool) else "true or false."
    if key == "webhook":
        if value in ("", None):
            return ""
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            return "An http(s) URL."
        return ""
    if key == "segments":
        ok = isinstance(value, bool) or (isinstance(value, list) and len(value) <= 50
                                         and all(isinstance(s, str) and 0 < len(s) <= 100 for s in value))
        return "" if ok else "true (every segment), false (all rows only) or a list of segment names."
    if key == "features":
        ok = isinstance(value, list) and all(isinstance(f, str) and f for f in value)
        return "" if ok else "A list of feature names."
    if key == "recipients":
        if not isinstance(value, list):
            return "A list of addresses, user:<name>, group:<name> or subscribers."
        for i, entry in enumerate(value):
            if not isinstance(entry, str):
                return f"Item {i}: not a string."
            if entry == "subscribers" or re.fullmatch(r"(user|group):.+", entry):
                continue
            try:
                validate_email(entry)
            except ValidationError:
                return f"Item {i}: {entry!r} is not an address, user:<name>, group:<name> or subscribers."
        return ""
    return ""


def rule_create(*, model, data: dict) -> AlertRule:
    clean = rule_clean(data=data)
    clean["webhook"] = clean.get("webhook") or ""
    return AlertRule.objects.create(model=model, **clean)


@transaction.atomic
def rule_update(*, rule: AlertRule, data: dict) -> AlertRule:
    clean = rule_clean(data=data, partial=True)
    if "webhook" in clean:
        clean["webhook"] = clean["webhook"] or ""
    for key, value in clean.items():
        setattr(rule, key, value)
    if "severity" in clean:
        rule.demoted_at = None  # an admin who sets the severity again takes the rule back from demotion
    rule.save()
    return rule


def rule_delete(*, rule: AlertRule) -> None:
    rule.delete()
