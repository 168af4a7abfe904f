"""Each page runs a fixed number of queries, however many windows and features it shows."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.models import AnalysisResult, MLModel, ModelVersion, Prediction

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def payload(features: list[str], rows: int = 100) -> dict:
    return {
        "rows": rows,
        "drift": {
            "features": [{"name": f, "type": "numeric", "psi": 0.05, "js": 0.04, "drifted": False} for f in features],
            "prediction": {"name": "score", "psi": 0.01, "js": 0.02, "drifted": False},
            "share_drifted": 0.0,
        },
        "score": {"mean": 0.4, "std": 0.1},
        "quality": {
            "volume": {"is_anomaly": False},
            "features": [{"name": f, "null_rate": 0.0, "out_of_range_rate": 0.0, "unseen_rate": 0.0} for f in features],
        },
        "performance": {"label_coverage": 0.5, "metrics": {"accuracy": 0.9}, "estimated": {"accuracy": 0.88}},
        "multivariate": {"error": 1.0, "upper": 1.2},
        "shifts": {"concept": False},
    }


def build(slug: str, n_features: int, days: int) -> ModelVersion:
    model = MLModel.objects.create(slug=slug, name=slug, task="binary_classification")
    features = [f"f{i}" for i in range(n_features)]
    version = ModelVersion.objects.create(
        model=model, version="v1", stage="production", threshold=0.5,
        features=[{"name": f, "type": "numeric"} for f in features],
    )
    body = payload(features)
    results = [
        AnalysisResult(version=version, granularity="day", window_start=(NOW - timedelta(days=d)).replace(hour=0),
                       payload=body, sketch_changed_at=NOW)
        for d in range(days)
    ] + [
        AnalysisResult(version=version, granularity="hour", window_start=NOW - timedelta(hours=h),
                       payload=body, sketch_changed_at=NOW)
        for h in range(min(days, 14) * 24)
    ]
    AnalysisResult.objects.bulk_create(results)
    Prediction.objects.create(model=model, version=version, request_id=f"{slug}-1", timestamp=NOW,
                              features={f: 0.0 for f in features}, score=0.5, received_at=NOW, entity_id="e-1")
    return version


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
def test_query_count_does_not_grow_with_windows_or_features(client, page):
    build("small", n_features=1, days=2)
    build("large", n_features=25, days=90)
    client.force_login(User.objects.create_superuser("root", "r@x.org", "pw"))
    client.get("/")  # warm the session and the content-type caches
    small = count(client, page.format(slug="small"))
    large = count(client, page.format(slug="large"))
    assert large == small, f"{page}: {small} queries for 1 feature x 2 days, {large} for 25 x 90"
    assert large <= 14


@pytest.mark.django_db
def test_overview_query_count_does_not_grow_with_models(client):
    client.force_login(User.objects.create_superuser("root", "r@x.org", "pw"))
    build("one", n_features=1, days=2)
    client.get("/")
    few = count(client, "/")
    for i in range(4):
        build(f"more-{i}", n_features=25, days=30)
    assert count(client, "/") == few


@pytest.mark.django_db
def test_parsed_window_rows_are_reused_until_their_result_is_rewritten():
    from monitoring.selectors.dashboard import window_rows

    version = build("cached", 2, 3)
    span = {"version": version, "granularity": "day", "start": NOW - timedelta(days=5), "end": NOW + timedelta(days=1)}
    first = window_rows(**span)
    assert [r.rows for r in first] == [100, 100, 100]
    with CaptureQueriesContext(connection) as ctx:
        again = window_rows(**span)
    assert len(ctx.captured_queries) == 1 and all(a is b for a, b in zip(again, first, strict=True))
    # A recomputed result (the analysis upserts it with a new computed_at) is parsed afresh.
    AnalysisResult.objects.filter(version=version, granularity="day").update(
        payload=payload(["f0", "f1"], rows=7), computed_at=NOW + timedelta(seconds=1)
    )
    assert [r.rows for r in window_rows(**span)] == [7, 7, 7]
