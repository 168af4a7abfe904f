"""``/healthz``: 200 only when the web process can reach both the database and the broker.

Load balancers, ``make run`` and compose use it to decide whether the app is up: with the
broker gone no analysis runs, so answering 200 would hide an outage.
"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from config.celery import app as celery_app

TIMEOUT_SECONDS = 2.0


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable; the reason is reported
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used (tasks run eagerly)"
    try:
        with celery_app.connection_for_write(connect_timeout=TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - same: report, don't raise
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def healthz(request):
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(not value.startswith("unreachable") for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)
