"""``monitoring_prediction`` becomes a table partitioned by RANGE on ``timestamp``, one partition
per UTC week plus a DEFAULT partition (docs/architecture.md "Raw storage and retention").

Django's state does not change (SeparateDatabaseAndState): the model keeps ``id`` as its pk and
its declared unique key; in the database the primary key is (id, timestamp) and the key
(model_id, version_id, request_id) is a unique index on each partition, since PostgreSQL
allows a unique index on a partitioned parent only when it holds the partition key.

Existing rows move with their ids; the id sequence carries on from where it was. Week
partitions are created for the weeks holding rows within the last two years (older rows go
to the DEFAULT partition, where retention deletes them); the weeks ahead are created after
migrate by monitoring.services.partitions (post_migrate and the beat). The SQL is frozen
here rather than imported, so later changes to the manager cannot change this migration.
"""

from datetime import UTC, datetime, timedelta

from django.db import migrations

COLUMNS = ("id, request_id, \"timestamp\", features, score, prediction, entity_id, item_id, segment, received_at, "
           "model_id, version_id, served, decision_code, slate_id")
COLUMN_TYPES = """
    request_id varchar(200) NOT NULL,
    "timestamp" timestamptz NOT NULL,
    features jsonb NOT NULL,
    score double precision NOT NULL,
    prediction jsonb NULL,
    entity_id varchar(200) NULL,
    item_id varchar(200) NULL,
    segment varchar(100) NULL,
    received_at timestamptz NOT NULL,
    model_id bigint NOT NULL,
    version_id bigint NOT NULL,
    served boolean NOT NULL DEFAULT true,
    decision_code double precision NULL,
    slate_id varchar(200) NULL
"""
INDEXES = """
CREATE INDEX pred_version_ts ON monitoring_prediction (version_id, "timestamp");
CREATE INDEX pred_model_entity ON monitoring_prediction (model_id, entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX pred_model_item ON monitoring_prediction (model_id, item_id) WHERE item_id IS NOT NULL;
CREATE INDEX pred_model_slate ON monitoring_prediction (model_id, slate_id) WHERE slate_id IS NOT NULL;
"""
INDEX_NAMES = ("pred_version_ts", "pred_model_entity", "pred_model_item", "pred_model_slate")
UNIQUE_INDEX = ('CREATE UNIQUE INDEX "{table}_request" ON "{table}" (model_id, version_id, request_id) '
                'INCLUDE ("timestamp", score, decision_code)')
KEPT_WEEKS = 2 * 53


def _rename_aside(cursor, suffix: str, primary_key: str, unique: str | None) -> None:
    cursor.execute(f"ALTER TABLE monitoring_prediction RENAME TO monitoring_prediction_{suffix}")
    for index in (*INDEX_NAMES, primary_key, *([unique] if unique else [])):
        cursor.execute(f'ALTER INDEX "{index}" RENAME TO "{index}_{suffix}"')


def _sequence_state(cursor, table: str) -> tuple[int, bool]:
    cursor.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
    (sequence,) = cursor.fetchone()
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
    return cursor.fetchone()


def forward(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        last_value, is_called = _sequence_state(cursor, "monitoring_prediction")
        _rename_aside(cursor, "unpartitioned", "monitoring_prediction_pkey", "uniq_prediction_version_request")
        cursor.execute("ALTER SEQUENCE monitoring_prediction_id_seq RENAME TO monitoring_prediction_unpartitioned_id_seq")
        cursor.execute("CREATE SEQUENCE monitoring_prediction_id_seq AS bigint")
        cursor.execute("SELECT setval('monitoring_prediction_id_seq', %s, %s)", [last_value, is_called])
        cursor.execute(f"""
            CREATE TABLE monitoring_prediction (
                id bigint NOT NULL DEFAULT nextval('monitoring_prediction_id_seq'),
                {COLUMN_TYPES},
                CONSTRAINT monitoring_prediction_pkey PRIMARY KEY (id, "timestamp")
            ) PARTITION BY RANGE ("timestamp")""")
        cursor.execute("ALTER SEQUENCE monitoring_prediction_id_seq OWNED BY monitoring_prediction.id")
        cursor.execute(INDEXES)
        cursor.execute("CREATE TABLE monitoring_prediction_default PARTITION OF monitoring_prediction DEFAULT")
        cursor.execute(UNIQUE_INDEX.format(table="monitoring_prediction_default"))
        since = datetime.now(UTC) - timedelta(weeks=KEPT_WEEKS)
        cursor.execute("SELECT DISTINCT date_trunc('week', \"timestamp\" AT TIME ZONE 'UTC') "
                       "FROM monitoring_prediction_unpartitioned WHERE \"timestamp\" >= %s", [since])
        for (monday,) in cursor.fetchall():
            start = monday.replace(tzinfo=UTC)
            name = f"monitoring_prediction_w{start:%Y%m%d}"
            cursor.execute(f'CREATE TABLE "{name}" PARTITION OF monitoring_prediction FOR VALUES FROM (%s) TO (%s)',
                           [start, start + timedelta(days=7)])
            cursor.execute(UNIQUE_INDEX.format(table=name))
        cursor.execute(f"INSERT INTO monitoring_prediction ({COLUMNS}) "
                       f"SELECT {COLUMNS} FROM monitoring_prediction_unpartitioned")
        cursor.execute("DROP TABLE monitoring_prediction_unpartitioned")
        cursor.execute("ANALYZE monitoring_prediction")


def backward(apps, schema_editor) -> None:
    """Back to one plain table (the 0014 layout), rows and ids kept."""
    with schema_editor.connection.cursor() as cursor:
        last_value, is_called = _sequence_state(cursor, "monitoring_prediction")
        _rename_aside(cursor, "partitioned", "monitoring_prediction_pkey", None)
        cursor.execute("ALTER SEQUENCE monitoring_prediction_id_seq RENAME TO monitoring_prediction_partitioned_id_seq")
        cursor.execute(f"""
            CREATE TABLE monitoring_prediction (
                id bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY CONSTRAINT monitoring_prediction_pkey PRIMARY KEY,
                {COLUMN_TYPES})""")
        cursor.execute(INDEXES)
        cursor.execute(f"INSERT INTO monitoring_prediction ({COLUMNS}) "
                       f"SELECT {COLUMNS} FROM monitoring_prediction_partitioned")
        # An index, as Django created it in 0013 (whose reverse drops it with DROP INDEX).
        cursor.execute("CREATE UNIQUE INDEX uniq_prediction_version_request ON monitoring_prediction "
                       "(model_id, version_id, request_id) INCLUDE (\"timestamp\", score, decision_code)")
        cursor.execute("SELECT setval(pg_get_serial_sequence('monitoring_prediction', 'id'), %s, %s)",
                       [last_value, is_called])
        cursor.execute("DROP TABLE monitoring_prediction_partitioned")


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0014_prediction_slate_id"),
        # Their foreign keys to predictions must be gone before the old table is dropped.
        ("explain", "0003_explanation_prediction_no_db_constraint"),
        ("ops", "0006_correction_prediction_no_db_constraint"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[],
        ),
    ]
