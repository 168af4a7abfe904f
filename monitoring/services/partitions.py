"""Weekly partitions of the raw prediction table: created ahead of time, detached and dropped by retention.

``monitoring_prediction`` is partitioned by RANGE on ``timestamp``, one partition per UTC week
(Monday 00:00, the weeks compaction and ``--rebuild`` already work in), plus a DEFAULT partition
that catches rows of weeks with no partition (a far-past straggler, a week not yet created) so
ingestion never fails on a missing partition. Why weekly, and why no pg_partman: see
docs/architecture.md "Raw storage and retention".

Every partition, the default included, carries its own unique index on (model_id, version_id,
request_id): PostgreSQL only allows a unique index on the parent when it contains the partition
key, so the idempotency key is enforced per partition (the guarantee and its edge are in
docs/architecture.md). Indexes declared on the parent are added to each partition by PostgreSQL.

All DDL here runs under one advisory lock per table (core.locks.RAW_PARTITIONS), so two beats,
a migration and a command never race on the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from core.locks import LockSpace, advisory_lock
from monitoring.services.compaction import week_start

PARENT = "monitoring_prediction"
DEFAULT = f"{PARENT}_default"
WEEK = timedelta(days=7)
MONDAY = datetime(2001, 1, 1, tzinfo=UTC)  # origin of date_bin's 7-day bins: UTC weeks from Monday
# The per-partition idempotency key. It covers time, score and the numeric decision, so the
# pairing of two versions (monitoring.selectors.pairs) stays a merge of index-only scans.
UNIQUE_INDEX = ('CREATE UNIQUE INDEX IF NOT EXISTS "{table}_request" ON "{table}" (model_id, version_id, request_id) '
                'INCLUDE ("timestamp", score, decision_code)')
# Catalog DDL waits at most this long for a lock: queued behind a long read, it would otherwise
# hold up every query of the table behind it. The beat tries again on its next run.
DDL_LOCK_TIMEOUT = "5s"
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def partition_name(start: datetime) -> str:
    """The table name of the partition for the UTC week starting at ``start`` (a Monday)."""
    return f"{PARENT}_w{start:%Y%m%d}"


def is_partitioned() -> bool:
    """Whether the raw table is partitioned (false only between migrations, e.g. rolled back to 0014)."""
    with connection.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
        row = cur.fetchone()
    return row is not None and row[0] == "p"


def partitions_list() -> list[dict]:
    """The week partitions, oldest first: ``[{"name", "start", "end", "bytes"}]`` (bounds as
    aware UTC datetimes, ``bytes`` the table with its indexes). The DEFAULT partition is not listed."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), pg_total_relation_size(c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [PARENT],
        )
        rows = cur.fetchall()
    out = []
    for name, bound, size in rows:
        match = _BOUND.search(bound or "")
        if match is None:  # the DEFAULT partition
            continue
        start, end = (_parse(text) for text in match.groups())
        out.append({"name": name, "start": start, "end": end, "bytes": int(size)})
    out.sort(key=lambda p: p["start"])
    return out


def _parse(text: str) -> datetime:
    # pg_get_expr prints the bound in the session's time zone (UTC for Django), e.g. "+00".
    if re.search(r"[+-]\d\d$", text):
        text += ":00"
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def partitions_ensure_ahead(*, now: datetime | None = None, weeks: int | None = None) -> list[str]:
    """Create the partitions of the current week and of the ``weeks`` after it (default
    VIGIL_PARTITION_WEEKS_AHEAD) that do not exist yet; returns the names created. Idempotent."""
    if not is_partitioned():
        return []
    now = now or datetime.now(UTC)
    ahead = settings.VIGIL_PARTITION_WEEKS_AHEAD if weeks is None else weeks
    first = week_start(now)
    return [name for k in range(ahead + 1) if (name := partition_ensure(start=first + k * WEEK))]


def default_weeks(*, since: datetime, until: datetime) -> list[datetime]:
    """The UTC weeks (Monday starts, oldest first) from ``since`` to before ``until`` for which
    the DEFAULT partition holds rows. A skip scan of its (version_id, timestamp) index: one
    probe per version and week held, never a read of the rows, so a nearly empty default
    costs a few probes per beat."""
    with connection.cursor() as cur:
        cur.execute(f"""
            WITH RECURSIVE v AS (
                (SELECT version_id FROM "{DEFAULT}" ORDER BY version_id LIMIT 1)
                UNION ALL
                SELECT (SELECT version_id FROM "{DEFAULT}" WHERE version_id > v.version_id
                        ORDER BY version_id LIMIT 1) FROM v WHERE v.version_id IS NOT NULL),
            w AS (
                SELECT v.version_id, (SELECT date_bin('7 days', min(d."timestamp"), %(origin)s) FROM "{DEFAULT}" d
                                      WHERE d.version_id = v.version_id AND d."timestamp" >= %(since)s
                                        AND d."timestamp" < %(until)s) AS week
                  FROM v WHERE v.version_id IS NOT NULL
                UNION ALL
                SELECT w.version_id, (SELECT date_bin('7 days', min(d."timestamp"), %(origin)s) FROM "{DEFAULT}" d
                                      WHERE d.version_id = w.version_id AND d."timestamp" >= w.week + interval '7 days'
                                        AND d."timestamp" < %(until)s)
                  FROM w WHERE w.week IS NOT NULL)
            SELECT DISTINCT week FROM w WHERE week IS NOT NULL ORDER BY week""",
            {"origin": MONDAY, "since": week_start(since), "until": until})
        return [row[0].astimezone(UTC) for row in cur.fetchall()]


