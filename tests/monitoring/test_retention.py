"""Retention of raw rows: expired week partitions dropped whole, the per-model fallback, the dry
run, and every aggregate still answering for the range afterwards while pages say what is gone."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import numpy as np
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from core.roles import DATA_SCIENTISTS
from monitoring.models import MLModel, Prediction, WindowSketch
from monitoring.services.analysis import version_analyse
from monitoring.services.partitions import partition_ensure, partition_name, partitions_list
from monitoring.services.retention import retention_apply

from .engine_factories import (
    T0,
    batch,
    draw,
    labelled_shift_version,
    make_version,
    store_predictions,
)

pytestmark = pytest.mark.django_db
WEEK_END = T0 + timedelta(days=7)
NOW = T0 + timedelta(days=120)  # T0's week is past the default 90 days


@pytest.fixture
def monitored():
    """Two days of labelled predictions in T0's week partition, compacted and analysed."""
    partition_ensure(start=T0)
    version = labelled_shift_version()
    assert version_analyse(version_id=version.pk) == 50
    return version


def aggregate_answers(client) -> dict:
    q = {"start": T0.isoformat(), "end": (T0 + timedelta(days=2)).isoformat()}
    answers = {
        "drift": client.get("/api/v1/models/loan/drift/", q),
        "performance": client.get("/api/v1/models/loan/performance/", q),
        "timeseries": client.get("/api/v1/models/loan/timeseries/", {**q, "granularity": "hour", "metric": "volume"}),
        "psi": client.get("/api/v1/models/loan/timeseries/", {**q, "granularity": "day", "metric": "psi",
                                                             "feature": "income"}),
        "health": client.get("/api/v1/models/loan/health/"),
    }
    assert all(r.status_code == 200 for r in answers.values()), {k: r.status_code for k, r in answers.items()}
    return {k: r.json() for k, r in answers.items()}


def test_dry_run_changes_nothing_and_says_what_would_go(monitored):
    out = StringIO()
    steps = retention_apply(now=NOW, dry_run=True)
    assert [(s.kind, s.table, s.rows) for s in steps] == [("drop", partition_name(T0), 1200)]
    assert Prediction.objects.count() == 1200 and partition_name(T0) in {p["name"] for p in partitions_list()}
    assert MLModel.objects.get().raw_purged_before is None
    call_command("apply_retention", "--dry-run", stdout=out)  # the command, at the real now
    text = out.getvalue()
    assert f"would drop {partition_name(T0)} [2026-03-02, 2026-03-09): 1,200 rows" in text
    assert "would remove: 1 partition(s)" in text and Prediction.objects.count() == 1200


def test_an_expired_partition_is_dropped_and_every_aggregate_still_answers(monitored, client_with, client):
    read = client_with("read")
    before = aggregate_answers(read)
    assert before["drift"]["window"]["rows"] == 1200
    windows = WindowSketch.objects.filter(version=monitored).count()

    steps = retention_apply(now=NOW)
    assert [(s.kind, s.done) for s in steps] == [("drop", True)]
    assert Prediction.objects.count() == 0
    assert partition_name(T0) not in {p["name"] for p in partitions_list()}
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [partition_name(T0)])
        assert cur.fetchone()[0] is None  # dropped, not only detached
    model = MLModel.objects.get()
    assert model.raw_purged_before == WEEK_END
    assert retention_apply(now=NOW) == []  # idempotent

    # Sketches and results are other tables: the drift, performance, timeseries and health reads are unchanged.
    assert WindowSketch.objects.filter(version=monitored).count() == windows
    assert aggregate_answers(read) == before

    # Pages and lookups say what is gone.
    user = User.objects.create_user("sci", password="pw")
    user.groups.add(Group.objects.get(name=DATA_SCIENTISTS))
    client.force_login(user)
    page = client.get(reverse("monitoring:model", args=["loan"])).content.decode()
    assert "Raw rows kept 90 days; available from 2026-03-09 00:00 UTC" in page
    search = client.get(reverse("monitoring:search"), {"q": "r-1"}).content.decode()
    assert "were removed by retention (kept 90 days)" in search
    gone = client.get(reverse("monitoring:prediction", args=["loan", "r-1"]))
    assert gone.status_code == 404
    explanation = read.get("/api/v1/models/loan/predictions/r-1/explanation/")
    assert explanation.status_code == 404 and "removed by retention" in explanation.json()["detail"]


