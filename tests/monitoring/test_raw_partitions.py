"""The partitioned raw table: week partitions ahead (idempotent, concurrent), the DEFAULT
partition's stragglers, idempotency per partition, and the migration that moves existing rows."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from monitoring.models import Prediction
from monitoring.services.compaction import week_start
from monitoring.services.partitions import (
    DEFAULT,
    default_weeks,
    partition_drop,
    partition_ensure,
    partition_name,
    partitions_ensure_ahead,
    partitions_list,
    partitions_split_default,
)
from tests.threads import run_threads

from .ingest_factories import binary_model, post_json, row, rows

FAR = datetime(2031, 6, 4, 15, tzinfo=UTC)  # a Wednesday, weeks no other test creates
URL = "/api/v1/models/loan-default/predictions/"


def tables_of(ids: list[int]) -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT tableoid::regclass::text FROM monitoring_prediction WHERE id = ANY(%s)", [ids])
        return {row[0] for row in cur.fetchall()}


def unique_index_of(table: str) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE 'CREATE UNIQUE%%'", [table])
        return " ".join(row[0] for row in cur.fetchall())


@pytest.mark.django_db
def test_partitions_ahead_are_created_once_with_the_idempotency_key():
    created = partitions_ensure_ahead(now=FAR, weeks=3)
    monday = datetime(2031, 6, 2, tzinfo=UTC)
    assert created == [partition_name(monday + timedelta(weeks=k)) for k in range(4)]
    assert partitions_ensure_ahead(now=FAR, weeks=3) == []  # a second beat: nothing to do
    listed = {p["name"]: p for p in partitions_list()}
    for k, name in enumerate(created):
        assert (listed[name]["start"], listed[name]["end"]) == (monday + timedelta(weeks=k),
                                                                monday + timedelta(weeks=k + 1))
        assert "(model_id, version_id, request_id) INCLUDE (\"timestamp\", score, decision_code)" in unique_index_of(name)
    assert "(model_id, version_id, request_id)" in unique_index_of(DEFAULT)


@pytest.mark.django_db(transaction=True)
def test_two_beats_creating_the_same_partitions_at_once_create_each_once():
    try:
        first, second = run_threads(lambda: partitions_ensure_ahead(now=FAR + timedelta(weeks=20), weeks=4),
                                    lambda: partitions_ensure_ahead(now=FAR + timedelta(weeks=20), weeks=4))
        assert len(first) + len(second) == 5 and not set(first) & set(second)
        names = {p["name"] for p in partitions_list()}
        assert set(first) | set(second) <= names
    finally:
        with connection.cursor() as cur:
            for part in partitions_list():
                if part["start"] >= FAR:
                    cur.execute(f'DROP TABLE "{part["name"]}"')


@pytest.mark.django_db
def test_rows_of_a_week_without_partition_go_to_default_and_move_when_it_is_created(client_with):
    binary_model()
    client = client_with("ingest")
    when = "2024-06-03T10:00:00Z"  # no partition for that week: the DEFAULT partition catches it
    assert post_json(client, URL, rows(0, 20)).json()["accepted"] == 20
    ids = sorted(Prediction.objects.values_list("id", flat=True))
    assert tables_of(ids) == {DEFAULT}
    name = partition_ensure(start=datetime.fromisoformat(when))
    assert name == "monitoring_prediction_w20240603"
    assert tables_of(ids) == {name} and sorted(Prediction.objects.values_list("id", flat=True)) == ids
    assert partition_ensure(start=datetime.fromisoformat(when)) is None
    # The key holds in the new partition: a resend is a duplicate, new rows are stored.
    again = post_json(client, URL, rows(10, 30)).json()
    assert (again["accepted"], again["duplicates"]) == (10, 10)
    assert Prediction.objects.count() == 30


@pytest.mark.django_db
def test_a_retry_is_a_duplicate_within_its_week_and_the_edge_across_weeks(client_with):
    binary_model()
    client = client_with("ingest")
    partition_ensure(start=datetime(2024, 6, 3, tzinfo=UTC))
    partition_ensure(start=datetime(2024, 6, 10, tzinfo=UTC))
    assert post_json(client, URL, rows(0, 10)).json()["accepted"] == 10
    same_week = [dict(r, timestamp="2024-06-09T23:00:00Z") for r in rows(0, 10)]  # moved, same partition
    assert post_json(client, URL, same_week).json()["duplicates"] == 10
    # The documented edge: a resend whose timestamp moved to another week is stored there.
    next_week = post_json(client, URL, [dict(r, timestamp="2024-06-10T01:00:00Z") for r in rows(0, 2)]).json()
    assert next_week["accepted"] == 2
    assert Prediction.objects.filter(request_id="r-0").count() == 2


@pytest.mark.django_db
def test_the_beat_splits_past_weeks_out_of_default_a_bounded_share_per_run(client_with):
    model, _ = binary_model()
    client = client_with("ingest")
    now = datetime.now(UTC)
    this_week = week_start(now)
    weeks = [this_week - timedelta(weeks=k) for k in (5, 3, 2)]  # history a backfill sends
    for week in weeks:  # left by an earlier test that committed (the demo's seed splits its weeks)
        partition_drop(name=partition_name(week), still_droppable=lambda table: True)
    far_past = now - timedelta(days=model.raw_retention_days + 30)  # past retention: retention deletes it
    sent = [dict(r, timestamp=(weeks[i % 3] + timedelta(days=2, minutes=i)).isoformat()) for i, r in
            enumerate(rows(0, 30))]
    sent.append(dict(row(30), timestamp=far_past.isoformat()))
    assert post_json(client, URL, sent).json()["accepted"] == 31
    ids = sorted(Prediction.objects.values_list("id", flat=True))
    assert tables_of(ids) == {DEFAULT}
    assert default_weeks(since=now - timedelta(days=400), until=now + timedelta(days=400)) == sorted(
        [week_start(far_past), *weeks])

    # One row is the budget: the oldest week moves (a week is never split), the run stops there.
    assert partitions_split_default(max_rows=1) == [partition_name(weeks[0])]
    assert partitions_split_default() == [partition_name(weeks[1]), partition_name(weeks[2])]
    assert partitions_split_default() == []  # idempotent: nothing left in range
    for week in weeks:
        in_week = Prediction.objects.filter(timestamp__gte=week, timestamp__lt=week + timedelta(weeks=1))
        assert in_week.count() == 10 and tables_of(list(in_week.values_list("id", flat=True))) == {
            partition_name(week)}
    assert tables_of(list(Prediction.objects.filter(request_id="r-30").values_list("id", flat=True))) == {DEFAULT}
    assert sorted(Prediction.objects.values_list("id", flat=True)) == ids
    # The key still holds where the rows went: a resend of the backfill is all duplicates.
    again = post_json(client, URL, sent).json()
    assert (again["accepted"], again["duplicates"]) == (0, 31)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


INSERT = """
INSERT INTO monitoring_prediction (model_id, version_id, request_id, "timestamp", features, score, received_at)
VALUES (%s, %s, %s, %s, '{"income": 1}', 0.5, now()) RETURNING id
"""


@pytest.mark.django_db(transaction=True)
def test_migration_moves_existing_rows_with_their_ids_and_the_sequence_goes_on():
    model, version = binary_model()
    loader = MigrationExecutor(connection).loader
    (name,) = [n for app, n in loader.disk_migrations if app == "monitoring" and n.endswith("_prediction_partitioned")]
    before = [dep for dep in loader.get_migration("monitoring", name).dependencies if dep[0] == "monitoring"]
    latest = loader.graph.leaf_nodes()
    now = datetime.now(UTC)
    stamps = [now - timedelta(days=1), now - timedelta(days=9), now - timedelta(days=20), datetime(1999, 1, 1, tzinfo=UTC)]
    try:
        migrate(before)
        with connection.cursor() as cur:
            cur.execute("SELECT relkind FROM pg_class WHERE relname = 'monitoring_prediction'")
            assert cur.fetchone()[0] == "r"
            stored = {}
            for i, stamp in enumerate(stamps):
                cur.execute(INSERT, [model.pk, version.pk, f"m-{i}", stamp])
                stored[cur.fetchone()[0]] = stamp
    finally:
        migrate(latest)
    with connection.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE relname = 'monitoring_prediction'")
        assert cur.fetchone()[0] == "p"
        cur.execute('SELECT id, "timestamp", tableoid::regclass::text FROM monitoring_prediction ORDER BY id')
        moved = cur.fetchall()
    assert {row[0]: row[1] for row in moved} == stored
    where = {row[1]: row[2] for row in moved}
    assert where[stamps[3]] == DEFAULT  # older than the weeks the migration creates
    assert all(where[s].startswith("monitoring_prediction_w") for s in stamps[:3])
    # The id sequence carries on after the moved rows; the key still refuses a duplicate.
    with connection.cursor() as cur:
        cur.execute(INSERT, [model.pk, version.pk, "m-new", now])
        assert cur.fetchone()[0] > max(stored)
        cur.execute(INSERT.replace("RETURNING id", "ON CONFLICT DO NOTHING RETURNING id"),
                    [model.pk, version.pk, "m-0", stamps[0]])
        assert cur.fetchone() is None
