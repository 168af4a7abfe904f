"""The content of one message: the email triplet's context, or a webhook's JSON (generic or Slack)."""

from __future__ import annotations

from django.urls import reverse

from core.emails import email_build
from monitoring.models import ModelVersion

from ..models import Alert, AlertWindow, State
from ..models.rules import SEVERITY_RANK
from .headline import LABELS, bar_heights, comparison, headline, sparkline, trouble_began
from .links import absolute, feedback_links

VERBS = {"firing": "FIRING", "resolved": "RESOLVED", "worse": "WORSE", "flapping": "FLAPPING",
         "silence_ended": "FIRING", "reminder": "STILL FIRING"}
TREND_WINDOWS = 12


def _alert_context(alert: Alert, rater: str) -> dict:
    rule = alert.rule
    windows = list(AlertWindow.objects.filter(alert=alert).order_by("-window_start")[:TREND_WINDOWS])[::-1]
    values = [w.value for w in windows]
    sign, limit = comparison(alert, rule)
    low, high = (alert.expected or [None, None])[:2]
    return {
        "alert": alert,
        "kind_label": LABELS.get(alert.kind, alert.kind),
        "headline": headline(alert, rule),
        "rule": rule,
        "sign": sign,
        "limit": limit,
        "baseline": None if low is None or high is None else f"{low:.3g} to {high:.3g}",
        "sparkline": sparkline(values),
        "bars": [{"height": h, "breached": w.breached} for h, w in zip(bar_heights(values), windows, strict=False)],
        "url": absolute(reverse("alerts:alert", args=[alert.pk])),
        "acknowledge_url": absolute(reverse("alerts:alert", args=[alert.pk]) + "#acknowledge"),
        "feedback": feedback_links(alert_id=alert.pk, rater=rater),
    }


def message_context(*, model, kind: str, alerts: list[Alert], recipient: str) -> dict:
    alerts = sorted(alerts, key=lambda a: (-SEVERITY_RANK[a.severity], a.kind, a.features))
    lead = alerts[0]
    severity = lead.severity
    started = min((b for a in alerts if (b := trouble_began(a, a.rule))), default=None)
    others = (Alert.objects.filter(model=model, state=State.FIRING).exclude(pk__in=[a.pk for a in alerts])
              .select_related("rule")[:10])
    changes = []
    if started is not None:
        for v in ModelVersion.objects.filter(model=model, created_at__gte=started).order_by("created_at"):
            changes.append(f"version {v.version} registered {v.created_at:%-d %b %H:%M}")
    tail = headline(lead, lead.rule) + (f" and {len(alerts) - 1} more" if len(alerts) > 1 else "")
    if lead.version.stage != "production":
        # A shadow or candidate version's alerts read like production's otherwise.
        tail += f" ({lead.version.stage} {lead.version.version})"
    features = sorted({f for a in alerts for f in a.features})
    return {
        "model": model,
        "kind": kind,
        "verb": VERBS[kind],
        "severity": severity,
        "severity_upper": severity.upper(),
        "subject_tail": tail,
        "alerts": [_alert_context(a, recipient) for a in alerts],
        "features": features,
        "related": list(others),
        "changes": changes,
        "recipient": recipient,
        "dashboard_url": absolute(reverse("monitoring:model", args=[model.slug])),
        "silence_url": absolute(reverse("alerts:silences") + f"?model={model.slug}"),
        "rules_url": absolute(reverse("alerts:rules", args=[model.slug])),
        "log_url": absolute(reverse("alerts:log")),
    }


def message_render(*, model, kind: str, alerts: list[Alert], channel: str, recipient: str) -> dict:
    context = message_context(model=model, kind=kind, alerts=alerts, recipient=recipient)
    if channel == "email":
        message = email_build(name="alert", to=[recipient], context=context)
        return {"subject": message.subject, "text": message.body, "html": message.alternatives[0][0]}
    subject = f"[Vigil] {context['severity_upper']} {context['verb']} {model.slug}: {context['subject_tail']}"
    payload = {
        "model": model.slug,
        "event": kind,
        "severity": context["severity"],
        "title": subject,
        "dashboard": context["dashboard_url"],
        "alerts": [
            {"id": a["alert"].pk, "kind": a["alert"].kind, "state": a["alert"].state, "severity": a["alert"].severity,
             "features": a["alert"].features, "metric": a["alert"].metric, "value": a["alert"].value,
             "expected": a["alert"].expected, "summary": a["alert"].summary, "url": a["url"],
             "started": a["alert"].started_at.isoformat() if a["alert"].started_at else None,
             "resolved": a["alert"].resolved_at.isoformat() if a["alert"].resolved_at else None}
            for a in context["alerts"]
        ],
    }
    if channel == "slack":
        lines = "\n".join(f"• <{a['url']}|{a['alert'].summary}>" for a in context["alerts"])
        payload = {"text": f"*{subject}*\n{lines}\n<{context['dashboard_url']}|Dashboard>"}
    return {"subject": subject, "payload": payload}
