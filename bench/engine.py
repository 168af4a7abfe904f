"""The monitoring engine against Evidently, ingestion with and without sketching, drift API latency.

    python bench/engine.py [--rows 1000000] [--ref-rows 100000] [--throughput-rows 200000]

One run, on real PostgreSQL (DATABASE_URL, default the local server's ``vigil`` database):
1. 20 numeric + 5 categorical features; the current rows (one UTC day) carry a known shift in
   three features (x0 mean +0.5 sd, x1 spread x1.5, c0 proportions).
2. Ingestion through ``predictions_ingest`` in 5,000-row batches: rows/s with sketching
   switched off, then with it on (same rows, fresh model each), and the overhead.
3. (a) Evidently 0.7 DataDriftPreset on the two in-memory DataFrames (own virtualenv
   ``bench/.venv-evidently`` from ``bench/requirements-evidently.txt``, run as a subprocess on
   .npz files; only the report's run is timed); (b) Vigil's scheduled work for the same
   rows already ingested: compaction of the partial sketches, then drift + quality +
   performance (+ multivariate, label-free estimate) of every touched hour and day window.
   Prints both times, the ratio and both drifted-feature lists.
4. The drift API for 1 day and for 90 days (the day's sketch copied to 89 earlier days and
   weekly rollups built from them, as compaction writes them): median of 7 calls each,
   in-process test client.
Row building (JSON dicts) happens outside the clocks.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil")

NUMERIC, CATEGORICAL = 20, 5
CITIES = np.array(["paris", "rome", "oslo", "lima", "kyiv", "baku"], dtype=object)
P_REF = [0.3, 0.25, 0.2, 0.15, 0.08, 0.02]
P_SHIFT = [0.15, 0.2, 0.2, 0.2, 0.15, 0.1]
SHIFTED = ["x0", "x1", "c0"]
DAY = datetime(2026, 1, 5, tzinfo=UTC)
EVIDENTLY_VENV = ROOT / "bench" / ".venv-evidently"
OUT = ROOT / "bench" / "out"

EVIDENTLY_SCRIPT = r"""
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
import numpy as np
def frame(path):
    data = np.load(path, allow_pickle=True)
    return pd.DataFrame({k: data[k] for k in data.files})
ref = frame(sys.argv[1]); cur = frame(sys.argv[2])
t = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)
seconds = time.perf_counter() - t
drifted = []
for metric in snapshot.dict()["metrics"]:
    name = metric.get("metric_name", "")
    if name.startswith("ValueDrift(column="):
        column = name[len("ValueDrift(column="):].split(",")[0].rstrip(")")
        value = metric["value"]
        threshold = metric.get("config", {}).get("threshold")
        method = metric.get("config", {}).get("method", "")
        is_p = "p_value" in method or "chi" in method or "K-S" in method or "Z-test" in method
        if threshold is not None and ((value < threshold) if is_p else (value >= threshold)):
            drifted.append(column)
