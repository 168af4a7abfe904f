"""Bulk ingestion of predictions: validate column-wise, COPY, insert new rows once, fold sketches."""

import io
import time

import numpy as np
import orjson
import psycopg2.errors
from django.conf import settings
from django.db import connection, transaction

from monitoring.engine.batch import HOUR_NS, prediction_batch
from monitoring.engine.coding import numeric_codes
from monitoring.engine.validation import (
    Limits,
    RowErrors,
    check_feature_dicts,
    check_features,
    check_id,
    check_number,
    check_rows_are_objects,
    check_timestamps,
    quality_add,
    quality_bound,
)
from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Task
from monitoring.selectors.registry import model_classes, version_production, versions_by_label
from monitoring.services.sketching import sketch_count_duplicates, sketch_fold_predictions
from monitoring.services.slates import slates_fold


def input_limits() -> Limits:
    """The settings' caps on hostile input, for the pure validation."""
    return Limits(category_chars=settings.VIGIL_MAX_CATEGORY_CHARS, unknown_keys=settings.VIGIL_MAX_UNKNOWN_KEYS,
                  feature_key_chars=settings.VIGIL_MAX_FEATURE_KEY_CHARS)


# Escapes for PostgreSQL's COPY text format.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"

# The staging table lives as long as the connection; rows vanish at each commit. Created
# once per connection rather than per batch, so ingestion does not churn the catalog.
CREATE_TMP = """
CREATE TEMP TABLE IF NOT EXISTS vigil_prediction_in (
    request_id text, version_id bigint, "timestamp" timestamptz, features jsonb,
    score double precision, prediction jsonb, entity_id text, item_id text, segment text, served boolean,
    decision_code double precision, slate_id text
) ON COMMIT DELETE ROWS
"""
COPY_DIRECT = """
COPY monitoring_prediction (request_id, version_id, "timestamp", features, score, prediction, entity_id,
                            item_id, segment, served, decision_code, slate_id, model_id, received_at) FROM STDIN
"""
# ORDER BY the unique key: concurrent batches take the unique-index locks in the same order,
# so two overlapping batches wait for each other instead of deadlocking. No conflict target:
# the key (model_id, version_id, request_id) is a unique index on each weekly partition (the
# parent cannot have one without the timestamp), and ON CONFLICT DO NOTHING without a target
# uses the unique indexes of the partition each row is routed to. So a (version, request_id)
# is a duplicate when it lands in the same week as the stored row (a client resending the
# same row); docs/architecture.md "Raw storage and retention" states the edge.
INSERT_NEW = """
INSERT INTO monitoring_prediction (model_id, version_id, request_id, "timestamp", features, score,
                                   prediction, entity_id, item_id, segment, served, decision_code, slate_id, received_at)
SELECT %s, version_id, request_id, "timestamp", features, score, prediction, entity_id, item_id,
       segment, served, decision_code, slate_id, %s
FROM vigil_prediction_in ORDER BY version_id, request_id
ON CONFLICT DO NOTHING
RETURNING request_id, version_id
"""


# psycopg2 ends a COPY with PQputCopyEnd() without releasing the GIL (psycopg/pqpath.c), and
# that call blocks while PostgreSQL is not reading, e.g. while the COPY waits on a row that
# another transaction has not committed. If that transaction belongs to another thread of
# this process (two overlapping batches in a threaded worker), the thread can never run
# again to commit: every thread freezes, and PostgreSQL sees no deadlock. Measured: for
# some batch sizes (about one in thirty), the other thread stayed frozen until the COPY's
# lock wait timed out. So the direct COPY waits on locks this long at most, then takes the
# staging path, whose INSERT waits with the GIL released.
COPY_LOCK_TIMEOUT = "50ms"