def partitions_split_default(*, now: datetime | None = None, max_rows: int | None = None) -> list[str]:
    """Give every week the DEFAULT partition holds rows of its own partition, moving the rows
    (a backfill, the demo's history, rows that arrived before their week was created).
    Returns the partitions created.

    Only weeks that matter: from the oldest week any model still keeps (older rows are
    retention's to delete) to the last week created ahead (a far-future timestamp stays in the
    default until its week comes near). Oldest first, and the run stops once ``max_rows``
    (default VIGIL_PARTITION_SPLIT_ROWS) rows have moved: each week's move holds the default's
    lock while its rows are copied, so one beat run never holds it for long; the next run goes
    on. A week is moved whole, however many rows it holds (a partition cannot be half attached).
    """
    if not is_partitioned():
        return []
    from monitoring.models import MLModel

    now = now or datetime.now(UTC)
    budget = settings.VIGIL_PARTITION_SPLIT_ROWS if max_rows is None else max_rows
    longest = MLModel.objects.order_by("-raw_retention_days").values_list("raw_retention_days", flat=True).first()
    if longest is None:
        return []
    until = week_start(now) + (settings.VIGIL_PARTITION_WEEKS_AHEAD + 1) * WEEK
    created, moved = [], 0
    for start in default_weeks(since=now - timedelta(days=longest), until=until):
        name, rows = _partition_create(start=start)
        if name:
            created.append(name)
        moved += rows
        if moved >= budget:
            break
    return created


def partition_ensure(*, start: datetime) -> str | None:
    """Create the partition of the UTC week holding ``start`` unless it exists; returns its
    name when created here, None when it already existed.

    Rows the DEFAULT partition caught for that week move into the new partition in the same
    transaction: PostgreSQL refuses to attach a range for which the default holds rows.
    The partition is built apart and then attached, which takes only a SHARE UPDATE
    EXCLUSIVE lock on the parent: ingestion into other weeks goes on meanwhile.
    """
    return _partition_create(start=start)[0]


def _partition_create(*, start: datetime) -> tuple[str | None, int]:
    # partition_ensure, also returning the rows moved out of the default.
    start = week_start(start)
    end = start + WEEK
    name = partition_name(start)
    with transaction.atomic(), connection.cursor() as cur:
        advisory_lock(LockSpace.RAW_PARTITIONS, PARENT)
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cur.fetchone()[0]:
            return None, 0
        cur.execute("SET LOCAL lock_timeout = %s", [DDL_LOCK_TIMEOUT])
        cur.execute(f'CREATE TABLE "{name}" (LIKE "{PARENT}" INCLUDING DEFAULTS)')
        # The constraint proves the new table's rows fit the range, so ATTACH skips scanning it.
        cur.execute(f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_range" '
                    'CHECK ("timestamp" IS NOT NULL AND "timestamp" >= %s AND "timestamp" < %s)', [start, end])
        cur.execute(UNIQUE_INDEX.format(table=name))
        # Locked before the move, so no row for that week can enter the default between the
        # move and the attach (ATTACH takes this lock anyway, to check the default).
        cur.execute(f'LOCK TABLE "{DEFAULT}" IN ACCESS EXCLUSIVE MODE')
        cur.execute(f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE "timestamp" >= %s AND "timestamp" < %s '
                    f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved', [start, end])
        moved = cur.rowcount
        cur.execute(f'ALTER TABLE "{PARENT}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)', [start, end])
        cur.execute(f'ALTER TABLE "{name}" DROP CONSTRAINT "{name}_range"')
    return name, moved


def partition_drop(*, name: str, still_droppable: Callable[[str], bool]) -> bool:
    """DETACH and DROP one week partition (all its rows go at once, no row-by-row DELETE) if
    ``still_droppable(name)`` says so once the partition is locked: a late row that arrived
    after the caller decided (another model's straggler) is seen then, and the partition kept.
    Returns whether it was dropped; a partition already gone is not an error (two runs)."""
    with transaction.atomic(), connection.cursor() as cur:
        advisory_lock(LockSpace.RAW_PARTITIONS, PARENT)
        cur.execute(
            "SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)", [PARENT, name]
        )
        if cur.fetchone() is None:
            return False
        cur.execute("SET LOCAL lock_timeout = %s", [DDL_LOCK_TIMEOUT])
        cur.execute(f'LOCK TABLE "{name}" IN ACCESS EXCLUSIVE MODE')
        if not still_droppable(name):
            return False
        cur.execute(f'ALTER TABLE "{PARENT}" DETACH PARTITION "{name}"')
        cur.execute(f'DROP TABLE "{name}"')
    return True


def partition_model_ids(*, table: str) -> list[int]:
    """The models having rows in one partition: a skip scan of its unique index (one index
    probe per model, however many rows), so retention can judge a week of tens of millions."""
    with connection.cursor() as cur:
        cur.execute(f"""
            WITH RECURSIVE m AS (
                (SELECT model_id FROM "{table}" ORDER BY model_id LIMIT 1)
                UNION ALL
                SELECT (SELECT model_id FROM "{table}" WHERE model_id > m.model_id ORDER BY model_id LIMIT 1)
                  FROM m WHERE m.model_id IS NOT NULL)
            SELECT model_id FROM m WHERE model_id IS NOT NULL""")
        return [row[0] for row in cur.fetchall()]
