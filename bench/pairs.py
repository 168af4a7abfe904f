"""Reading paired predictions (production and shadow on the same requests) for a comparison.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil_pairs python bench/pairs.py [--rows 1000000]

Stores ``--rows`` requests predicted by two versions of one binary model (SQL
generate_series, outside the clock), labels for 70% of them, then times
``monitoring.selectors.pairs.paired_predictions`` (median of 3) and checks what it read.
Also prints the CPU seconds of the Python process and of the PostgreSQL backend (when it
runs on this machine): on a shared, loaded machine they say more than the wall time.
Target: 1,000,000 shared requests in well under 2 s.
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# 20 numeric and 5 categorical features per row, as in bench/ingest.py: the rows are as wide
# as real ones, so scanning the table instead of the key would show.
FEATURES = "jsonb_build_object(" + ", ".join(
    [f"'x{j}', round((random() * 100)::numeric, 6)" for j in range(20)]
    + [f"'c{j}', (ARRAY['paris', 'rome', 'oslo', 'lima', 'kyiv'])[1 + (g + {j}) %% 5]" for j in range(5)]
) + ")"
FILL = f"""
INSERT INTO monitoring_prediction (model_id, version_id, request_id, "timestamp", features, score, prediction,
                                   decision_code, served, received_at)
SELECT %(model)s, %(version)s, 'r-' || g, '2024-06-01'::timestamptz + g * interval '1 second', {FEATURES},
       s, to_jsonb((s >= 0.5)::int), (s >= 0.5)::int, %(served)s, now()
  FROM (SELECT g, (hashint4(g + %(seed)s)::float8 + 2147483648) / 4294967296 AS s
          FROM generate_series(1, %(rows)s) g) t
"""
LABELS = """
INSERT INTO monitoring_label (model_id, request_id, value, value_code, "timestamp", received_at, human_corrected)
SELECT %(model)s, 'r-' || g, to_jsonb(g %% 2), g %% 2, now(), now(), false
  FROM generate_series(1, %(rows)s) g WHERE g %% 10 < 7
"""


def backend_cpu(pid: int) -> float:
    """CPU seconds used so far by a PostgreSQL backend on this machine (NaN if not local)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark model and its rows")
    args = parser.parse_args()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil")
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.db import connection

    from monitoring.models import MLModel
    from monitoring.selectors.pairs import paired_predictions
    from monitoring.services.registry import model_create, version_create

    run = f"pairs{uuid.uuid4().hex[:8]}"
    model = model_create(slug=run, name="Pairs benchmark", task="binary_classification")
    a = version_create(model=model, version="a", features=[], stage="production")
    b = version_create(model=model, version="b", features=[], stage="shadow")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for version, seed, served in ((a, 0, True), (b, 7, False)):
            cursor.execute(FILL, {"model": model.pk, "version": version.pk, "rows": args.rows, "seed": seed,
                                  "served": served})
        cursor.execute(LABELS, {"model": model.pk, "rows": args.rows})
    # As autovacuum leaves a table some time after a bulk insert: statistics and visibility map set.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE monitoring_prediction")
        cursor.execute("VACUUM ANALYZE monitoring_label")
    print(f"[bench] stored {args.rows:,} requests x 2 versions + labels in {time.perf_counter() - started:.1f} s",
          flush=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        times, cpu = [], []
        for _ in range(3):
            started, python_cpu, postgres_cpu = time.perf_counter(), time.process_time(), backend_cpu(backend)
            pairs = paired_predictions(model=model, version_a=a, version_b=b)
            times.append(time.perf_counter() - started)
            cpu.append((time.process_time() - python_cpu, backend_cpu(backend) - postgres_cpu))
        assert len(pairs) == args.rows, len(pairs)
        assert int(pairs.labelled.sum()) == sum(1 for g in range(1, args.rows + 1) if g % 10 < 7)
        assert np.array_equal(pairs.prediction_a, (pairs.score_a >= 0.5).astype(float))
        print(f"paired_predictions: {args.rows:,} shared requests in {sorted(times)[1]:.2f} s "
              f"(median of 3; runs {', '.join(f'{t:.2f}' for t in times)}), target < 2 s")
        if not np.isnan(cpu[0][1]):
            print("CPU time (what a quiet machine's wall time would be close to): "
                  + ", ".join(f"Python {p:.2f} s + PostgreSQL {q:.2f} s" for p, q in cpu))
        with open("/proc/loadavg") as load:
            print(f"load average at the end: {load.read().split()[:3]} (shared, noisy machine)")
    finally:
        if not args.keep:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM monitoring_prediction WHERE model_id = %s", [model.pk])
                cursor.execute("DELETE FROM monitoring_label WHERE model_id = %s", [model.pk])
            MLModel.objects.filter(pk=model.pk).delete()


if __name__ == "__main__":
    main()
