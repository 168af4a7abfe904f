"""Words and small pictures for an alert: its summary, the incident's headline, a sparkline."""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
BARS = "▁▂▃▄▅▆▇█"
LABELS = {
    "drift": "drift", "prediction_drift": "prediction drift", "multivariate_drift": "multivariate drift",
    "quality": "data quality", "volume": "volume", "no_data": "no data", "performance": "performance",
    "estimated_performance": "estimated performance", "concept_drift": "concept drift",
    "label_shift": "label shift", "staleness": "staleness",
}


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def comparison(alert, rule) -> tuple[str, float | None]:
    """The comparison that broke, as (sign, threshold): explicit rules their own; learned ones the band edge."""
    if rule.threshold != "learned":
        return rule.threshold["op"], float(rule.threshold["value"])
    low, high = (alert.expected or [None, None])[:2]
    if alert.value is not None and low is not None and alert.value < low:
        return "<", low
    if high is not None:
        return ">", high
    return "", None


def alert_summary(*, alert, rule) -> str:
    what = alert.metric or LABELS.get(alert.kind, alert.kind)
    where = f" in {', '.join(alert.features)}" if alert.features else ""
    where += f" (segment {alert.segment})" if alert.segment else ""
    return f"{LABELS.get(alert.kind, alert.kind)}{where}: {what} {_num(alert.value)}{_against(alert, rule)}"


def _relation(alert, rule) -> str:
    """`` < 0.78`` while the value breaks the limit; once it no longer does (a resolved alert's
    last window) the true relation, `` ≥ 0.78`` or, for a learned band, `` within 0.70–0.85``:
    a resolved headline must not read as a breach."""
    sign, limit = comparison(alert, rule)
    if limit is None:
        return ""
    value = alert.value
    if value is None or (value < limit if sign == "<" else value > limit):
        return f" {sign} {_num(limit)}"
    low, high = (alert.expected or [None, None])[:2]
    if rule.threshold == "learned" and low is not None and high is not None:
        return f" within {_num(low)}–{_num(high)}"
    return f" {'≥' if sign == '<' else '≤'} {_num(limit)}"


def _against(alert, rule) -> str:
    return _relation(alert, rule) or " (past the health verdict's threshold)"


def trouble_began(alert, rule) -> datetime | None:
    """When the trouble began: an alert fires at the close of its ``for_windows``-th breaching
    window (``started_at``), so at the start of the first of them (a daily window of 6 Dec fires at
    midnight on the 7th, and the subject says "since 6 Dec")."""
    if alert.started_at is None:
        return None
    if rule is None or getattr(rule, "granularity", None) not in WINDOW:
        return alert.started_at
    return alert.started_at - max(int(rule.for_windows or 1), 1) * WINDOW[rule.granularity]


def headline(alert, rule) -> str:
    """``accuracy 0.62 < 0.78 since 23 Nov`` (the subject's tail)."""
    what = alert.metric or LABELS.get(alert.kind, alert.kind)
    if alert.features and alert.kind in ("drift", "quality"):
        what = f"{LABELS[alert.kind]} {alert.metric or 'score'} of {', '.join(alert.features)}"
    if alert.segment:
        what = f"{what} in segment {alert.segment}"
    since = f" since {began:%-d %b}" if (began := trouble_began(alert, rule)) else ""
    return f"{what} {_num(alert.value)}{_relation(alert, rule)}{since}"


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(" " if v is None else BARS[int((v - low) / span * (len(BARS) - 1))] for v in values)


def bar_heights(values: list[float | None]) -> list[int]:
    """Heights in pixels (2..24) of the HTML sparkline's bars; 0 for a window with no value."""
    known = [v for v in values if v is not None]
    if not known:
        return []
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return [0 if v is None else 2 + int((v - low) / span * 22) for v in values]
