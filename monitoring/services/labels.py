"""Ingestion of labels (true outcomes): upsert by request_id, fold changes into the sketches."""

import io
import time

import numpy as np
import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.locks import LockSpace, advisory_lock
from monitoring.engine.batch import LabelChange
from monitoring.engine.coding import numeric_codes
from monitoring.engine.validation import (
    RowErrors,
    check_id,
    check_labels,
    check_rows_are_objects,
    check_timestamps,
)
from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Task
from monitoring.selectors.registry import model_classes
from monitoring.services.sketching import sketch_fold_labels
from monitoring.services.slates import slates_fold_labels

from .ingest import NULL, _text

CREATE_TMP = """
CREATE TEMP TABLE IF NOT EXISTS vigil_label_in (request_id text, value jsonb, "timestamp" timestamptz,
                                               value_code double precision)
ON COMMIT DELETE ROWS
"""
SELECT_OLD = """
SELECT l.request_id, l.value::text FROM monitoring_label l
JOIN vigil_label_in t ON t.request_id = l.request_id WHERE l.model_id = %s
"""
UPSERT = """
INSERT INTO monitoring_label (model_id, request_id, value, value_code, "timestamp", received_at, human_corrected)
SELECT %s, request_id, value, value_code, "timestamp", %s, %s FROM vigil_label_in ORDER BY request_id
ON CONFLICT (model_id, request_id) DO UPDATE SET value = EXCLUDED.value, value_code = EXCLUDED.value_code,
    "timestamp" = EXCLUDED."timestamp", received_at = EXCLUDED.received_at,
    human_corrected = EXCLUDED.human_corrected
"""
# A request predicted by several versions (production and shadow) matches once.
SELECT_MATCHED = """
SELECT count(*) FROM vigil_label_in t
WHERE EXISTS (SELECT 1 FROM monitoring_prediction p
               WHERE p.model_id = %s AND p.version_id = ANY(%s) AND p.request_id = t.request_id)
"""


def labels_ingest(*, model: MLModel, rows: list[dict], human_corrected: bool = False) -> dict:
    """Store labels ``{"request_id", "label", "timestamp" (optional, default now)}`` for ``model``.

    A later label for a request_id replaces the earlier one (within a batch the last wins).
    A label counts for every version that predicted the request (each version's sketches).
    Returns ``{"matched": labels whose prediction is stored, "pending": the others,
    "rejected": [{"index", "request_id", "errors"}]}``.
    """
    now_ns = time.time_ns()
    errors = RowErrors(len(rows))
    rows = check_rows_are_objects(rows, errors)
    request_ids = check_id([r.get("request_id") for r in rows], "request_id", errors, required=True)
    timestamps = check_timestamps([r.get("timestamp") for r in rows], errors, now_ns=now_ns,
                                  max_future_s=settings.VIGIL_MAX_FUTURE_SECONDS, required=False)
    classes = model_classes(model=model)
    values = check_labels([r.get("label") for r in rows], errors, task=model.task, classes=classes)
    rejected = [{"index": i, "request_id": request_ids[i], "errors": reasons}
                for i, reasons in sorted(errors.by_row.items())]
    last: dict[str, int] = {}
    for i in np.flatnonzero(errors.ok_mask()).tolist():
        last[request_ids[i]] = i
    if not last:
        return {"matched": 0, "pending": 0, "rejected": rejected}

    index = sorted(last.values())
    stamps = np.datetime_as_string(timestamps[index].view("datetime64[ns]").astype("datetime64[us]"), unit="us", timezone="UTC")
    codes = numeric_codes([values[i] for i in index], classes)
    lines = [
        f"{_text(request_ids[i])}\t{_json(values[i])}\t{stamp}\t{NULL if code is None else repr(code)}"
        for i, stamp, code in zip(index, stamps.tolist(), codes, strict=True)
    ]
    buffer = io.BytesIO(("\n".join(lines) + "\n").encode())
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        # Label writes of one model are serialised, so the "old value" read before the
        # upsert is exactly the value the upsert replaces.
        advisory_lock(LockSpace.LABEL_WRITE, model.pk)
        cursor.execute(CREATE_TMP)
        cursor.copy_expert("COPY vigil_label_in FROM STDIN", buffer)
        cursor.execute(SELECT_OLD, [model.pk])
        old = {rid: orjson.loads(text) for rid, text in cursor.fetchall()}
        cursor.execute(UPSERT, [model.pk, timezone.now(), human_corrected])
        versions = list(ModelVersion.objects.filter(model=model).values_list("pk", flat=True))
        cursor.execute(SELECT_MATCHED, [model.pk, versions])
        matched = cursor.fetchone()[0]
        if nested:
            # Inside a caller's transaction there is no commit yet to empty the table.
            cursor.execute("DELETE FROM vigil_label_in")
        sketch_fold_labels(model=model, changes=[
            LabelChange(request_ids[i], values[i], old.get(request_ids[i]), human_corrected)
            for i in index
        ])
        if model.task == Task.RANKING:
            slates_fold_labels(model_id=model.pk, old_labels={request_ids[i]: old.get(request_ids[i]) for i in index})
    return {"matched": matched, "pending": len(index) - matched, "rejected": rejected}


def _json(value) -> str:
    text = orjson.dumps(value).decode()
    return text.replace("\\", "\\\\") if "\\" in text else text
