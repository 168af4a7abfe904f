"""Each page runs a fixed number of queries, however many windows and features it shows.

The stored results come from the real pipeline (registry, reference profile, ingestion, labels,
compaction, analysis), so a change in the payload the analysis writes reaches these pages.
"""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.models import AnalysisResult, MLModel, ModelVersion, ReferenceRow
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.profile import profile_build
from monitoring.services.registry import model_create, version_create

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
HOURLY_DAYS = 8  # every hour of the last 8 days has rows (the 7-day hourly page), one hour a day before


def _rows(rng: np.random.Generator, features: list[str], hours: list[datetime], per_hour: int, prefix: str) -> list[dict]:
    rows = []
    for hour in hours:
        x = rng.normal(0, 1, (per_hour, len(features)))
        for i in range(per_hour):
            rows.append({
                "request_id": f"{prefix}-{len(rows) + 1}", "version": "v1",
                "timestamp": (hour + timedelta(minutes=7 * i)).isoformat(),
                "features": dict(zip(features, map(float, x[i]), strict=True)),
                "score": float(1 / (1 + np.exp(-x[i, 0]))), "entity_id": f"e-{len(rows) % 5 + 1}",
            })
    return rows


def build(slug: str, n_features: int, days: int, *, per_hour: int = 3, seed: int = 3) -> ModelVersion:
    """A binary model with ``days`` days of analysed windows over ``n_features`` numeric features."""
    rng = np.random.default_rng(seed)
    features = [f"f{i}" for i in range(n_features)]
    model = model_create(slug=slug, name=slug, task="binary_classification")
    version = version_create(model=model, version="v1", stage="production", threshold=0.5,
                             features=[{"name": f, "type": "numeric"} for f in features])
    x = rng.normal(0, 1, (400, n_features))
    ReferenceRow.objects.bulk_create(
        ReferenceRow(version=version, features=dict(zip(features, map(float, x[i]), strict=True)),
                     score=float(1 / (1 + np.exp(-x[i, 0]))), label=int(x[i, 0] > 0))
        for i in range(len(x))
    )
    profile_build(version=version)
    first_day = (NOW - timedelta(days=days - 1)).replace(hour=0)
    hourly_from = max(first_day, NOW - timedelta(days=HOURLY_DAYS))
    daily = {first_day + timedelta(days=d, hours=12) for d in range(days)}
    hourly = {hourly_from + timedelta(hours=h) for h in range((NOW - hourly_from) // timedelta(hours=1) + 1)}
    hours = sorted({h for h in daily if h < hourly_from} | hourly)
    rows = _rows(rng, features, hours, per_hour, slug)
    result = predictions_ingest(model=model, rows=rows)
    assert result["accepted"] == len(rows), result["rejected"][:3]
    labels_ingest(model=model, rows=[{"request_id": r["request_id"], "label": int(r["score"] > 0.5)} for r in rows[::2]])
    sketches_compact_all(version_id=version.pk)
    version_analyse(version_id=version.pk)
    assert AnalysisResult.objects.filter(version=version, granularity="day").count() == days
    return version


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """One small and one large model, built once per module (outside the per-test transactions)."""
    with django_db_blocker.unblock():
        versions = {"small": build("small", n_features=1, days=2), "large": build("large", n_features=25, days=90)}
        assert AnalysisResult.objects.filter(version=versions["large"], granularity="hour").count() > 7 * 24
        yield versions
        MLModel.objects.filter(slug__in=versions).delete()


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


PAGES = [
    "/models/{slug}/?range=90d",
    "/models/{slug}/?range=7d&granularity=hour",
    "/models/{slug}/features/f0/?range=30d",
    "/models/{slug}/versions/v1/?range=30d",
    "/models/{slug}/predictions/{slug}-1/",
    "/predictions/?q={slug}-1",
]


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_query_count_does_not_grow_with_windows_or_features(client, built, page):
    client.force_login(User.objects.create_superuser("root", "r@x.org", "pw"))
    client.get("/")  # warm the session and the content-type caches
    small = count(client, page.format(slug="small"))
    large = count(client, page.format(slug="large"))
    assert large == small, f"{page}: {small} queries for 1 feature x 2 days, {large} for 25 x 90"
    assert large <= 14


@pytest.mark.django_db
def test_overview_query_count_does_not_grow_with_models(client, built):
    client.force_login(User.objects.create_superuser("root", "r@x.org", "pw"))
    client.get("/")
    few = count(client, "/")
    for i in range(4):
        build(f"more-{i}", n_features=25, days=30, seed=10 + i)
    assert count(client, "/") == few


@pytest.mark.django_db
def test_parsed_window_rows_are_reused_until_their_result_is_rewritten():
    from monitoring.selectors.dashboard import window_rows

    version = build("cached", 2, 3)
    span = {"version": version, "granularity": "day", "start": NOW - timedelta(days=5), "end": NOW + timedelta(days=1)}
    first = window_rows(**span)
    per_day = [r.rows for r in first]
    assert len(per_day) == 3 and all(n > 0 for n in per_day)
    with CaptureQueriesContext(connection) as ctx:
        again = window_rows(**span)
    assert len(ctx.captured_queries) == 1 and all(a is b for a, b in zip(again, first, strict=True))
    # Late rows for the oldest day: compaction bumps its sketch and the analysis upserts its result
    # with a new computed_at, so that day is parsed afresh and the others are reused.
    late = _rows(np.random.default_rng(99), ["f0", "f1"], [first[0].start + timedelta(minutes=30)], 4, "late")
    assert predictions_ingest(model=version.model, rows=late)["accepted"] == 4
    sketches_compact_all(version_id=version.pk)
    assert version_analyse(version_id=version.pk) > 0
    fresh = window_rows(**span)
    assert [r.rows for r in fresh] == [per_day[0] + 4, *per_day[1:]]
    assert fresh[0] is not first[0] and all(a is b for a, b in zip(fresh[1:], first[1:], strict=True))
