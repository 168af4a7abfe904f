"""Alerts: latency from a drifted batch to the FIRING email, and the cost of evaluation.

    python -m config.embedded .venv/bin/python bench/alerts.py [--runs 3] [--models 100]

On real PostgreSQL and Redis (DATABASE_URL / CELERY_BROKER_URL; `config.embedded` starts both):
1. Latency: a real Celery worker and beat (the default schedule: compaction every
   VIGIL_COMPACT_SECONDS=60, sender every 10 s) and a real SMTP server (aiosmtpd). Each run
   creates a model with a reference, posts two closed hours of drifted rows, and waits for the
   FIRING email; prints each latency, the median and the worst.
2. Evaluation cost, 100 models x 25 features, default rules: (a) ``--batch`` (11) real versions
   with 25 features: compaction + analysis of one new hour each (1,000 rows), then the alerts
   evaluation (the health conditions read included) of ten of them together, as the pipeline's
   task evaluates the chunk one analysis task analysed, and of the eleventh alone (as a task per
   version did), medians of 5 such cycles; (b) the state machine and outbox for 100 models x 25
   features on one new window of conditions. Seconds per cycle = 100 x (a's evaluation per
   version in the batch) and its share of 100 x (a's compaction + analysis per version).
   ``--history-days 8`` puts 8 days of hourly windows behind the measured ones, as in a steady
   state (the learned bands are drawn from them).
"""

import argparse
import os
import statistics
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

N_FEATURES = 25
CYCLES = 5  # new hours analysed and evaluated; the figures are their medians


def setup_django(smtp_port: int) -> None:
    os.environ["EMAIL_HOST"], os.environ["EMAIL_PORT"] = "127.0.0.1", str(smtp_port)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def features() -> list[dict]:
    return [{"name": f"x{i}", "type": "numeric"} for i in range(N_FEATURES)]


def make_version(slug: str, email: str):
    from django.contrib.auth.models import Group, User

    from core.roles import DATA_SCIENTISTS
    from monitoring.models import MLModel, ModelVersion, ReferenceRow
    from monitoring.services.profile import profile_build

    if not User.objects.filter(username="bench").exists():
        user = User.objects.create_user("bench", email, "x")
        user.groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
    model = MLModel.objects.create(slug=slug, name=slug, task="binary_classification")
    version = ModelVersion.objects.create(model=model, version="v1", stage="production", threshold=0.5,
                                          features=features())
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, N_FEATURES))
    score = 1 / (1 + np.exp(-x[:, 0]))
    ReferenceRow.objects.bulk_create(
        ReferenceRow(version=version, features={f"x{j}": float(x[i, j]) for j in range(N_FEATURES)},
                     score=float(score[i]), label=int(rng.random() < score[i]))
        for i in range(len(x))
    )
    profile_build(version=version)
    return version


def rows(start: datetime, n: int, hours: int, shift: float, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES))
    x[:, :3] += shift
    score = 1 / (1 + np.exp(-x[:, 0]))
    step = hours * 3600 / n
    return [{"request_id": f"r-{uuid.uuid4().hex[:12]}", "version": "v1",
             "timestamp": (start + timedelta(seconds=i * step)).isoformat(),
             "features": {f"x{j}": float(x[i, j]) for j in range(N_FEATURES)}, "score": float(score[i])}
            for i in range(n)]


