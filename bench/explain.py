"""Explanation speed: Vigil's explainer layer vs shap.TreeExplainer, and endpoint latency.

A 200-tree LightGBM on 25 numeric features. Prints explanations/second for both (same rows,
same process, alternating runs, median of 5) and the ratio, then p50/p95 latency of
GET /api/v1/models/{slug}/predictions/{id}/explanation/ for first-time and stored
explanations (Django test client in-process, real PostgreSQL from DATABASE_URL).

    DATABASE_URL=postgres://... .venv/bin/python bench/explain.py [--rows 2000] [--requests 200]
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

FEATURES = 25


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, FEATURES))
    logit = X[:, :5] @ np.array([1.0, -0.8, 0.6, 0.5, -0.4]) + 0.3 * X[:, 5] * X[:, 6]
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def _alternating(fns: list, repeats: int = 5) -> list[float]:
    """Median seconds per function, running them in turn so machine noise hits all alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    import lightgbm as lgb
    import shap

    from explain.runtime import build_runtime

    names = [f"f{i:02d}" for i in range(FEATURES)]
    schema = [{"name": n, "type": "numeric"} for n in names]
    X_train, y = _data(20000, 0)
    import pandas as pd

    booster = lgb.train({"objective": "binary", "num_leaves": 31, "max_depth": 6, "verbose": -1},
                        lgb.Dataset(pd.DataFrame(X_train, columns=names), y), num_boost_round=200)
    X_rows, _ = _data(args.rows, 1)
    rows = [dict(zip(names, map(float, r), strict=True)) for r in X_rows]
    runtime = build_runtime(obj=booster, schema=schema, background_rows=rows[:100], background_size=100)
    frame = runtime.frame(rows)
    reference = shap.TreeExplainer(booster)

    reference.shap_values(frame[:10])
    runtime.explain(frame[:10])
    t_shap, t_vigil, t_vigil_dicts = _alternating([
        lambda: reference.shap_values(frame),
        lambda: runtime.explain(frame),
        lambda: runtime.explain(runtime.frame(rows)),
    ])
    ours = runtime.explain(frame)
    assert np.abs(ours.shap - np.asarray(reference.shap_values(frame))).max() <= 1e-6
    print(f"TreeSHAP, 200 trees x 25 features, {args.rows} rows (median of 5, alternating):")
    print(f"  shap.TreeExplainer            {args.rows / t_shap:10.0f} rows/s")
    print(f"  Vigil explainer layer (frame) {args.rows / t_vigil:10.0f} rows/s   ratio {t_shap / t_vigil:.2f}")
    print(f"  Vigil incl. dict->frame       {args.rows / t_vigil_dicts:10.0f} rows/s   ratio {t_shap / t_vigil_dicts:.2f}"
          "  (includes the raw-output pass used for the additivity check)")
    print(f"  max additivity error {ours.additivity_error.max():.2e}")
    _endpoint(booster, schema, rows[: args.requests])


def _endpoint(booster, schema: list[dict], rows: list[dict]) -> None:
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from core.services.tokens import api_token_create
    from explain.services import artifact_upload
    from monitoring.models import MLModel, ModelVersion, Prediction

    call_command("migrate", verbosity=0)
    slug = f"bench-explain-{uuid.uuid4().hex[:8]}"
    model = MLModel.objects.create(slug=slug, name="Bench", task="binary_classification")
    try:
        version = ModelVersion.objects.create(model=model, version="v1", features=schema)
        import pandas as pd

        scores = booster.predict(pd.DataFrame(rows)[[f["name"] for f in schema]])
        now = dt.datetime.now(dt.UTC)
        Prediction.objects.bulk_create([
            Prediction(model=model, version=version, request_id=f"b-{i}", timestamp=now, features=r,
                       score=float(scores[i]), received_at=now) for i, r in enumerate(rows)
        ])
        artifact_upload(version=version, data=booster.model_to_string().encode())
        _, key = api_token_create(name=f"{slug}-token", scopes=["read"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

        def timed(request_id: str) -> float:
            start = time.perf_counter()
            response = client.get(f"/api/v1/models/{slug}/predictions/{request_id}/explanation/")
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, response.content
            return elapsed * 1000

        first = [timed(f"b-{i}") for i in range(len(rows))]
        stored = [timed(f"b-{i}") for i in range(len(rows))]
        for label, values, target in (("first-time", first, 300), ("stored", stored, 50)):
            p50, p95 = np.percentile(values, [50, 95])
            print(f"Explanation endpoint, {label:10s} ({len(values)} requests): p50 {p50:6.1f} ms  "
                  f"p95 {p95:6.1f} ms  (target p95 < {target} ms)")
        print(f"  database: {connection.settings_dict['NAME']}; artifact loaded once per process (cache by sha256)")
    finally:
        model.delete()
        from core.models import ApiToken

        ApiToken.objects.filter(name=f"{slug}-token").delete()


if __name__ == "__main__":
    main()