print(json.dumps({"seconds": seconds, "drifted": sorted(drifted)}))
"""


def features_schema() -> list[dict]:
    return [{"name": f"x{j}", "type": "numeric"} for j in range(NUMERIC)] + [
        {"name": f"c{j}", "type": "categorical", "categories": list(CITIES[:5])} for j in range(CATEGORICAL)
    ]


def draw(n: int, rng: np.random.Generator, *, shifted: bool) -> dict:
    cols = {f"x{j}": rng.normal(0, 1, n) for j in range(NUMERIC)}
    cols.update({f"c{j}": rng.choice(CITIES, n, p=P_REF) for j in range(CATEGORICAL)})
    if shifted:
        cols["x0"] = rng.normal(0.5, 1, n)
        cols["x1"] = rng.normal(0, 1.5, n)
        cols["c0"] = rng.choice(CITIES, n, p=P_SHIFT)
    logit = cols["x2"] + 0.5 * cols["x3"] - 0.5
    cols["score"] = 1 / (1 + np.exp(-logit))
    cols["label"] = (rng.random(n) < cols["score"]).astype(int)
    return cols


def rows_of(cols: dict, lo: int, hi: int, run: str) -> list[dict]:
    names = [f"x{j}" for j in range(NUMERIC)] + [f"c{j}" for j in range(CATEGORICAL)]
    numbers = {k: np.round(cols[k][lo:hi], 4).tolist() for k in names if k.startswith("x")}
    cats = {k: cols[k][lo:hi].tolist() for k in names if k.startswith("c")}
    scores = cols["score"][lo:hi].tolist()
    n_total = len(cols["score"])
    out = []
    for i in range(hi - lo):
        idx = lo + i
        t = DAY + timedelta(seconds=86400 * idx / n_total)
        features = {k: v[i] for k, v in numbers.items()}
        features.update({k: v[i] for k, v in cats.items()})
        out.append({"request_id": f"{run}-{idx}", "version": "v1", "timestamp": t.isoformat(),
                    "features": features, "score": scores[i]})
    return out


def make_model(slug: str):
    from monitoring.models import MLModel, ModelVersion

    model = MLModel.objects.create(slug=slug, name=slug, task="binary_classification")
    version = ModelVersion.objects.create(model=model, version="v1", stage="production", threshold=0.5,
                                          features=features_schema())
    return model, version


def drop_model(model) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for table in ("monitoring_prediction", "monitoring_label"):
            cur.execute(f"DELETE FROM {table} WHERE model_id = %s", [model.pk])
    model.delete()


def run_evidently(ref_cols: dict, cur_cols: dict) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    names = [f"x{j}" for j in range(NUMERIC)] + [f"c{j}" for j in range(CATEGORICAL)]
    np.savez(OUT / "ref.npz", **{k: ref_cols[k] for k in names})
    np.savez(OUT / "cur.npz", **{k: cur_cols[k] for k in names})
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        uv = ROOT / ".venv" / "bin" / "uv"
        subprocess.run([str(uv), "venv", "-q", "--python", "3.11", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(uv), "pip", "install", "-q", "--python", str(python), "-r",
                        str(ROOT / "bench" / "requirements-evidently.txt")], check=True)
    (OUT / "evidently_run.py").write_text(EVIDENTLY_SCRIPT)
    proc = subprocess.run([str(python), str(OUT / "evidently_run.py"), str(OUT / "ref.npz"),
                           str(OUT / "cur.npz")], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"Evidently failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rebuild_weeks(version) -> None:
    """Weekly rollups of the copied days, as compaction would have written them (setup, untimed)."""
    from collections import defaultdict

    from django.utils import timezone

    from monitoring.engine.sketch_codec import Sketch
    from monitoring.models import WindowSketch
    from monitoring.services.compaction import week_start

    WindowSketch.objects.filter(version=version, granularity="week").delete()
    weeks: dict = defaultdict(Sketch)
    for day in WindowSketch.objects.filter(version=version, granularity="day", segment=""):
        weeks[week_start(day.window_start)].merge(Sketch.from_bytes(day.data))
    WindowSketch.objects.bulk_create(
        WindowSketch(version=version, granularity="week", window_start=start, segment="", data=sketch.to_bytes(),
                     changed_at=timezone.now())
        for start, sketch in weeks.items()
    )


def api_latency(slug: str, version, days: int) -> float:
    from django.db import connection
    from django.test import Client

    from core.services.tokens import api_token_create

    token, key = api_token_create(name=f"bench-{uuid.uuid4().hex[:8]}", scopes=["read"])
    if days > 1:  # copy the day's sketches to earlier days: the read then merges 90 rollups
        with connection.cursor() as cur:
            cur.execute(
                """INSERT INTO monitoring_window_sketch (version_id, granularity, window_start, segment, binned, data, changed_at)
                   SELECT version_id, granularity, window_start - make_interval(days => d), segment, binned, data, changed_at
                     FROM monitoring_window_sketch, generate_series(1, %s) AS d
                    WHERE version_id = %s AND granularity = 'day'
                   ON CONFLICT DO NOTHING""", [days - 1, version.pk])
        rebuild_weeks(version)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    start = DAY - timedelta(days=days - 1)
    params = {"start": start.isoformat(), "end": (DAY + timedelta(days=1)).isoformat()}
    times = []
    for _ in range(7):
        t = time.perf_counter()
        res = client.get(f"/api/v1/models/{slug}/drift/", params)
        times.append(time.perf_counter() - t)
        assert res.status_code == 200, res.content[:300]
    token.delete()
    return float(np.median(times)), res.json()["window"]["rows"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ref-rows", type=int, default=100_000)
    parser.add_argument("--throughput-rows", type=int, default=200_000)
    parser.add_argument("--labels", type=int, default=100_000, help="labels sent for the first N rows")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from monitoring.services.analysis import version_analyse
    from monitoring.services.compaction import sketches_compact_all
    from monitoring.services.labels import labels_ingest
    from monitoring.services.profile import profile_build
    from monitoring.services.reference import reference_store

    rng = np.random.default_rng(7)
    ref = draw(args.ref_rows, rng, shifted=False)
    cur = draw(args.rows, rng, shifted=True)
    run = uuid.uuid4().hex[:6]
    print(f"reference {args.ref_rows} rows, current {args.rows} rows, {NUMERIC} numeric + {CATEGORICAL} "
          f"categorical features, shifted: {SHIFTED}")

    # Ingestion throughput: the same batches go to a model without sketching and to one with
    # it, alternately, so both see the same machine load (the machine is shared and noisy).
    n_t = min(args.throughput_rows, args.rows)
    plain, _ = make_model(f"bench-plain-{run}")
    model, version = make_model(f"bench-engine-{run}")
    ref_rows = [{"features": {**{f"x{j}": float(ref[f"x{j}"][i]) for j in range(NUMERIC)},
                              **{f"c{j}": str(ref[f"c{j}"][i]) for j in range(CATEGORICAL)}},
                 "score": float(ref["score"][i]), "label": int(ref["label"][i])} for i in range(args.ref_rows)]
    reference_store(version=version, rows=ref_rows)
    del ref_rows
    t = time.perf_counter()
    profile_build(version=version)
    profile_s = time.perf_counter() - t
    from monitoring.services import ingest as ingest_module

    real_fold = ingest_module.sketch_fold_predictions
    off = on_first = rest = 0.0
    for lo in range(0, args.rows, args.batch):
        rows = rows_of(cur, lo, min(lo + args.batch, args.rows), f"s{run}")
        if lo < n_t:
            ingest_module.sketch_fold_predictions = lambda **kwargs: None
            t = time.perf_counter()
            ingest_module.predictions_ingest(model=plain, rows=rows)
            off += time.perf_counter() - t
            ingest_module.sketch_fold_predictions = real_fold
        t = time.perf_counter()
        result = ingest_module.predictions_ingest(model=model, rows=rows)
        spent = time.perf_counter() - t
        assert result["accepted"] == len(rows), result["rejected"][:3]
        if lo < n_t:
            on_first += spent
        else:
            rest += spent
    drop_model(plain)
    n_labels = min(args.labels, args.rows)
    for lo in range(0, n_labels, args.batch):
        hi = min(lo + args.batch, n_labels)
        labels_ingest(model=model, rows=[{"request_id": f"s{run}-{i}", "label": int(cur["label"][i]),
                                          "timestamp": (DAY + timedelta(days=2)).isoformat()} for i in range(lo, hi)])
    print(f"\nreference profile build ({args.ref_rows} rows, once per version): {profile_s:.2f} s")
    print(f"ingest without sketching: {n_t / off:,.0f} rows/s ({n_t} rows)")
    print(f"ingest with sketching:    {n_t / on_first:,.0f} rows/s ({n_t} rows); "
          f"all {args.rows} rows {args.rows / (on_first + rest):,.0f} rows/s")
    print(f"sketching overhead at ingest: {(on_first / off - 1) * 100:.1f}% (target < 25%)")

    # (b) Vigil's scheduled work on the ingested rows.
    t = time.perf_counter()
    partials = sketches_compact_all()
    t_compact = time.perf_counter() - t
    windows = version_analyse(version_id=version.pk)
    vigil_s = time.perf_counter() - t
    from monitoring.models import AnalysisResult

    day = AnalysisResult.objects.get(version=version, granularity="day", window_start=DAY)
    vigil_drifted = sorted(day.payload["drift"]["drifted_features"])
    print(f"\n(b) Vigil scheduled compaction ({partials} partials, {t_compact:.2f} s) + analyses of "
          f"{windows} windows: {vigil_s:.2f} s")
    print(f"    drifted (day window): {vigil_drifted}")
    from monitoring.engine.sketch_codec import Sketch
    from monitoring.engine.window import window_analyse
    from monitoring.models import WindowSketch
    from monitoring.selectors.profile import profile_load

    t = time.perf_counter()
    profile = profile_load(version=version)
    sketch = Sketch.from_bytes(WindowSketch.objects.get(version=version, granularity="day", segment="").data)
    window_analyse(model_settings=version.model.settings, profile=profile, sketch=sketch, previous=None,
                   volume_history=[],
                   first_window=True, binned=True)
    one_window = time.perf_counter() - t
    print(f"(b1) the one day window holding all rows (the same comparison as Evidently's report): {one_window:.3f} s")
    perf = day.payload["performance"]
    print(f"    day: rows {perf['rows']}, labelled {perf['labelled']}, roc_auc {perf['metrics'].get('roc_auc'):.4f}, "
          f"estimated roc_auc {perf['estimated']['roc_auc']:.4f}")

    if not args.skip_evidently:
        ev = run_evidently(ref, cur)
        print(f"(a) Evidently DataDriftPreset: {ev['seconds']:.2f} s")
        print(f"    drifted: {ev['drifted']}")
        print(f"ratio (a)/(b): {ev['seconds'] / vigil_s:.1f}x (target >= 50x); (a)/(b1): "
              f"{ev['seconds'] / one_window:.0f}x; same drifted features: {ev['drifted'] == vigil_drifted}")

    one, rows1 = api_latency(model.slug, version, 1)
    ninety, rows90 = api_latency(model.slug, version, 90)
    print(f"\ndrift API, 1 day ({rows1} rows): {one * 1000:.1f} ms; 90 days ({rows90} rows): {ninety * 1000:.1f} ms "
          f"(target < 100 ms both)")
    drop_model(model)


if __name__ == "__main__":
    main()
