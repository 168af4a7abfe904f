"""Absolute links in messages; feedback links are signed so one click records a rating without a login."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "alerts.feedback"
MAX_AGE = 90 * 24 * 3600


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def feedback_token(*, alert_id: int, rater: str, verdict: str) -> str:
    return signing.dumps({"a": alert_id, "r": rater, "v": verdict}, salt=SALT, compress=True)


def feedback_read(token: str) -> dict:
    """``{"a": alert id, "r": rater, "v": verdict}``; raises signing.BadSignature when tampered or expired."""
    return signing.loads(token, salt=SALT, max_age=MAX_AGE)


def feedback_links(*, alert_id: int, rater: str) -> dict[str, str]:
    return {
        verdict: absolute(reverse("alerts:feedback", args=[feedback_token(alert_id=alert_id, rater=rater, verdict=verdict)]))
        for verdict in ("useful", "false_alarm", "expected_change")
    }
