"""What a rule reads: the health issue's per-window conditions, and how a rule judges one.

The conditions come from ``monitoring.selectors.health.windows_conditions_many`` (the health
findings' per-window values, expected bands and verdicts); this module only adapts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Condition:
    window_start: datetime
    window_end: datetime
    kind: str
    feature: str
    value: float | None
    low: float | None
    high: float | None
    breached: bool
    judged: bool
    n: int | None = None
    metric: str = ""
    segment: str = ""


def _get(obj, name, default=None):
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def condition_from(found, segment: str = "") -> Condition:
    """A monitoring ``WindowCondition`` (or a dict with its fields) as a Condition."""
    expected = _get(found, "expected", default=None) or (None, None)
    features = tuple(_get(found, "features", default=()) or ())
    return Condition(
        window_start=_get(found, "window_start"),
        window_end=_get(found, "window_end"),
        kind=_get(found, "kind"),
        feature=features[0] if len(features) == 1 else "",
        value=_get(found, "value"),
        low=expected[0],
        high=expected[1],
        breached=bool(_get(found, "breached", default=False)),
        judged=bool(_get(found, "judged", default=False)),
        n=_get(found, "n"),
        metric=_get(found, "metric", default="") or "",
        segment=segment,
    )


def conditions_read_many(*, requests: list[tuple], now: datetime, segment: str = "") -> list[list[Condition]]:
    """Every judged-or-not condition of each (version, granularity, start, end) request's windows
    starting in [start, end) (of all rows, or of one segment's), oldest first, in request order:
    one read of the stored windows for them all."""
    from monitoring.selectors.health import windows_conditions_many

    found = windows_conditions_many(requests=requests, now=now, segment=segment)
    return [sorted((_adapt(f, segment) for f in fs), key=lambda c: (c.window_start, c.kind, c.feature)) for fs in found]


def _adapt(found, segment: str) -> Condition:
    """condition_from for a WindowCondition, by plain attribute reads: a hundred per window,
    on every evaluation, where condition_from's dict-or-object lookups showed in profiles."""
    expected = found.expected or (None, None)
    features = found.features or ()
    return Condition(found.window_start, found.window_end, found.kind, features[0] if len(features) == 1 else "",
                     found.value, expected[0], expected[1], bool(found.breached), bool(found.judged), found.n,
                     found.metric or "", segment)


def rule_breached(threshold, condition: Condition) -> bool | None:
    """The rule's verdict on one window: None when the window was not judged (never counts)."""
    if not condition.judged:
        return None
    if threshold == "learned":
        return condition.breached
    if condition.value is None:
        return None
    value = float(threshold["value"])
    return condition.value > value if threshold["op"] == ">" else condition.value < value
