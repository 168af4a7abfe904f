"""The health signals the gate and the watch period read: monitoring's verdict on a version.

Alert rules do not exist yet; when the alerts app lands, its firing critical alerts on the
version plug in here, next to this verdict (see docs/lifecycle.md).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitoring.health import PRIMARY_METRIC, QUALITY_RATE, Health, health_from_rows
from monitoring.models import ModelVersion
from monitoring.selectors.dashboard import window_rows


@dataclass(frozen=True)
class VersionHealth:
    health: Health
    windows: int  # analysed daily windows the verdict read
    worst_quality: tuple[float, str, str] | None  # (rate, kind, feature) of the worst data-quality rate
    quality_limit: float


def version_health(*, version: ModelVersion, now: datetime | None = None) -> VersionHealth:
    """Monitoring's verdict on the version's last two analysed days (as the overview reads it)."""
    now = now or datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rows = window_rows(version=version, granularity="day", start=(end - timedelta(days=7)).replace(hour=0), end=end)
    recent = rows[-2:]
    model = version.model
    metric = PRIMARY_METRIC.get(model.task, "accuracy")
    health = health_from_rows(rows=recent, metric=metric, settings=model.settings)
    worst = None
    for row in recent:
        for kind in ("null_rate", "out_of_range_rate", "unseen_rate"):
            rate, feature = row.worst.get(kind, (None, None))
            if rate is not None and (worst is None or rate > worst[0]):
                worst = (float(rate), kind, feature)
    limit = ((model.settings or {}).get("health") or {}).get("quality_rate", QUALITY_RATE)
    return VersionHealth(health=health, windows=len(recent), worst_quality=worst, quality_limit=limit)
