"""The ops app's notion of "now": one place tests can move through time."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
