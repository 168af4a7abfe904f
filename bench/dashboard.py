"""Server time of the dashboard pages with 100k and with 1M stored predictions.

    .venv/bin/python bench/dashboard.py [--requests 30] [--rows-per-hour 12] [--reuse]

Builds a bench database (``vigil_bench_dash`` on the local PostgreSQL, or $BENCH_DATABASE_URL):
a binary model with 25 features (20 numeric, 5 categorical), a 5,000-row reference, 90 days
of hourly traffic ingested through the real pipeline (ingest -> sketches -> compaction ->
scheduled analyses: 2,160 hourly + 90 daily windows of stored results), then pads the raw
prediction table to 100k and later 1M rows with SQL (rows the pages never read, which is the
point: they only read stored results). Each page is requested through Django's test client
(the whole view + template, no network); prints p50/p95 per page for both sizes, the 1M/100k
ratio (target: flat, about 1.0) and p95 against the 150 ms target.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_URL = os.getenv("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil_bench_dash")
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
TARGET_MS = 150.0
N_NUMERIC, N_CATEGORICAL = 20, 5
CATEGORIES = ["a", "b", "c", "d", "e", "f"]
SLUG = "bench-loan"


def recreate_database() -> None:
    import psycopg2

    name = BENCH_URL.rsplit("/", 1)[1]
    admin = psycopg2.connect(BENCH_URL.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def schema() -> list[dict]:
    numeric = [{"name": f"n{i}", "type": "numeric", "nullable": True, "min": -8, "max": 8} for i in range(N_NUMERIC)]
    return numeric + [{"name": f"c{i}", "type": "categorical", "categories": CATEGORIES} for i in range(N_CATEGORICAL)]


def draw(rng: np.random.Generator, n: int, *, shift: bool) -> list[tuple[dict, float, int]]:
    x = rng.normal(0, 1, (n, N_NUMERIC))
    if shift:
        x[:, :3] += 0.8  # three features drift in the last month
    cats = rng.choice(CATEGORIES, (n, N_CATEGORICAL))
    logit = x[:, 0] - x[:, 1] + 0.5 * x[:, 2]
    score = 1 / (1 + np.exp(-logit))
    label = (rng.random(n) < score).astype(int)
    rows = []
    for i in range(n):
        feats = {f"n{j}": float(x[i, j]) for j in range(N_NUMERIC)}
        feats.update({f"c{j}": str(cats[i, j]) for j in range(N_CATEGORICAL)})
        rows.append((feats, float(score[i]), int(label[i])))
    return rows


def build(rows_per_hour: int, end: datetime):
    from monitoring.models import ReferenceRow
    from monitoring.services.analysis import version_analyse
    from monitoring.services.compaction import sketches_compact_all
    from monitoring.services.ingest import predictions_ingest
    from monitoring.services.labels import labels_ingest
    from monitoring.services.profile import profile_build
    from monitoring.services.registry import model_create, version_create

    rng = np.random.default_rng(42)
    model = model_create(slug=SLUG, name="Bench loan", task="binary_classification")
    version = version_create(model=model, version="v1", features=schema(), stage="production", threshold=0.5)
    ReferenceRow.objects.bulk_create(
        ReferenceRow(version=version, features=f, score=s, label=y) for f, s, y in draw(rng, 5000, shift=False)
    )
    profile_build(version=version)
    start = end - timedelta(days=90)
    t0 = time.perf_counter()
    batch, labels, k = [], [], 0
    hour = start
    while hour < end:
        for feats, score, label in draw(rng, rows_per_hour, shift=hour >= end - timedelta(days=30)):
            k += 1
            rid = f"b-{k}"
            batch.append({"request_id": rid, "version": "v1", "timestamp": (hour + timedelta(minutes=k % 60)).isoformat(),
                          "features": feats, "score": score, "entity_id": f"cust-{k % 5000}"})
            if hour < end - timedelta(days=5):
                labels.append({"request_id": rid, "label": label})
        hour += timedelta(hours=1)
        if len(batch) >= 5000:
            predictions_ingest(model=model, rows=batch)
            labels_ingest(model=model, rows=labels)
            batch, labels = [], []
    if batch:
        predictions_ingest(model=model, rows=batch)
        labels_ingest(model=model, rows=labels)
    print(f"ingested {k:,} predictions through the pipeline in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    sketches_compact_all(version_id=version.pk)
    windows = version_analyse(version_id=version.pk)
    print(f"compacted and analysed {windows:,} windows in {time.perf_counter() - t0:.1f}s", flush=True)
    return version


def pad_predictions(version, total: int, end: datetime) -> None:
    """Raw rows up to ``total``: copies of a stored row's features at spread timestamps."""
    from django.db import connection

    from monitoring.models import Prediction

    have = Prediction.objects.count()
    t0 = time.perf_counter()
    if have > total:  # a reused database: drop padding rows down to ``total``
        with connection.cursor() as cur:
            cur.execute(
                "DELETE FROM monitoring_prediction WHERE id IN (SELECT id FROM monitoring_prediction"
                " WHERE request_id LIKE 'pad-%%' ORDER BY id DESC LIMIT %s)",
                [have - total],
            )
            cur.execute("VACUUM ANALYZE monitoring_prediction")
        print(f"trimmed the raw table to {total:,} rows in {time.perf_counter() - t0:.1f}s", flush=True)
        return
    if have == total:
        return
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO monitoring_prediction (model_id, version_id, request_id, "timestamp", features, score,
                                               entity_id, received_at)
            SELECT p.model_id, p.version_id, 'pad-' || g || '-' || %s, %s - mod(g, 129600) * interval '1 minute',
                   p.features, random(), 'cust-' || mod(g, 50000), now()
              FROM generate_series(%s, %s) g, (SELECT * FROM monitoring_prediction WHERE version_id = %s LIMIT 1) p
            """,
            [have, end, have, total - 1, version.pk],
        )
        cur.execute("ANALYZE monitoring_prediction")
    print(f"padded the raw table to {total:,} rows in {time.perf_counter() - t0:.1f}s", flush=True)


def measure(client, url: str, n: int) -> tuple[float, float]:
    for _ in range(3):  # warm caches, as a running server would be
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * n)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rows-per-hour", type=int, default=12)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--reuse", action="store_true", help="keep the bench database of a previous run")
    args = parser.parse_args()
    if not args.reuse:
        recreate_database()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # allows the test client's "testserver" host
    call_command("migrate", verbosity=0)
    from monitoring.models import ModelVersion, Prediction

    existing = ModelVersion.objects.filter(model__slug=SLUG).first()
    if existing is None:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        version = build(args.rows_per_hour, end)
        # A running system has autovacuumed by the time anyone reads these pages; without this
        # the first size measured pays for the freshly written tables (p95 +50% seen).
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    else:
        version = existing
        end = Prediction.objects.filter(version=version).order_by("-timestamp").values_list("timestamp", flat=True)[0]
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    client = Client()
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser("bench", "b@x.org", "bench")
    client.force_login(user)
    fortnight = (end - timedelta(days=13)).date().isoformat()  # 14 days with today (end date inclusive)
    pages = {
        "model 90 d (daily)": f"/models/{SLUG}/?range=90d",
        "model 14 d (hourly, 336 windows)": f"/models/{SLUG}/?range=custom&start={fortnight}&end={end.date()}&granularity=hour",
        "model 7 d (hourly)": f"/models/{SLUG}/?range=7d&granularity=hour",
        "feature 90 d": f"/models/{SLUG}/features/n0/?range=90d",
        "overview": "/",
    }
    results: dict[str, dict[int, tuple[float, float]]] = {name: {} for name in pages}
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        pad_predictions(version, size, end)
        for name, url in pages.items():
            results[name][size] = measure(client, url, args.requests)
            p50, p95 = results[name][size]
            print(f"  {size:>9,} rows  {name:<34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms", flush=True)
    small, large = sizes[0], sizes[-1]
    print(f"\nServer time per page (ms), {args.requests} requests each; target p95 < {TARGET_MS:.0f} ms, flat in rows")
    print(f"{'page':<36}{'p95 @' + format(small, ','):>14}{'p95 @' + format(large, ','):>16}{'ratio':>8}{'vs target':>11}")
    for name in pages:
        a, b = results[name][small][1], results[name][large][1]
        print(f"{name:<36}{a:>14.1f}{b:>16.1f}{b / a:>8.2f}{b / TARGET_MS:>10.2f}x")


if __name__ == "__main__":
    main()