def predictions_ingest(*, model: MLModel, rows: list[dict]) -> dict:
    """Store a batch of prediction rows (the API's JSON shape) for ``model``.

    Returns ``{"accepted": int, "duplicates": int, "rejected": [{"index", "request_id",
    "errors"}], "quality": {feature: {"nulls"|"out_of_range": int, "unseen": {value: int}}
    or {"unknown": int} for keys not in the schema}}``. Quality counts cover stored rows only.
    A request is stored once per version: a (version, request_id) already stored (or
    repeated in the batch) is a duplicate, while another version's prediction for the same
    request_id (a shadow next to production) is stored alongside.
    """
    now_ns = time.time_ns()
    n = len(rows)
    errors = RowErrors(n)
    rows = check_rows_are_objects(rows, errors)
    request_ids = check_id([r.get("request_id") for r in rows], "request_id", errors, required=True)
    versions = _resolve_versions(model, [r.get("version") for r in rows], errors)
    timestamps = check_timestamps([r.get("timestamp") for r in rows], errors, now_ns=now_ns,
                                  max_future_s=settings.VIGIL_MAX_FUTURE_SECONDS)
    scores = check_number([r.get("score") for r in rows], "score", errors, required=True)
    if model.task == Task.BINARY:
        with np.errstate(invalid="ignore"):
            errors.flag((scores < 0) | (scores > 1), "score: must be between 0 and 1 for a binary model")
    ids = {name: check_id([r.get(name) for r in rows], name, errors, required=False)
           for name in ("entity_id", "item_id", "segment", "slate_id")}
    feats = check_feature_dicts([r.get("features") for r in rows], errors)
    predictions = [r.get("prediction") for r in rows]
    encoded = _encode_json(feats, predictions, errors)
    codes = [NULL if c is None else repr(c) for c in numeric_codes(predictions, model_classes(model=model))]

    groups = []
    for version in {id(v): v for v in versions if v is not None}.values():
        # Every row of the version is checked (even one already rejected), so reasons are complete.
        candidates = np.flatnonzero(np.fromiter((v is version for v in versions), dtype=bool, count=n))
        columns = check_features(version.features, [feats[i] for i in candidates], errors, candidates,
                                 limits=input_limits())
        groups.append((version, candidates, columns))
    ok = errors.ok_mask()
    first = _first_occurrences(request_ids, versions, ok)
    rejected = [
        {"index": i, "request_id": request_ids[i], "errors": reasons}
        for i, reasons in sorted(errors.by_row.items())
    ]
    if not ok.any():
        return {"accepted": 0, "duplicates": 0, "rejected": rejected, "quality": {}}

    received_ns = time.time_ns()
    with transaction.atomic():
        new_ids = _store(model, first, request_ids, versions, timestamps, encoded, codes, scores, ids, received_ns)
        quality: dict = {}
        accepted = 0
        for version, candidates, columns in groups:
            keep = first[candidates]
            stored = keep & np.fromiter(((request_ids[i], version.pk) in new_ids for i in candidates),
                                        dtype=bool, count=len(candidates))
            accepted += int(stored.sum())
            duplicate = ok[candidates] & ~stored
            if duplicate.any():
                hours, counts = np.unique(timestamps[candidates[duplicate]] // HOUR_NS, return_counts=True)
                sketch_count_duplicates(version=version, hour_counts=dict(zip(hours.tolist(), counts.tolist(),
                                                                               strict=True)))
            if not stored.any():
                continue
            quality_add(quality, columns, stored)
            index = candidates[stored]
            sketch_fold_predictions(version=version, batch=prediction_batch(
                index,
                request_ids=request_ids,
                timestamps=timestamps,
                scores=scores,
                segments=ids["segment"],
                predictions=predictions,
                features={name: values[stored] for name, values in columns.arrays.items()},
                entity_ids=ids["entity_id"],
                item_ids=ids["item_id"],
                slate_ids=ids["slate_id"],
                received_at_ns=received_ns,
            ))
            if model.task == Task.RANKING:
                slates_fold(model_id=model.pk, slate_ids=[ids["slate_id"][i] for i in index],
                            new_rows=frozenset(request_ids[i] for i in index))
    duplicates = int(ok.sum()) - accepted
    return {"accepted": accepted, "duplicates": duplicates, "rejected": rejected, "quality": quality_bound(quality, limit=settings.VIGIL_MAX_UNSEEN_CATEGORIES)}


def _first_occurrences(request_ids: list, versions: list, ok: np.ndarray) -> np.ndarray:
    """Mask of valid rows whose (request_id, version) has not appeared earlier in the batch."""
    first = np.zeros(len(ok), dtype=bool)
    seen: set[tuple[str, int]] = set()
    for i in np.flatnonzero(ok).tolist():
        key = (request_ids[i], versions[i].pk)
        if key not in seen:
            seen.add(key)
            first[i] = True
    return first


def _resolve_versions(model: MLModel, labels: list, errors: RowErrors) -> list[ModelVersion | None]:
    """Version label per row -> ModelVersion; rows without one go to the production version."""
    known = versions_by_label(model=model)
    default: ModelVersion | None = None
    if any(label is None for label in labels):
        production = version_production(model=model)
        default = known.get(production.version) if production else None
    out: list[ModelVersion | None] = []
    for i, label in enumerate(labels):
        if label is None:
            if default is None:
                errors.add(i, "version: not given and the model has no production version")
            out.append(default)
        elif type(label) is not str:
            errors.add(i, f"version: expected a string, got {type(label).__name__}")
            out.append(None)
        elif label not in known:
            errors.add(i, f"version: unknown version '{label[:100]}'")
            out.append(None)
        else:
            out.append(known[label])
    return out


def _encode_json(feats: list[dict], predictions: list, errors: RowErrors) -> list[tuple[str, str]]:
    """Features and prediction as JSON text escaped for COPY; NUL characters cannot be stored."""
    dumps = orjson.dumps
    features = [dumps(f).decode() for f in feats]
    preds = [NULL if p is None else dumps(p).decode() for p in predictions]
    for name, column, limit in (("features", features, settings.VIGIL_MAX_FEATURES_BYTES),
                                ("prediction", preds, settings.VIGIL_MAX_PREDICTION_BYTES)):
        sizes = np.fromiter(map(len, column), dtype=np.int64, count=len(column))
        errors.flag(sizes > limit, f"{name}: larger than {limit} characters as JSON")
    # Backslashes (JSON escapes) are rare: scan everything once, fix rows only when present.
    for name, column in (("features", features), ("prediction", preds)):
        if "\\" not in "".join(t for t in column if t is not NULL):
            continue
        for i, text in enumerate(column):
            if text is NULL:
                continue
            if "\\u0000" in text:
                errors.add(i, f"{name}: contains a NUL character (\\u0000), which cannot be stored")
            if "\\" in text:
                column[i] = text.replace("\\", "\\\\")
    return list(zip(features, preds, strict=True))


def _text(value: str | None) -> str:
    return NULL if value is None else value.translate(COPY_ESCAPES)


def _text_column(values: list) -> list[str]:
    """A column of str/None as COPY text; escaping only when some value needs it."""
    joined = "".join(v for v in values if v is not None)
    if any(c in joined for c in "\\\t\n\r"):
        return [_text(v) for v in values]
    return [NULL if v is None else v for v in values]


def _store(model, mask, request_ids, versions, timestamps, encoded, codes, scores, ids, received_ns) -> set:
    """Write the rows in ``mask`` that are not stored yet; returns the (request_id, version
    id) pairs written.

    Fast path, for the usual batch of new rows: COPY straight into the table. If any
    request_id is already stored (a retry, an overlapping batch, or a concurrent batch that
    won the race), the COPY hits the unique index and rolls back to its savepoint; the rows
    then go through the staging table with ON CONFLICT DO NOTHING, which tells exactly
    which ones are new. No lookup before the COPY: with two clients it cut the HTTP rate by
    30% (docs/architecture.md) and only helps the rare batch that holds duplicates.
    """
    # Sorted by the unique key (model, version, request_id): concurrent writers take
    # unique-index locks in one order.
    index = np.flatnonzero(mask).tolist()
    if len({id(versions[i]) for i in index}) == 1:
        index.sort(key=request_ids.__getitem__)
    else:
        index.sort(key=lambda i: (versions[i].pk, request_ids[i]))
    new_ids = [(request_ids[i], versions[i].pk) for i in index]
    lines = _copy_lines(index, request_ids, versions, timestamps, encoded, codes, scores, ids)
    received = str(np.datetime_as_string(np.datetime64(received_ns, "ns").astype("datetime64[us]"),
                                         unit="us", timezone="UTC"))
    suffix = f"\t{model.pk}\t{received}\n"
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():  # a savepoint: a failed COPY also undoes the set_config
                cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                               [COPY_LOCK_TIMEOUT])
                previous = cursor.fetchone()[0]
                cursor.copy_expert(COPY_DIRECT, io.BytesIO((suffix.join(lines) + suffix).encode()))
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
            return set(new_ids)
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.LockNotAvailable,
                psycopg2.errors.DeadlockDetected):
            pass
        cursor.execute(CREATE_TMP)
        cursor.copy_expert("COPY vigil_prediction_in FROM STDIN", io.BytesIO(("\n".join(lines) + "\n").encode()))
        cursor.execute(INSERT_NEW, [model.pk, received])
        stored = {(row[0], row[1]) for row in cursor.fetchall()}
        # The table empties at commit; inside a caller's transaction that commit is later.
        cursor.execute("DELETE FROM vigil_prediction_in")
        return stored


def _copy_lines(index, request_ids, versions, timestamps, encoded, codes, scores, ids) -> list[str]:
    stamps = np.datetime_as_string(
        timestamps[index].view("datetime64[ns]").astype("datetime64[us]"), unit="us", timezone="UTC"
    ).tolist()
    columns = [
        _text_column([request_ids[i] for i in index]),
        [str(versions[i].pk) for i in index],
        stamps,
        [encoded[i][0] for i in index],
        list(map(repr, scores[index].tolist())),
        [encoded[i][1] for i in index],
        *(_text_column([ids[name][i] for i in index]) for name in ("entity_id", "item_id", "segment")),
        ["t" if versions[i].serves_traffic else "f" for i in index],
        [codes[i] for i in index],
        _text_column([ids["slate_id"][i] for i in index]),
    ]
    return list(map("\t".join, zip(*columns, strict=True)))
