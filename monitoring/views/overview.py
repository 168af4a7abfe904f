"""The overview: every model's health, volume, label coverage, staleness and freshness."""

from datetime import UTC, datetime, timedelta

from django.shortcuts import render
from django.utils.timesince import timesince

from monitoring.charts.model import sparkline_figure
from monitoring.health import Health
from monitoring.selectors.dashboard import models_for_overview, production_version, recent_rows_by_version
from monitoring.selectors.health import versions_health

from .access import scientist_required
from .render import chart


def _trained_at(version) -> datetime | None:
    """When the version was trained: metadata ``trained_at`` if given, else when it was registered."""
    meta = version.metadata or {}
    for key in ("trained_at", "training_finished", "trained"):
        value = meta.get(key)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return version.created_at


def _ago(moment: datetime | None, now: datetime) -> str:
    return f"{timesince(moment, now).split(',')[0]} ago" if moment else "never"


@scientist_required
def overview(request):
    now = datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    day_start, week_start = end - timedelta(hours=24), end - timedelta(days=7)
    models = models_for_overview()
    current = {m.pk: production_version(m) for m in models}
    ids = [v.pk for v in current.values() if v is not None]
    hourly = recent_rows_by_version(version_ids=ids, granularity="hour", start=day_start, end=end)
    daily = recent_rows_by_version(
        version_ids=ids, granularity="day", start=week_start.replace(hour=0), end=end
    )
    # The one verdict (monitoring.health), as the health API and the alerts read it.
    verdicts = versions_health(versions=[v for v in current.values() if v is not None], now=now)
    cards = []
    for model in models:
        version = current[model.pk]
        rows = hourly.get(version.pk, []) if version else []
        week = daily.get(version.pk, []) if version else []
        health = verdicts[version.pk] if version else Health("no_data", ["no version yet"])
        labelled = sum((r.label_coverage or 0.0) * r.rows for r in week)
        total = sum(r.rows for r in week)
        by_hour = {r.start: r.rows for r in rows}
        hours = [day_start + timedelta(hours=i) for i in range(24)]
        last = version.last_prediction_at if version else None
        cards.append(
            {
                "model": model,
                "version": version,
                "health": health,
                "predictions_24h": sum(by_hour.values()),
                "sparkline": chart(
                    f"spark-{model.slug}",
                    sparkline_figure(times=hours, values=[by_hour.get(h, 0) for h in hours], label="predictions"),
                ),
                "label_coverage_pct": f"{100 * labelled / total:.0f}%" if total else "",
                "trained_at": _trained_at(version) if version else None,
                "staleness": _ago(_trained_at(version), now) if version else "no version",
                "last_data": last,
                "freshness": _ago(last, now),
                "stale_data": last is None or now - last > timedelta(hours=6),
            }
        )
    return render(request, "monitoring/overview.html", {"cards": cards, "nav": "dashboards", "now": now})