def latency(runs: int, sink) -> list[float]:
    from monitoring.services.ingest import predictions_ingest

    env = {**os.environ}
    python = sys.executable
    children = [
        subprocess.Popen([python, "-m", "celery", "-A", "config", "worker", "-Q", "engine,explain,notify,maintenance",
                          "-P", "threads", "-c", "2", "--loglevel", "WARNING"], cwd=ROOT, env=env),
        subprocess.Popen([python, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING", "--pidfile", ""],
                         cwd=ROOT, env=env),
    ]
    out = []
    try:
        time.sleep(8)  # worker and beat up
        for run in range(runs):
            slug = f"bench-latency-{uuid.uuid4().hex[:6]}"
            version = make_version(slug, "bench@example.com")
            hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            batch = rows(hour - timedelta(hours=2), 1200, 2, 1.5, seed=run)
            seen = len(sink.messages)
            t0 = time.monotonic()
            predictions_ingest(model=version.model, rows=batch)
            deadline = t0 + 300
            while time.monotonic() < deadline:
                if any(slug in m for m in sink.messages[seen:]):
                    break
                time.sleep(0.2)
            else:
                print(f"run {run}: no FIRING email within 300 s", flush=True)
                continue
            out.append(time.monotonic() - t0)
            print(f"run {run}: FIRING email after {out[-1]:.1f} s", flush=True)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(20)
    return out


def evaluation_cost(n_models: int, history_days: int = 0, batch: int = 10) -> dict:
    from alerts.conditions import Condition
    from alerts.services.evaluate import alerts_evaluate, alerts_evaluate_many
    from monitoring.services.analysis import version_analyse
    from monitoring.services.compaction import sketches_compact_all
    from monitoring.services.ingest import predictions_ingest

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # ``batch`` real versions: the first is evaluated alone each cycle (as one version per task
    # was), the others together, as the pipeline evaluates the chunk one analysis task analysed.
    versions = [make_version(f"bench-cost-{uuid.uuid4().hex[:6]}", "bench@example.com") for _ in range(batch)]
    for v, version in enumerate(versions):
        predictions_ingest(model=version.model, rows=rows(hour - timedelta(hours=3 + CYCLES), 2000, 2, 0.0,
                                                          seed=7 + 1000 * v))
        if history_days:
            # A steady state: days of hourly windows behind the new ones (each judged window's learned
            # bands are drawn from 8 days of hours), 150 rows an hour so every hour is judged.
            older = hour - timedelta(hours=3 + CYCLES, days=history_days)
            for day in range(history_days):
                predictions_ingest(model=version.model, rows=rows(older + timedelta(days=day), 150 * 24, 24, 0.0,
                                                                  seed=100 + day + 1000 * v))
    sketches_compact_all()
    for version in versions:
        version_analyse(version_id=version.id)
    alerts_evaluate_many(version_ids=[v.id for v in versions])
    analyses, alone, together = [], [], []
    for k in range(CYCLES):
        # Cycles back to back (they run VIGIL_COMPACT_SECONDS apart in production): the evaluation
        # re-reads exactly the windows analysed since its last read, whatever the time between.
        for v, version in enumerate(versions):
            predictions_ingest(model=version.model, rows=rows(hour - timedelta(hours=CYCLES - k), 1000, 1, 0.0,
                                                              seed=8 + k + 1000 * v))
        t = time.perf_counter()
        sketches_compact_all()
        for version in versions:
            version_analyse(version_id=version.id)
        analyses.append((time.perf_counter() - t) / batch)
        t = time.perf_counter()
        alerts_evaluate(version_id=versions[0].id, after_analysis=True)  # as a task per version would
        alone.append(time.perf_counter() - t)
        t = time.perf_counter()
        alerts_evaluate_many(version_ids=[v.id for v in versions[1:]], after_analysis=True)  # the pipeline's task
        together.append((time.perf_counter() - t) / (batch - 1))
    analysis, evaluation = statistics.median(analyses), statistics.median(together)
    t = time.perf_counter()
    alerts_evaluate(version_id=versions[0].id)  # nothing analysed since: skipped after one query
    idle = time.perf_counter() - t

    # The state machine and outbox alone, 100 models x 25 features, one new window, a third drifting.
    from monitoring.models import MLModel, ModelVersion

    versions = []
    for _ in range(n_models):
        model = MLModel.objects.create(slug=f"bench-sm-{uuid.uuid4().hex[:6]}", name="bench", task="binary_classification")
        versions.append(ModelVersion.objects.create(model=model, version="v1", stage="production", features=features()))
    start = hour - timedelta(hours=1)

    def window(k: int, s: datetime) -> list[Condition]:
        out = [Condition(s, s + timedelta(hours=1), "drift", f"x{j}", 0.3 if j < 8 and k % 3 == 0 else 0.05,
                         0.0, 0.2, j < 8 and k % 3 == 0, True, 1000, "psi") for j in range(N_FEATURES)]
        out += [Condition(s, s + timedelta(hours=1), kind, "", 0.01, 0.0, 0.05, False, True, 1000, kind)
                for kind in ("quality", "volume", "prediction_drift", "estimated_performance")]
        return out

    for k, v in enumerate(versions):
        alerts_evaluate(version_id=v.id, now=start, conditions=window(k, start - timedelta(hours=1)))
    t = time.perf_counter()
    for k, v in enumerate(versions):
        alerts_evaluate(version_id=v.id, now=hour, conditions=window(k, start))
    state_machine = time.perf_counter() - t
    return {"analysis_one": analysis, "evaluation_one": evaluation, "evaluation_alone": statistics.median(alone),
            "state_machine_100": state_machine, "idle_one": idle}


def main() -> None:
    global CYCLES
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--cycles", type=int, default=CYCLES, help="cycles measured (their medians are shown)")
    parser.add_argument("--batch", type=int, default=11,
                        help="real versions: one evaluated alone, the rest together (the analysis chunk is 10)")
    parser.add_argument("--history-days", type=int, default=0,
                        help="days of hourly history behind the measured cycles (0: a few hours)")
    args = parser.parse_args()
    CYCLES = args.cycles
    sys.path.insert(0, str(ROOT / "tests" / "alerts"))
    from aiosmtpd.controller import Controller

    from tests.alerts.smtp import Sink, free_port

    class Subjects(Sink):
        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope.content.decode(errors="replace"))
            return "250 OK"

    sink = Subjects()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    setup_django(port)
    try:
        if not args.skip_latency:
            found = latency(args.runs, sink)
            if found:
                print(f"latency drifted batch -> FIRING email: median {statistics.median(found):.1f} s, "
                      f"worst {max(found):.1f} s over {len(found)} runs", flush=True)
        cost = evaluation_cost(args.models, args.history_days, args.batch)
        per_cycle = args.models * cost["evaluation_one"]
        analysis_cycle = args.models * cost["analysis_one"]
        print(f"25-feature versions: compaction+analysis of a new hour {cost['analysis_one']:.3f} s per version; "
              f"alerts evaluation (conditions read included) {cost['evaluation_one']:.4f} s per version in a batch of "
              f"{args.batch - 1} (the pipeline's task per analysis chunk), {cost['evaluation_alone']:.4f} s for a "
              f"version alone (medians of {CYCLES} cycles, {args.history_days} days of history); with nothing "
              f"analysed since the last evaluation {cost['idle_one']:.4f} s")
        print(f"{args.models} models x {N_FEATURES} features: evaluation {per_cycle:.2f} s per cycle, "
              f"{100 * per_cycle / analysis_cycle:.1f}% of the compaction+analysis cycle ({analysis_cycle:.1f} s) "
              f"[one version per evaluation: {100 * cost['evaluation_alone'] / cost['analysis_one']:.1f}%]; "
              f"state machine + outbox alone {cost['state_machine_100']:.2f} s")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
