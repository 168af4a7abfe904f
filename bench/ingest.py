"""HTTP ingestion rate against a plain COPY of the same rows, in one run.

    python bench/ingest.py [--rows 1000000] [--batch 10000] [--clients 2] [--workers 2] [--into week|default]

Starts the app with gunicorn on real PostgreSQL (DATABASE_URL if set, else the local
server at 127.0.0.1:5432, else an embedded pgserver), sends the predictions (25 features)
in JSON batches over HTTP from concurrent clients, then COPYs the same rows into a bare
table with the same columns and indexes (no foreign keys, no application). Prints rows/s
for both and the ratio. Target: HTTP at least 60% of the COPY rate.
Bodies and COPY text are prepared before the clocks start; only sending/writing is timed.
"""

import argparse
import io
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NUMERIC, CATEGORICAL = 20, 4  # plus one boolean: 25 features
CITIES = ["paris", "rome", "oslo", "lima", "kyiv"]


def database_url() -> tuple[str, object]:
    if os.getenv("DATABASE_URL"):
        return os.environ["DATABASE_URL"], None
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgres://postgres@127.0.0.1:5432/vigil", None
    from config.embedded import VAR_DIR, start_postgres

    server, url = start_postgres(VAR_DIR / "bench-pgdata")
    return url, server


def schema() -> list[dict]:
    return (
        [{"name": f"x{j}", "type": "numeric"} for j in range(NUMERIC)]
        + [{"name": f"c{j}", "type": "categorical", "categories": CITIES} for j in range(CATEGORICAL)]
        + [{"name": "flag", "type": "boolean"}]
    )


def make_batches(total: int, size: int, run: str, version: str, days: float) -> list[list[dict]]:
    """Rows in time order over ``days``, as a serving system logs them (not a shuffled backfill)."""
    rng = np.random.default_rng(42)
    start = np.datetime64("2024-06-01T00:00:00")
    step_ms = days * 86_400_000 / total
    batches = []
    for offset in range(0, total, size):
        n = min(size, total - offset)
        numbers = rng.normal(50, 10, size=(n, NUMERIC)).round(3).tolist()
        cities = rng.integers(0, len(CITIES), size=(n, CATEGORICAL)).tolist()
        scores = rng.random(n).round(4).tolist()
        offsets = (np.arange(offset, offset + n) * step_ms).astype("timedelta64[ms]")
        stamps = np.datetime_as_string(start + offsets).tolist()
        batch = []
        for i in range(n):
            features = {f"x{j}": v for j, v in enumerate(numbers[i])}
            features.update({f"c{j}": CITIES[c] for j, c in enumerate(cities[i])})
            features["flag"] = bool(i % 2)
            batch.append({
                "request_id": f"{run}-{offset + i}", "version": version, "timestamp": stamps[i] + "Z",
                "features": features, "score": scores[i], "prediction": int(scores[i] > 0.5),
                "entity_id": f"cust-{(offset + i) % 50000}", "segment": "web" if i % 3 else "app",
            })
        batches.append(batch)
    return batches


def copy_text(batch: list[dict], model_id: int, version_id: int) -> bytes:
    lines = [
        "\t".join((row["request_id"], str(version_id), row["timestamp"], orjson.dumps(row["features"]).decode(),
                   repr(row["score"]), str(row["prediction"]), row["entity_id"], "\\N", row["segment"],
                   str(model_id), "2024-07-01T00:00:00Z"))
        for row in batch
    ]
    return ("\n".join(lines) + "\n").encode()


