"""The alerts app's notion of "now": one place tests move through time (digests, throttles, silences)."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
