"""The dashboard's view state, read from and written to the URL so a view is a shareable link.

Query parameters: ``range`` (24h, 7d, 30d, 90d, custom), ``start``/``end`` (ISO dates or
datetimes, for custom), ``granularity`` (hour, day), ``version``, ``segment``, ``stat``
(psi, js), ``window`` (ISO start of one window, feature page).
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings

from core.dates import BadMoment, parse_moment

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
RANGE_LABELS = {"24h": "24 h", "7d": "7 d", "30d": "30 d", "90d": "90 d", "custom": "Custom"}
DEFAULT_RANGE = "30d"
# Hourly columns stay readable (and the page fast) up to two weeks; longer ranges use days.
MAX_HOURLY_SPAN = timedelta(days=14)
MAX_SPAN = timedelta(days=400)


def _parse_moment(value: str, *, end_of_day: bool = False) -> datetime | None:
    try:
        return parse_moment(value, end_of_day=end_of_day)
    except BadMoment:
        return None


def _name(query, key: str, errors: dict[str, str]) -> str:
    """A version or segment name from the URL; one no stored name can match is ignored."""
    value = query.get(key, "")
    if "\x00" in value or len(value) > 200:
        errors[key] = f"Ignored an invalid {key} name."
        return ""
    return value


def _ceil_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


@dataclass(frozen=True)
class DashboardState:
    range: str
    start: datetime
    end: datetime
    granularity: str
    version: str = ""
    segment: str = ""
    stat: str = "psi"
    window: datetime | None = None
    notices: tuple[str, ...] = ()

    @property
    def window_word(self) -> str:
        return "hourly" if self.granularity == "hour" else "daily"

    @property
    def step(self) -> timedelta:
        return timedelta(hours=1) if self.granularity == "hour" else timedelta(days=1)

    def params(self, **overrides) -> dict[str, str]:
        """The query parameters of this state (with ``overrides``), defaults left out."""
        state = replace(self, **{k: v for k, v in overrides.items() if k in self.__dataclass_fields__})
        params = {"range": state.range, "granularity": state.granularity}
        if state.range == "custom":
            params["start"] = state.start.date().isoformat()
            params["end"] = (state.end - timedelta(seconds=1)).date().isoformat()
        for key in ("version", "segment"):
            if getattr(state, key):
                params[key] = getattr(state, key)
        if state.stat != "psi":
            params["stat"] = state.stat
        if state.window is not None:
            params["window"] = state.window.strftime("%Y-%m-%dT%H:%M")
        for key, value in overrides.items():
            if key not in self.__dataclass_fields__:
                params[key] = value
        return params

    def query(self, **overrides) -> str:
        return urlencode(self.params(**overrides))


def range_links(state: "DashboardState", **extra) -> list[tuple[str, str, str]]:
    """(key, label, query) of the quick ranges, each with its natural granularity."""
    return [
        (key, label, state.query(range=key, granularity="hour" if key == "24h" else "day", window=None, **extra))
        for key, label in RANGE_LABELS.items()
        if key != "custom"
    ]


def state_from_query(query, *, now: datetime | None = None) -> tuple[DashboardState, dict[str, str]]:
    """Parse ``request.GET`` into a state; bad values fall back to defaults and are
    reported as ``{param: message}`` so the page can say what it ignored."""
    now = now or datetime.now(UTC)
    errors: dict[str, str] = {}
    notices: list[str] = []
    range_key = query.get("range", DEFAULT_RANGE)
    if range_key not in RANGE_LABELS:
        errors["range"] = f"Unknown range {range_key!r}; showing {RANGE_LABELS[DEFAULT_RANGE]}."
        range_key = DEFAULT_RANGE
    end = _ceil_hour(now)
    start = end - RANGES.get(range_key, RANGES[DEFAULT_RANGE])
    if range_key == "custom":
        start_value = _parse_moment(query.get("start", ""))
        end_value = _parse_moment(query.get("end", ""), end_of_day=True)
        if start_value is None:
            errors["start"] = "Custom range needs a start date (YYYY-MM-DD)."
        if end_value is None:
            errors["end"] = "Custom range needs an end date (YYYY-MM-DD)."
        if start_value and end_value and start_value >= end_value:
            errors["end"] = "The end must be after the start."
        elif start_value and end_value and end_value - start_value > MAX_SPAN:
            errors["end"] = f"A range is at most {MAX_SPAN.days} days."
        if "start" in errors or "end" in errors:
            range_key = DEFAULT_RANGE
            start = end - RANGES[DEFAULT_RANGE]
        else:
            start, end = start_value, end_value
    default_granularity = "hour" if end - start <= timedelta(days=2) else "day"
    granularity = query.get("granularity", default_granularity)
    if granularity not in ("hour", "day"):
        errors["granularity"] = f"Unknown granularity {granularity!r}; use hour or day."
        granularity = default_granularity
    if granularity == "hour" and end - start > MAX_HOURLY_SPAN:
        granularity = "day"
        notices.append(f"Hourly windows are shown for ranges up to {MAX_HOURLY_SPAN.days} days; showing days.")
    if granularity == "day":
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = start.replace(minute=0, second=0, microsecond=0)
    stat = query.get("stat", "psi")
    if stat not in ("psi", "js"):
        errors["stat"] = f"Unknown drift statistic {stat!r}; use psi or js."
        stat = "psi"
    window = None
    if query.get("window"):
        window = _parse_moment(query["window"])
        if window is None:
            errors["window"] = "window must be an ISO date or datetime."
    state = DashboardState(
        range=range_key,
        start=start,
        end=end,
        granularity=granularity,
        version=_name(query, "version", errors),
        segment=_name(query, "segment", errors),
        stat=stat,
        window=window,
        notices=tuple(notices),
    )
    return state, errors


def check_segment(state: DashboardState, segments: list[str], errors: dict[str, str]) -> DashboardState:
    """The state to show: a segment with no results of its own (not tracked) falls back to
    all segments, and the page says why."""
    if not state.segment or state.segment in segments:
        return state
    tracked = ", ".join(segments) or "none yet"
    errors["segment"] = (
        f"'{state.segment}' has no results of its own: Vigil keeps them for the first "
        f"{settings.VIGIL_MAX_SEGMENTS} segments a version receives (here: {tracked}); "
        "rows of other segments count in all rows only. Showing all segments."
    )
    return replace(state, segment="")
