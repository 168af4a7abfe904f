"""Serving-side ops API latency: rerank and the overrides list with a matching ETag.

Creates a throwaway model with N active overrides (half blacklist entries, half boosts, plus
all-model entries for other items), then measures server latency (Django test client in-process:
URL routing, token auth, PostgreSQL from DATABASE_URL, JSON in and out; no network) of
  - POST /api/v1/models/{slug}/rerank/ with 1,000 candidates (target p95 < 20 ms), side by side with
    the reference path that loads every active override on each call (no per-process snapshot),
  - GET /api/v1/models/{slug}/overrides/ with If-None-Match = current ETag -> 304 (target p95 < 5 ms),
    side by side with the full 200 answer.
Prints p50/p95 and the ratios. The model and its overrides are deleted at the end.

    DATABASE_URL=postgres://... .venv/bin/python bench/rerank.py [--overrides 10000] [--requests 300]
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]


def timed(fn, requests: int, warmup: int = 20) -> tuple[list[float], list[float], list[float]]:
    """Per call: the server's own time (its Server-Timing header: every middleware and the view,
    not the test client around them), the wall milliseconds as the in-process client sees them,
    and this process's CPU milliseconds (PostgreSQL's own work is not in it)."""
    for _ in range(warmup):
        fn()
    server, wall, cpu = [], [], []
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
        server.append(float(response["Server-Timing"].split("dur=")[1]))
    return server, wall, cpu


def seed(model, n: int):
    from django.db import connection
    from django.utils import timezone

    from ops.models import Override

    now = timezone.now()
    rows = []
    for i in range(n):
        blacklist = i % 2 == 0
        rows.append(
            Override(
                kind="blacklist" if blacklist else "boost",
                model=None if i % 10 == 0 else model,  # some all-model entries, as in real use
                item_id=f"item-{i}",
                boost_mode=None if blacklist else ("multiplier" if i % 4 == 1 else "additive"),
                boost_value=None if blacklist else 1.5,
                starts_at=now - timedelta(hours=1),
                ends_at=None if blacklist else now + timedelta(days=7),
                reason="bench",
                created_at=now,
            )
        )
    Override.objects.bulk_create(rows, batch_size=5000)
    # Planner statistics, as autovacuum would have them on a live table.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ops_override")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--overrides", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    import orjson
    from django.conf import settings
    from django.test import Client

    from core.services.tokens import api_token_create
    from monitoring.models import MLModel
    from ops import selectors

    settings.ALLOWED_HOSTS = ["*"]
    tag = uuid.uuid4().hex[:8]
    model = MLModel.objects.create(slug=f"bench-rerank-{tag}", name="bench", task="ranking")
    token, key = api_token_create(name=f"bench-rerank-{tag}", scopes=["ops"])
    try:
        seed(model, args.overrides)
        rng = random.Random(0)
        # A tenth of the candidates are blacklisted or boosted, the rest untouched.
        ids = [
            f"item-{rng.randrange(args.overrides)}" if i % 10 == 0 else f"fresh-{i}"
            for i in range(args.candidates)
        ]
        body = orjson.dumps(
            {"candidates": [{"item_id": item, "score": rng.random()} for item in dict.fromkeys(ids)]}
        )
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")
        rerank_url = f"/api/v1/models/{model.slug}/rerank/"
        list_url = f"/api/v1/models/{model.slug}/overrides/"

        def rerank():
            response = client.generic("POST", rerank_url, body, "application/json")
            assert response.status_code == 200, response.content[:300]
            return response

        def rerank_uncached():
            selectors._snapshot_cache.clear()
            return rerank()

        etag = client.get(list_url)["ETag"]

        def not_modified():
            response = client.get(list_url, HTTP_IF_NONE_MATCH=etag)
            assert response.status_code == 304
            return response

        def full_list():
            response = client.get(list_url)
            assert response.status_code == 200
            return response

        print(
            f"{args.overrides} active overrides, {args.candidates} candidates, {args.requests} requests each"
        )
        results = {}
        for name, fn in [
            ("rerank", rerank),
            ("rerank, reference: reload overrides every call", rerank_uncached),
            ("overrides, If-None-Match -> 304", not_modified),
            ("overrides, full 200", full_list),
        ]:
            server, wall, cpu = timed(fn, args.requests)
            results[name] = percentiles(server)
            p50, p95 = results[name]
            wall50, wall95 = percentiles(wall)
            cpu50, cpu95 = percentiles(cpu)
            print(
                f"  {name:48s} server p50 {p50:7.2f} ms  p95 {p95:7.2f} ms"
                f"   (with the test client around it: p50 {wall50:6.2f}, p95 {wall95:6.2f}; Python CPU p95 {cpu95:6.2f})"
            )
        print("load average after: ", " ".join(f"{x:.2f}" for x in os.getloadavg()))
        p95 = results["rerank"][1]
        ref95 = results["rerank, reference: reload overrides every call"][1]
        print(
            f"rerank p95 {p95:.2f} ms vs target 20 ms: {p95 / 20:.2f}x of target; reference/ours {ref95 / p95:.1f}x"
        )
        nm95 = results["overrides, If-None-Match -> 304"][1]
        full95 = results["overrides, full 200"][1]
        print(
            f"304 p95 {nm95:.2f} ms vs target 5 ms: {nm95 / 5:.2f}x of target; full 200/304 {full95 / nm95:.1f}x"
        )
    finally:
        model.delete()
        token.delete()


if __name__ == "__main__":
    main()
