"""Paired comparison of two versions over 1,000,000 shared labelled requests, in one run:
Vigil's compare endpoint against a pandas merge plus statsmodels / scikit-learn / scipy.

    python bench/compare.py [--rows 1000000] [--repeat 3] [--keep]

Uses an embedded PostgreSQL under var/ (DATABASE_URL if set). Stores both versions'
predictions and the labels with COPY (not timed), then times
- Vigil: GET /api/v1/models/{slug}/compare/?a=&b= through Django's full stack in process,
  reading the Server-Timing header (server time: middleware, auth, SQL, statistics, JSON);
- pandas: read_sql of both versions' predictions and the labels from the same database,
  two merges on request_id, then the same statistics with the reference libraries:
  Wilson interval (statsmodels), Cohen's kappa (sklearn), Spearman (scipy), exact McNemar
  (statsmodels), accuracy/precision/recall/F1/log loss/ROC AUC of both (sklearn). The pandas
  route computes no DeLong variance (no reference library has it), so it does less work.
Prints the best of ``--repeat`` runs of each, the ratio, and checks the two agree.
Target: server time under 2 s and faster than the pandas route.
"""

import argparse
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def database_url():
    if os.getenv("DATABASE_URL"):
        return os.environ["DATABASE_URL"], None
    from config.embedded import VAR_DIR, start_postgres

    handle = start_postgres(VAR_DIR / "bench-pgdata")
    return handle.server.get_uri(), handle.server


