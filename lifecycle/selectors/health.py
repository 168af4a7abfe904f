"""The health signals the gate and the watch period read: monitoring's one verdict on a version
(the health API's) and the alerts firing on it."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.selectors import alerts_firing
from monitoring.health import QUALITY_RATE, Health
from monitoring.models import ModelVersion
from monitoring.selectors.dashboard import window_rows
from monitoring.selectors.health import version_health as monitoring_verdict


@dataclass(frozen=True)
class VersionHealth:
    health: Health
    windows: int  # analysed daily windows the verdict read
    worst_quality: tuple[float, str, str] | None  # (rate, kind, feature) of the worst data-quality rate
    quality_limit: float
    critical_alerts: list[str]  # summaries of the critical alerts firing on the version


def version_health(*, version: ModelVersion, now: datetime | None = None) -> VersionHealth:
    """Monitoring's verdict on the version's last two analysed days (as the overview reads it)."""
    now = now or datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rows = window_rows(version=version, granularity="day", start=(end - timedelta(days=7)).replace(hour=0), end=end)
    recent = rows[-2:]
    model = version.model
    health = monitoring_verdict(version=version, now=now)
    worst = None
    for row in recent:
        for kind in ("null_rate", "out_of_range_rate", "unseen_rate"):
            rate, feature = row.worst.get(kind, (None, None))
            if rate is not None and (worst is None or rate > worst[0]):
                worst = (float(rate), kind, feature)
    limit = ((model.settings or {}).get("health") or {}).get("quality_rate", QUALITY_RATE)
    critical = [alert.summary or alert.kind for alert in alerts_firing(version=version, severity="critical")]
    return VersionHealth(health=health, windows=len(recent), worst_quality=worst, quality_limit=limit,
                         critical_alerts=critical)
