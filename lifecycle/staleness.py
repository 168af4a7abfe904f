"""A version's training data period from its free-form metadata (pure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils.dateparse import parse_date, parse_datetime

_KEYS = ("training_period", "training_data_period", "training_data", "data_period")


def _moment(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    moment = parse_datetime(text)
    if moment is None:
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        moment = datetime(day.year, day.month, day.day) if day else None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def training_period(metadata: dict | None) -> tuple[datetime | None, datetime | None] | None:
    """(start, end) of the training data from ``{"training_period": "2024-01-01 to 2024-05-31"}``
    or ``{"training_period": {"start": ..., "end": ...}}`` (also under training_data /
    data_period); None when the metadata does not say."""
    for key in _KEYS:
        value = (metadata or {}).get(key)
        if isinstance(value, dict):
            start, end = _moment(value.get("start")), _moment(value.get("end"))
        elif isinstance(value, str):
            parts = re.split(r"\s+(?:to|until|-|–|/)\s+|/", value.strip(), maxsplit=1)
            if len(parts) != 2:
                continue
            start, end = _moment(parts[0]), _moment(parts[1])
        else:
            continue
        if end is not None:
            return start, end
    return None

