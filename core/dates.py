"""One parser for the dates and datetimes that arrive in URLs and bodies.

Every parsed moment is timezone-aware UTC and lies in [MIN_MOMENT, MAX_MOMENT): the span
pandas can hold in nanoseconds, with room left on both sides so that rounding to whole
hours, days or weeks and adding a default range never overflows Python's datetime.
"""

from datetime import UTC, datetime, timedelta

from django.utils.dateparse import parse_date, parse_datetime

MIN_MOMENT = datetime(1678, 1, 1, tzinfo=UTC)
MAX_MOMENT = datetime(2262, 1, 1, tzinfo=UTC)
RANGE_TEXT = f"between {MIN_MOMENT.year} and {MAX_MOMENT.year - 1}"


class BadMoment(ValueError):
    """Text that is not a usable date or datetime; the message says why."""


def parse_moment(value: str, *, end_of_day: bool = False) -> datetime:
    """ISO 8601 date or datetime -> aware UTC datetime (naive means UTC).

    A bare date means its midnight, or with ``end_of_day`` the next midnight (an end date
    covers the whole day). Raises BadMoment for text that is not ISO 8601 or lies outside
    the supported years.
    """
    if not isinstance(value, str) or "\x00" in value or len(value) > 64:
        raise BadMoment("not an ISO 8601 date or datetime")
    text = value.strip()
    try:
        # A bare date first: parse_datetime would read "2026-06-10" as its midnight.
        day = parse_date(text)
        moment = None if day is not None else parse_datetime(text)
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30 or year 0
        raise BadMoment("not a valid date") from None
    if day is not None:
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if not MIN_MOMENT <= moment < MAX_MOMENT:
            raise BadMoment(f"year must be {RANGE_TEXT}")
        if end_of_day:
            moment += timedelta(days=1)
    if moment is None:
        raise BadMoment("not an ISO 8601 date or datetime")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Compare before converting: astimezone itself overflows at the calendar's edges.
    if not MIN_MOMENT.replace(tzinfo=None) <= moment.replace(tzinfo=None) < MAX_MOMENT.replace(tzinfo=None):
        raise BadMoment(f"year must be {RANGE_TEXT}")
    return moment.astimezone(UTC)