def start_server(env: dict, port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "300", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not come up")


def send_all(url: str, key: str, bodies: list[bytes], clients: int, expected: list[int]) -> float:
    work: queue.Queue = queue.Queue()
    for item in enumerate(bodies):
        work.put(item)
    failures: list[str] = []

    def client() -> None:
        session = requests.Session()
        headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
        while True:
            try:
                k, body = work.get_nowait()
            except queue.Empty:
                return
            response = session.post(url, data=body, headers=headers, timeout=600)
            result = response.json()
            if response.status_code != 200 or result.get("accepted") != expected[k]:
                failures.append(f"batch {k}: {response.status_code} {str(result)[:300]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit("HTTP ingestion failed: " + "; ".join(failures[:3]))
    return elapsed


def copy_all(texts: list[bytes]) -> float:
    from django.db import connection

    columns = ('request_id, version_id, "timestamp", features, score, prediction, entity_id, item_id, segment, '
               "model_id, received_at")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_prediction")
        # Same columns and indexes (unique request_id, version/timestamp, partial entity/item) as
        # monitoring_prediction; no foreign keys and nothing of the application.
        cursor.execute("CREATE TABLE bench_copy_prediction (LIKE monitoring_prediction INCLUDING ALL)")
        # The raw table is partitioned: its idempotency key is a unique index on each partition
        # (LIKE copies only the parent's indexes), so the bare table gets the same key.
        cursor.execute("CREATE UNIQUE INDEX IF NOT EXISTS bench_copy_prediction_request ON bench_copy_prediction "
                       '(model_id, version_id, request_id) INCLUDE ("timestamp", score, decision_code)')
    started = time.perf_counter()
    for text in texts:
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY bench_copy_prediction ({columns}) FROM STDIN", io.BytesIO(text))
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_copy_prediction")
        copied = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_copy_prediction")
    assert copied == sum(t.count(b"\n") for t in texts), copied
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--days", type=float, default=None,
                        help="time span of all rows; default 30 days per million rows (sketch windows are hourly)")
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark model and its rows")
    parser.add_argument("--into", choices=["week", "default"], default="week",
                        help="week: the rows' weeks have their partitions (current weeks, created ahead); "
                             "default: they have none and the DEFAULT partition catches them (a backfill)")
    args = parser.parse_args()

    url, embedded = database_url()
    env = {"SECRET_KEY": "bench-only", **os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings",
           "DEBUG": "False"}  # fmt: skip
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.db import connection

    from core.services.tokens import api_token_create
    from monitoring.models import MLModel
    from monitoring.services.partitions import partition_ensure
    from monitoring.services.registry import model_create, version_create

    # The rows' weeks get their partitions, as current weeks have in a deployment (the beat
    # creates them ahead); without, they would all land in the DEFAULT partition.
    days = args.days if args.days is not None else 30 * args.rows / 1_000_000
    for week in range(int(days // 7) + 2) if args.into == "week" else ():
        partition_ensure(start=datetime(2024, 6, 1, tzinfo=UTC) + timedelta(weeks=week))

    run = f"bench{uuid.uuid4().hex[:8]}"
    model = model_create(slug=run, name="Ingestion benchmark", task="binary_classification")
    version = version_create(model=model, version="1.0", features=schema(), stage="production")
    token, key = api_token_create(name=run, scopes=["ingest"])

    print(f"[bench] preparing {args.rows:,} rows in batches of {args.batch:,} ...", flush=True)
    batches = make_batches(args.rows, args.batch, run, version.version, days)
    bodies = [orjson.dumps(b) for b in batches]
    texts = [copy_text(b, model.pk, version.pk) for b in batches]
    expected = [len(b) for b in batches]
    del batches
    print(f"[bench] JSON {sum(map(len, bodies)) / 1e6:.0f} MB, database {url.split('@')[-1]}", flush=True)

    server = start_server(env, args.port, args.workers)
    try:
        http_s = send_all(f"http://127.0.0.1:{args.port}/api/v1/models/{run}/predictions/", key, bodies,
                          args.clients, expected)
    finally:
        server.terminate()
        server.wait(30)
    stored = model.prediction_set.count()
    assert stored == args.rows, f"stored {stored} of {args.rows}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monitoring_prediction_default WHERE model_id = %s", [model.pk])
        in_default = cursor.fetchone()[0]
    print(f"[bench] rows stored in the DEFAULT partition: {in_default:,} of {stored:,}", flush=True)
    del bodies
    copy_s = copy_all(texts)

    http_rate, copy_rate = args.rows / http_s, args.rows / copy_s
    print(f"HTTP ingestion ({args.clients} clients, {args.workers} gunicorn workers): "
          f"{args.rows:,} rows in {http_s:.1f} s = {http_rate:,.0f} rows/s")
    print(f"COPY into a bare table (1 connection):  {args.rows:,} rows in {copy_s:.1f} s = {copy_rate:,.0f} rows/s")
    print(f"ratio HTTP/COPY = {http_rate / copy_rate:.2f} (target >= 0.60)")
    with open("/proc/loadavg") as load:
        print(f"load average at the end: {load.read().split()[:3]} (shared, noisy machine)")

    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM monitoring_prediction WHERE model_id = %s", [model.pk])
        MLModel.objects.filter(pk=model.pk).delete()
        token.delete()
    if embedded is not None:
        embedded.cleanup()


if __name__ == "__main__":
    main()
