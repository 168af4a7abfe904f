"""Raw storage at scale: the partitioned prediction table against the old single table, in one run.

    python bench/scale.py [--sizes 1000000,5000000,10000000,20000000] [--http-rows 100000] [--days 150]

Two databases on the same PostgreSQL server (DATABASE_URL's server, else 127.0.0.1:5432):
``<name>_part`` migrated as today (weekly partitions) and ``<name>_single`` migrated the same,
then its raw table turned back into the old single table by the reverse of migration 0015
(same columns and indexes, one unique key on the table). Both grow by COPY of the same
synthetic rows (25 features, spread over ``--days`` days ending now) to each size; at each
size the bench measures:

- HTTP ingest rows/s (gunicorn, 2 workers, 2 clients, batches of 5,000) into each database,
  ``--http-rows`` new rows of the current hour;
- drift and health API p95 over 30 requests each (partitioned database; must stay flat);
- database sizes.

At the end, retention's time to drop the oldest month (the model's retention cut so the
oldest 30 days expire) and the database size before and after.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import orjson
import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import CATEGORICAL, CITIES, NUMERIC, schema, send_all, start_server  # noqa: E402

CHUNK = 100_000
COLUMNS = ('request_id, version_id, "timestamp", features, score, prediction, entity_id, item_id, segment, '
           "model_id, received_at")


def server_url() -> str:
    return os.getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil").rsplit("/", 1)[0]


def filler(start: int, n: int, model_id: int, version_id: int, t0: float, span_s: float, rng) -> bytes:
    """``n`` synthetic rows as COPY text, timestamps spread evenly over the span."""
    numbers = rng.normal(50, 10, size=(n, NUMERIC)).round(2)
    cities = rng.integers(0, len(CITIES), size=(n, CATEGORICAL))
    scores = rng.random(n).round(4).tolist()
    stamps = t0 + (np.arange(start, start + n) % 1_000_003) / 1_000_003 * span_s
    iso = np.datetime_as_string((stamps * 1e6).astype("datetime64[us]"), unit="s", timezone="UTC")
    lines = []
    names = [f"x{j}" for j in range(NUMERIC)]
    for i in range(n):
        features = dict(zip(names, numbers[i].tolist(), strict=True))
        features.update({f"c{j}": CITIES[c] for j, c in enumerate(cities[i].tolist())})
        features["flag"] = bool(i % 2)
        lines.append(f"f-{start + i}\t{version_id}\t{iso[i]}\t{orjson.dumps(features).decode()}\t{scores[i]!r}\t"
                     f"{int(scores[i] > 0.5)}\tcust-{(start + i) % 50000}\t\\N\tweb\t{model_id}\t{iso[i]}")
    return ("\n".join(lines) + "\n").encode()


def grow(urls: list[str], have: int, want: int, model_id: int, version_id: int, t0: float, span_s: float) -> float:
    """COPY the same rows into every database until each holds ``want`` filler rows; seconds spent."""
    rng = np.random.default_rng(have)
    connections = [psycopg2.connect(u) for u in urls]
    started = time.perf_counter()
    for offset in range(have, want, CHUNK):
        text = filler(offset, min(CHUNK, want - offset), model_id, version_id, t0, span_s, rng)
        for conn in connections:
            with conn, conn.cursor() as cur:
                cur.copy_expert(f"COPY monitoring_prediction ({COLUMNS}) FROM STDIN", io.BytesIO(text))
    for conn in connections:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE monitoring_prediction")
        conn.close()
    return time.perf_counter() - started


def http_batches(run: str, n: int, size: int, label: str) -> tuple[list[bytes], list[int]]:
    rng = np.random.default_rng(7)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0).isoformat()
    bodies, expected = [], []
    for offset in range(0, n, size):
        rows = []
        for i in range(offset, min(n, offset + size)):
            features = {f"x{j}": round(float(v), 3) for j, v in enumerate(rng.normal(50, 10, NUMERIC))}
            features.update({f"c{j}": CITIES[(i + j) % len(CITIES)] for j in range(CATEGORICAL)})
            features["flag"] = bool(i % 2)
            rows.append({"request_id": f"{run}-{label}-{i}", "version": "1.0", "timestamp": now,
                         "features": features, "score": round(float(rng.random()), 4), "prediction": i % 2,
                         "entity_id": f"cust-{i % 50000}", "segment": "web"})
        bodies.append(orjson.dumps(rows))
        expected.append(len(rows))
    return bodies, expected


def p95(url: str, key: str, params: dict, n: int = 30) -> float:
    session = requests.Session()
    headers = {"Authorization": f"Token {key}"}
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(url, params=params, headers=headers, timeout=120)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.text[:300]}")
    return float(np.percentile(times, 95) * 1000)


def db_size(url: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        return int(cur.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,5000000,10000000,20000000", help="raw rows at each step")
    parser.add_argument("--http-rows", type=int, default=100_000, help="rows sent over HTTP per database per step")
    parser.add_argument("--days", type=int, default=150, help="span of the filler rows, ending now")
    parser.add_argument("--port", type=int, default=18951)
    parser.add_argument("--keep", action="store_true", help="keep the two databases")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    name = f"vigil_scale_{uuid.uuid4().hex[:6]}"
    base = server_url()
    admin = psycopg2.connect(f"{base}/postgres")
    admin.autocommit = True
    urls = {kind: f"{base}/{name}_{kind}" for kind in ("part", "single")}
    for url in urls.values():
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {url.rsplit('/', 1)[1]}")
    # Tasks the app enqueues (profile builds, analyses) go nowhere: the bench folds and analyses itself.
    env = {"SECRET_KEY": "bench-only", **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "False",
           "CELERY_BROKER_URL": "memory://"}
    for url in urls.values():
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**env, "DATABASE_URL": url},
                       check=True)
    os.environ.update({**env, "DATABASE_URL": urls["part"]})
    import django

    django.setup()
    from django.db import connection, connections

    from monitoring.services.analysis import version_analyse
    from monitoring.services.compaction import sketches_compact_all
    from monitoring.services.partitions import partition_ensure

    migration = __import__("monitoring.migrations.0015_prediction_partitioned", fromlist=["backward"])
    # The single-table database: the same app state, its raw table back to the old layout.
    single = psycopg2.connect(urls["single"])
    with single, single.cursor() as cur:
        migration.backward(None, SimpleNamespace(connection=SimpleNamespace(cursor=lambda: _Cursor(cur))))
    single.close()

    ids: dict = {}
    for kind, url in urls.items():
        setup = (f"import django; django.setup(); from bench.scale import setup_model; "
                 f"print(setup_model({kind!r}))")
        out = subprocess.run([sys.executable, "-c", setup], cwd=ROOT, env={**env, "DATABASE_URL": url}, check=True,
                             capture_output=True, text=True).stdout.split()
        ids[kind] = (int(out[-3]), int(out[-2]), out[-1])
    assert ids["part"][:2] == ids["single"][:2], ids
    model_id, version_id, _ = ids["part"]
    now = datetime.now(UTC)
    t0 = (now - timedelta(days=args.days)).timestamp()
    span = args.days * 86400 - 7200  # filler ends two hours ago: the HTTP rows are the newest
    week = now - timedelta(days=args.days)
    while week < now + timedelta(days=7):
        partition_ensure(start=week)
        week += timedelta(days=7)
    connection.close()

    have = 0
    results = []
    for size in sizes:
        copy_s = grow(list(urls.values()), have, size, model_id, version_id, t0, span)
        print(f"[scale] grown to {size:,} filler rows per database in {copy_s:.0f} s "
              f"({2 * (size - have) / copy_s:,.0f} rows/s over both)", flush=True)
        have = size
        rates = {}
        # Alternate which database goes first: the shared machine's load drifts within a step.
        for kind in (("part", "single") if len(results) % 2 == 0 else ("single", "part")):
            url = urls[kind]
            bodies, expected = http_batches(ids[kind][2], args.http_rows, 5000, f"{size}")
            server = start_server({**env, "DATABASE_URL": url, "PYTHONWARNINGS": "ignore"}, args.port, 2)
            try:
                # Untimed warm-up: both workers have connected and loaded the registry.
                warm, warm_expected = http_batches(ids[kind][2], 2000, 500, f"warm{size}")
                send_all(f"http://127.0.0.1:{args.port}/api/v1/models/scale/predictions/", ids[kind][2],
                         warm, 2, warm_expected)
                seconds = send_all(f"http://127.0.0.1:{args.port}/api/v1/models/scale/predictions/", ids[kind][2],
                                   bodies, 2, expected)
                if kind == "part":
                    sketches_compact_all()
                    version_analyse(version_id=version_id)
                    key = ids[kind][2]
                    base_url = f"http://127.0.0.1:{args.port}/api/v1/models/scale"
                    day = {"start": (now - timedelta(days=1)).isoformat(), "end": (now + timedelta(hours=2)).isoformat()}
                    drift_p95 = p95(f"{base_url}/drift/", key, day)
                    health_p95 = p95(f"{base_url}/health/", key, {})
            finally:
                server.terminate()
                server.wait(30)
            rates[kind] = args.http_rows / seconds
        sizes_now = {kind: db_size(url) for kind, url in urls.items()}
        results.append((size, rates, drift_p95, health_p95, sizes_now))
        print(f"[scale] {size:>11,} rows: HTTP ingest partitioned {rates['part']:,.0f} rows/s, single table "
              f"{rates['single']:,.0f} rows/s (ratio {rates['part'] / rates['single']:.2f}); drift p95 "
              f"{drift_p95:.0f} ms, health p95 {health_p95:.0f} ms; database "
              f"{sizes_now['part'] / 1e9:.2f} GB partitioned, {sizes_now['single'] / 1e9:.2f} GB single", flush=True)

    from monitoring.models import MLModel
    from monitoring.services.retention import retention_apply

    MLModel.objects.filter(pk=model_id).update(raw_retention_days=args.days - 30)
    before = db_size(urls["part"])
    started = time.perf_counter()
    steps = retention_apply()
    drop_s = time.perf_counter() - started
    after = db_size(urls["part"])
    dropped = [s for s in steps if s.kind == "drop" and s.done]
    deleted = sum(s.rows for s in steps if s.kind == "delete")
    print(f"[scale] retention: dropped {len(dropped)} week partitions ({sum(s.rows for s in dropped):,} rows, "
          f"{sum(s.bytes for s in dropped) / 1e9:.2f} GB) + deleted {deleted:,} rows of the partly expired week "
          f"in {drop_s:.1f} s; database {before / 1e9:.2f} GB -> {after / 1e9:.2f} GB")
    with open("/proc/loadavg") as load:
        print(f"[scale] load average at the end: {load.read().split()[:3]} (shared, noisy machine)")
    connections.close_all()
    if not args.keep:
        for url in urls.values():
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")


class _Cursor:
    """A psycopg2 cursor usable as ``with connection.cursor() as c`` (what the migration expects)."""

    def __init__(self, cur) -> None:
        self.cur = cur

    def __enter__(self):
        return self.cur

    def __exit__(self, *exc) -> None:
        return None


def setup_model(kind: str) -> str:
    """Create the benchmark model (same ids in both databases: both are fresh), its reference
    data and a read+ingest token; prints ``model_id version_id key``."""
    from core.services.tokens import api_token_create
    from monitoring.services.rebuild import profile_rebuild
    from monitoring.services.reference import reference_store
    from monitoring.services.registry import model_create, version_create

    model = model_create(slug="scale", name="Scale benchmark", task="binary_classification")
    version = version_create(model=model, version="1.0", features=schema(), stage="production")
    rng = np.random.default_rng(1)
    rows = [{"features": {**{f"x{j}": float(v) for j, v in enumerate(rng.normal(50, 10, NUMERIC))},
                          **{f"c{j}": CITIES[(i + j) % len(CITIES)] for j in range(CATEGORICAL)}, "flag": bool(i % 2)},
             "score": float(rng.random())} for i in range(2000)]
    reference_store(version=version, rows=rows)
    profile_rebuild(version=version)
    _, key = api_token_create(name=f"scale-{kind}", scopes=["ingest", "read"])
    return f"{model.pk} {version.pk} {key}"


if __name__ == "__main__":
    main()
