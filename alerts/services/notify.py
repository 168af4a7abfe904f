"""From transitions to outbox rows: grouping, inhibition, silences, snoozes, flapping, throttling.

Called inside the evaluation's transaction, so a state change and its messages commit together."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from ..models import Alert, AlertEvent, Channel, Notification, NotificationKind, Silence, State, Status
from ..models.rules import SEVERITY_RANK
from .messages import message_render
from .recipients import recipients_resolve

WARNING_INTERVAL = timedelta(minutes=5)  # at most one warning message per model and recipient this often
BATCHED = ("warning", "info")  # info here: a drift whose severity was lowered (info rules wait for the digest)
INHIBITORS = {"no_data"}
INHIBITED = {"drift", "prediction_drift", "multivariate_drift", "quality", "performance",
             "estimated_performance", "concept_drift", "label_shift"}
DRIFT_KINDS = {"drift", "prediction_drift", "multivariate_drift"}
PERFORMANCE_KINDS = {"performance", "estimated_performance", "concept_drift"}
LOWER = {"critical": "warning", "warning": "info", "info": "info"}


def silences_active(*, model_id: int, now: datetime) -> list[Silence]:
    return list(Silence.objects.filter(model_id=model_id, starts_at__lte=now, ends_at__gt=now))


def _note(alert: Alert, note: str, state: str = "suppressed") -> None:
    AlertEvent.objects.create(alert=alert, state=state, note=note, window_end=alert.last_window_end, value=alert.value)


def _suppression(alert: Alert, firing: list[Alert], silences: list[Silence]) -> str:
    """Why this transition is not announced now ("" when it is)."""
    collapse = [a for a in firing if a.kind in INHIBITORS or (
        a.kind == "volume" and a.value is not None and a.expected and a.expected[0] is not None
        and a.value < a.expected[0])]
    if alert.kind in INHIBITED and collapse:
        return f"inhibited by {collapse[0].kind.replace('_', ' ')} (no trustworthy data to judge)"
    if alert.kind == "drift":
        bad = {f for a in firing if a.kind == "quality" for f in a.features}
        if set(alert.features) & bad:
            return "inhibited by a data-quality alert on the same feature"
    for silence in silences:
        if silence.matches(alert):
            return f"silenced until {silence.ends_at:%Y-%m-%d %H:%M} UTC: {silence.reason}"
    if alert.flapping and AlertEvent.objects.filter(alert=alert, state="flapping").exists():
        return "flapping: left to the daily digest"
    if alert.rule.demoted_at is not None:
        return "rule demoted for low precision: left to the daily digest"
    if alert.rule.severity == "info":
        return "info: left to the daily digest"
    return ""


def incidents_enqueue(*, model, transitions, now: datetime) -> list[Notification]:
    """One message per recipient and channel for what fired (and one for what resolved) in this evaluation."""
    live = [t for t in transitions if t.notify and t.state in (State.FIRING, State.RESOLVED, "worse")]
    if not live:
        return []
    firing = list(Alert.objects.filter(model=model, state=State.FIRING).select_related("rule"))
    performance_feels = any(a.kind in PERFORMANCE_KINDS for a in firing)
    kept: dict[str, list[Alert]] = defaultdict(list)
    for t in live:
        alert = t.alert
        if t.state == State.RESOLVED and not alert.announced:
            _note(alert, "resolved before its firing was announced: nothing to say")
            continue
        if t.state == State.FIRING:
            alert.announced = True
            alert.severity = alert.rule.severity
            if alert.kind in DRIFT_KINDS and not performance_feels:
                alert.severity = LOWER[alert.severity]
                alert.note = "performance (realised or estimated) does not feel this drift: severity lowered"
            else:
                alert.note = "regressed: fired again within 7 days of resolving" if alert.regressed else ""
            alert.save(update_fields=["severity", "note", "announced"])
        why = _suppression(alert, [a for a in firing if a.pk != alert.pk], silences_active(model_id=model.id, now=now))
        if why:
            _note(alert, why)
            continue
        if alert.flapping:
            _note(alert, "flapping: one notice, then the daily digest only", state="flapping")
            kept[NotificationKind.FLAPPING].append(alert)
            continue
        if t.state == State.FIRING:
            alert.told_at = now
            alert.save(update_fields=["told_at"])
        kept[t.state].append(alert)
    out: list[Notification] = []
    for kind, alerts in kept.items():
        out += notifications_write(model=model, kind=kind, alerts=alerts, now=now)
    return out


def notifications_write(*, model, kind: str, alerts: list[Alert], now: datetime) -> list[Notification]:
    """Outbox rows for ``alerts`` grouped per recipient: email per address, one per webhook."""
    routes: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for alert in alerts:
        for address in recipients_resolve(rule=alert.rule):
            routes[(Channel.EMAIL, address)].append(alert)
        if alert.rule.webhook:
            channel = Channel.SLACK if alert.rule.webhook_format == "slack" else Channel.WEBHOOK
            routes[(channel, alert.rule.webhook)].append(alert)
    out = []
    for (channel, recipient), group in routes.items():
        severity = max((a.severity for a in group), key=SEVERITY_RANK.__getitem__)
        send_after = now
        if severity != "critical" and kind == NotificationKind.FIRING:
            waiting = (Notification.objects.select_for_update(skip_locked=True)
                       .filter(model=model, channel=channel, recipient=recipient, kind=kind, severity__in=BATCHED,
                               status=Status.PENDING, send_after__gt=now).first())
            if waiting is not None:
                # Batched: the waiting message (not yet claimed by a sender) takes these alerts too.
                merged = list(waiting.alerts.all()) + [a for a in group if a.pk not in {x.pk for x in waiting.alerts.all()}]
                _fill(waiting, model=model, kind=kind, alerts=merged, channel=channel, recipient=recipient)
                waiting.save()
                waiting.alerts.set(merged)
                out.append(waiting)
                continue
            last = (Notification.objects.filter(model=model, channel=channel, recipient=recipient, severity__in=BATCHED,
                                                send_after__gt=now - WARNING_INTERVAL)
                    .order_by("-send_after").values_list("send_after", flat=True).first())
            if last is not None:
                send_after = max(now, last + WARNING_INTERVAL)
        if kind == NotificationKind.RESOLVED:
            # Never before the FIRING it answers: a throttled warning still waiting would otherwise
            # reach the reader after the news that it is over.
            waiting = (Notification.objects.filter(channel=channel, recipient=recipient, kind=NotificationKind.FIRING,
                                                   status=Status.PENDING, alerts__in=group)
                       .order_by("-send_after").values_list("send_after", flat=True).first())
            if waiting is not None:
                send_after = max(send_after, waiting)
        notification = Notification(model=model, kind=kind, channel=channel, recipient=recipient,
                                    severity=severity, send_after=send_after)
        _fill(notification, model=model, kind=kind, alerts=group, channel=channel, recipient=recipient)
        notification.save()
        notification.alerts.set(group)
        out.append(notification)
    return out


def _fill(notification: Notification, *, model, kind, alerts, channel, recipient) -> None:
    rendered = message_render(model=model, kind=kind, alerts=alerts, channel=channel, recipient=recipient)
    notification.severity = max((a.severity for a in alerts), key=SEVERITY_RANK.__getitem__)
    notification.subject = rendered["subject"]
    notification.body_text = rendered.get("text", "")
    notification.body_html = rendered.get("html", "")
    notification.payload = rendered.get("payload", {})