def copy_rows(cursor, table: str, columns: str, lines) -> None:
    buffer = io.StringIO("".join(lines))
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def seed(model, version_a, version_b, n: int, run: str) -> None:
    from django.db import connection

    rng = np.random.default_rng(1)
    y = (rng.random(n) < 0.3).astype(int)
    latent = y * 1.2 + rng.normal(0, 1, n)
    score_a = 1 / (1 + np.exp(-(latent + rng.normal(0, 0.9, n) - 0.6)))
    score_b = 1 / (1 + np.exp(-(latent * 1.3 + rng.normal(0, 0.6, n) - 0.8)))
    t0 = np.datetime64("2026-10-01T00:00:00")
    stamps = (t0 + (np.arange(n) * 2).astype("timedelta64[s]")).astype(str)
    ids = [f"{run}-{i}" for i in range(n)]
    cols = 'request_id, version_id, model_id, "timestamp", features, score, prediction, decision_code, received_at'
    with connection.cursor() as cursor:
        for version, score in ((version_a, score_a), (version_b, score_b)):
            scores = score.tolist()
            decision = (score >= 0.5).astype(int).tolist()
            copy_rows(cursor, "monitoring_prediction", cols, (
                f"{ids[i]}\t{version.pk}\t{model.pk}\t{stamps[i]}Z\t{{}}\t{scores[i]!r}\t{decision[i]}\t{decision[i]}\t{stamps[i]}Z\n"
                for i in range(n)))
        labels = y.tolist()
        copy_rows(cursor, "monitoring_label",
                  'model_id, request_id, value, value_code, "timestamp", received_at, human_corrected',
                  (f"{model.pk}\t{ids[i]}\t{labels[i]}\t{labels[i]}\t{stamps[i]}Z\t{stamps[i]}Z\tf\n" for i in range(n)))
        # What autovacuum does within a minute of a large insert (statistics and the visibility map
        # the index-only scans rely on); done here so the timed runs neither race it nor read a
        # state no settled table is in.
        for table in ("monitoring_prediction", "monitoring_label"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def _backend_cpu(connection) -> float:
    """CPU seconds the PostgreSQL backend serving ``connection`` has used (local server; NaN when
    /proc does not show it): separates the query's own work from waiting for a core."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vigil_route(client, slug: str, a: str, b: str) -> tuple[float, float, dict]:
    """(server time from Server-Timing, this process's CPU seconds, body)."""
    cpu = time.process_time()
    response = client.get(f"/api/v1/models/{slug}/compare/", {"a": a, "b": b})
    cpu = time.process_time() - cpu
    assert response.status_code == 200, response.content[:300]
    server = float(response["Server-Timing"].split("dur=")[1]) / 1000
    return server, cpu, response.json()


def pandas_route(url: str, model_id: int, a_id: int, b_id: int) -> tuple[float, float, dict]:
    """(wall seconds, this process's CPU seconds, results)."""
    import warnings

    import pandas as pd
    import psycopg2
    from scipy.stats import spearmanr
    from sklearn.metrics import (
        accuracy_score,
        cohen_kappa_score,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.proportion import proportion_confint

    warnings.filterwarnings("ignore", message="pandas only supports SQLAlchemy")
    began, cpu = time.perf_counter(), time.process_time()
    with psycopg2.connect(url) as conn:
        query = ("SELECT request_id, score, (prediction #>> '{}')::float8 AS decision FROM monitoring_prediction "
                 "WHERE model_id = %s AND version_id = %s")
        a = pd.read_sql(query, conn, params=(model_id, a_id))
        b = pd.read_sql(query, conn, params=(model_id, b_id))
        labels = pd.read_sql("SELECT request_id, (value #>> '{}')::float8 AS label FROM monitoring_label "
                             "WHERE model_id = %s", conn, params=(model_id,))
    pairs = a.merge(b, on="request_id", suffixes=("_a", "_b")).merge(labels, on="request_id", how="left")
    da, db = pairs["decision_a"].to_numpy(), pairs["decision_b"].to_numpy()
    same = int((da == db).sum())
    out = {"paired": len(pairs), "agreement": same / len(pairs),
           "agreement_ci": proportion_confint(same, len(pairs), method="wilson"),
           "kappa": cohen_kappa_score(da, db),
           "score_correlation": spearmanr(pairs["score_a"], pairs["score_b"]).statistic}
    lab = pairs.dropna(subset=["label"])
    y = lab["label"].to_numpy()
    ra, rb = lab["decision_a"].to_numpy() == y, lab["decision_b"].to_numpy() == y
    table = [[np.sum(ra & rb), np.sum(ra & ~rb)], [np.sum(~ra & rb), np.sum(~ra & ~rb)]]
    out["mcnemar_p"] = mcnemar(table, exact=True).pvalue
    for side in ("a", "b"):
        d, s = lab[f"decision_{side}"].to_numpy(), lab[f"score_{side}"].to_numpy()
        out[side] = {"accuracy": accuracy_score(y, d), "precision": precision_score(y, d), "recall": recall_score(y, d),
                     "f1": f1_score(y, d), "log_loss": log_loss(y, s), "roc_auc": roc_auc_score(y, s)}
    return time.perf_counter() - began, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    url, embedded = database_url()
    # A throwaway key: the settings refuse to start without one when DEBUG is off.
    env = {"SECRET_KEY": f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}", **os.environ, "DATABASE_URL": url,
           "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "False"}
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from django.test import Client

    from core.services.tokens import api_token_create
    from lifecycle.services.policy import policy_update
    from monitoring.models import MLModel
    from monitoring.services.registry import model_create, version_create

    run = f"cmp{uuid.uuid4().hex[:8]}"
    model = model_create(slug=run, name="Comparison benchmark", task="binary_classification")
    va = version_create(model=model, version="a", features=[], stage="production", threshold=0.5)
    vb = version_create(model=model, version="b", features=[], stage="shadow", threshold=0.5)
    policy_update(model=model, min_pairs=1000, min_labels=1000)
    token, key = api_token_create(name=run, scopes=["read"])
    print(f"[bench] storing {args.rows:,} requests x 2 versions + labels (COPY, not timed) ...", flush=True)
    began = time.perf_counter()
    seed(model, va, vb, args.rows, run)
    print(f"[bench] stored in {time.perf_counter() - began:.0f} s", flush=True)

    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    vigil = [vigil_route(client, run, "a", "b") for _ in range(args.repeat)]
    panda = [pandas_route(url, model.pk, va.pk, vb.pk) for _ in range(args.repeat)]
    server, cpu, body = min(vigil, key=lambda r: r[0])
    pandas_s, pandas_cpu, ref = min(panda, key=lambda r: r[0])

    assert body["paired"] == ref["paired"] == args.rows
    for key_, tol in (("agreement", 1e-12), ("kappa", 1e-9), ("score_correlation", 1e-9)):
        assert abs(body[key_] - ref[key_]) < tol, (key_, body[key_], ref[key_])
    assert abs(body["mcnemar"]["p_value"] - ref["mcnemar_p"]) < 1e-9
    for side in ("a", "b"):
        for name, value in ref[side].items():
            assert abs(body["metrics"][side][name] - value) < 1e-9, (side, name, body["metrics"][side][name], value)
    print(f"paired requests: {body['paired']:,}, labelled {body['labelled']:,}; verdict {body['verdict']}")
    print(f"Vigil compare endpoint: server time {server:.2f} s (app CPU {cpu:.2f} s), best of {args.repeat}: "
          + ", ".join(f"{r[0]:.2f}" for r in vigil))
    print(f"pandas merge + statsmodels/scikit-learn/scipy: {pandas_s:.2f} s (CPU {pandas_cpu:.2f} s), "
          f"best of {args.repeat}: " + ", ".join(f"{r[0]:.2f}" for r in panda))
    # Where the server time goes, in one more run: the paired read (SQL + COPY), then the statistics.
    from django.db import connection

    from lifecycle.comparison import Rules, Side, compare_paired, decisions
    from monitoring.selectors.pairs import paired_predictions

    backend_cpu = _backend_cpu(connection)
    began, read_cpu = time.perf_counter(), time.process_time()
    pairs = paired_predictions(model=model, version_a=va, version_b=vb)
    read_s, read_cpu = time.perf_counter() - began, time.process_time() - read_cpu
    pg_cpu = _backend_cpu(connection) - backend_cpu
    began = time.perf_counter()
    sides = [Side(score, decisions(task="binary_classification", score=score, logged=logged, threshold=0.5))
             for score, logged in ((pairs.score_a, pairs.prediction_a), (pairs.score_b, pairs.prediction_b))]
    compare_paired(task="binary_classification", a=sides[0], b=sides[1], label=pairs.label, rules=Rules())
    stats_s = time.perf_counter() - began
    print(f"  one more run: paired read {read_s:.2f} s (PostgreSQL backend CPU {pg_cpu:.2f} s, decoding in Python "
          f"{read_cpu:.2f} s CPU; the rest is waiting for a core), statistics {stats_s:.2f} s")
    print(f"ratio Vigil/pandas = {server / pandas_s:.2f} (target: < 1, and server time < 2 s); results agree")
    with open("/proc/loadavg") as load:
        print(f"load average at the end: {load.read().split()[:3]} (shared, noisy machine)")

    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM monitoring_prediction WHERE model_id = %s", [model.pk])
            cursor.execute("DELETE FROM monitoring_label WHERE model_id = %s", [model.pk])
        MLModel.objects.filter(pk=model.pk).delete()
        token.delete()
    if embedded is not None:
        embedded.cleanup()


if __name__ == "__main__":
    main()