def test_rebuild_refuses_a_range_past_retention_and_keeps_its_windows(monitored):
    retention_apply(now=NOW)
    windows = WindowSketch.objects.filter(version=monitored).count()
    with pytest.raises(CommandError, match="removed by retention"):
        call_command("compute_metrics", "--model", "loan", "--rebuild", "--since", "2026-03-02", verbosity=0)
    err = StringIO()
    call_command("compute_metrics", "--model", "loan", "--rebuild", verbosity=0, stderr=err)
    assert "rebuilding from 2026-03-09 only" in err.getvalue()
    assert WindowSketch.objects.filter(version=monitored).count() == windows  # nothing emptied


def test_a_model_keeping_rows_longer_keeps_the_partition_and_the_other_is_deleted_row_by_batch(monitored):
    keeper = make_version(slug="keeper")
    keeper.model.raw_retention_days = 365
    keeper.model.save()
    store_predictions(keeper, batch(draw(50, np.random.default_rng(3)), start=T0 + timedelta(days=3)), fold=False)

    plan = retention_apply(now=NOW, dry_run=True)
    assert [(s.kind, s.table, s.rows, s.model_ids) for s in plan] == [
        ("delete", partition_name(T0), 1200, [monitored.model_id])]
    retention_apply(now=NOW)
    assert Prediction.objects.filter(model=monitored.model).count() == 0
    assert Prediction.objects.filter(model=keeper.model).count() == 50
    assert partition_name(T0) in {p["name"] for p in partitions_list()}
    assert MLModel.objects.get(slug="loan").raw_purged_before == WEEK_END
    assert MLModel.objects.get(slug="keeper").raw_purged_before is None
    # A year later the keeper's rows expire too, and the now empty-of-loan partition goes whole.
    later = retention_apply(now=T0 + timedelta(days=400))
    assert [(s.kind, s.rows) for s in later if s.table == partition_name(T0)] == [("drop", 50)]
    assert Prediction.objects.count() == 0


def test_stragglers_in_the_default_partition_are_deleted_past_retention(monitored):
    old = make_version(slug="old")
    long_ago = datetime(2025, 1, 6, tzinfo=UTC)
    store_predictions(old, batch(draw(30, np.random.default_rng(4)), start=long_ago), fold=False)
    steps = retention_apply(now=NOW, model=old.model)
    assert [(s.kind, s.table, s.rows) for s in steps] == [("delete", "monitoring_prediction_default", 30)]
    assert Prediction.objects.filter(model=old.model).count() == 0
    assert Prediction.objects.filter(model=monitored.model).count() == 1200  # --model touches no other model


def test_the_model_api_shows_retention_and_creation_sets_it(monitored, client_with):
    admin = client_with("admin", "read")
    created = admin.post("/api/v1/models/", {"slug": "short", "name": "Short", "task": "regression",
                                             "raw_retention_days": 7}, format="json")
    assert created.status_code == 201 and created.json()["raw_retention_days"] == 7
    wrong = admin.post("/api/v1/models/", {"slug": "bad", "name": "Bad", "task": "regression",
                                           "raw_retention_days": "7"}, format="json")
    assert wrong.status_code == 400 and "raw_retention_days" in wrong.json()["errors"]
    retention_apply(now=NOW)
    body = admin.get("/api/v1/models/loan/").json()
    assert (body["raw_retention_days"], body["raw_available_from"]) == (90, "2026-03-09T00:00:00Z")


def test_a_review_cannot_sample_a_range_whose_decisions_were_removed(monitored):
    from django.core.exceptions import ValidationError

    from ops.services.review import batch_create

    retention_apply(now=NOW)
    with pytest.raises(ValidationError) as raised:
        batch_create(model=monitored.model, start=T0, end=T0 + timedelta(days=2), size=10)
    assert "removed by retention" in str(raised.value.message_dict["start"])


def test_a_week_only_partly_past_retention_waits_to_go_whole(monitored):
    MLModel.objects.filter(pk=monitored.model_id).update(raw_retention_days=117)  # cutoff: T0 + 3 days
    assert retention_apply(now=NOW) == []
    assert Prediction.objects.count() == 1200
    later = retention_apply(now=NOW + timedelta(days=4))  # the whole week has expired
    assert [(s.kind, s.rows) for s in later] == [("drop", 1200)]
